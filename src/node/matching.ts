import { QueryError } from './errors.js';
import { matchWildcard } from './wildcard.js';

/**
 * One key of a C-FIND / C-MOVE / C-GET identifier as plain values.
 * `value` is in DICOM matching syntax (PS3.4 C.2.2.2); empty = universal matching
 * (the key is only asked to be returned). `items` holds the keys inside a sequence
 * (worklist: ScheduledProcedureStepSequence).
 */
export interface QueryKey {
  keyword: string;
  vr: string;
  value: string;
  items?: QueryKey[];
}

/** One alternative of a value matcher (a multi-valued key matches when any alternative does). */
export type MatchAlternative =
  | { kind: 'exact'; value: string | number }
  | { kind: 'wildcard'; pattern: string }
  | { kind: 'range'; lower?: string; upper?: string };

/**
 * A parsed key. `universal`: no constraint. `empty`: the value was `""` (PS3.4 C.2.2.2.1.1
 * "empty value matching": matches entities with no value). `values`: any alternative matches.
 */
export type Matcher =
  | { kind: 'universal' }
  | { kind: 'empty' }
  | { kind: 'values'; vr: string; alternatives: MatchAlternative[] };

/** VRs on which `*` and `?` are wildcards (PS3.4 C.2.2.2.4); on all others they are literal or invalid. */
const WILDCARD_VRS = new Set(['AE', 'CS', 'LO', 'LT', 'PN', 'SH', 'ST', 'UC', 'UT']);
/** VRs whose leading spaces are significant (PS3.5 6.2); on all others both ends are padding. */
const TRAILING_SPACE_ONLY_VRS = new Set(['PN', 'LT', 'ST', 'UT', 'UC']);
const INTEGER_VRS = new Set(['IS', 'SS', 'US', 'SL', 'UL', 'SV', 'UV']);
const DECIMAL_VRS = new Set(['DS', 'FL', 'FD']);

/**
 * Most characters one value of a key may hold, per VR (PS3.5 Table 6.2-1; PN: per component
 * group). DA, TM and DT values are bounded by their syntax; UC, UR and UT have no maximum.
 */
const MAX_VALUE_CHARS: Readonly<Record<string, number>> = {
  AE: 16,
  AS: 4,
  CS: 16,
  DS: 16,
  IS: 12,
  LO: 64,
  LT: 10240,
  PN: 64,
  SH: 16,
  ST: 1024,
  UI: 64,
};

/**
 * Most characters of one wildcard pattern, whatever its VR (the LO and PN maximum), and most
 * wildcard alternatives in one key. With them one stored value costs at most
 * 16 × 65 × (its length + 1) matcher steps.
 */
export const MAX_WILDCARD_CHARS = 64;
export const MAX_WILDCARD_ALTERNATIVES = 16;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function checkCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  if (day > (DAYS_IN_MONTH[month - 1] ?? 0)) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return !(month === 2 && day === 29 && !leap);
}

/** `YYYYMMDD` (the legacy `YYYY.MM.DD` is accepted) or undefined when not a valid date. */
export function normalizeDate(value: string): string | undefined {
  const v = value.trim();
  const m = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(v);
  if (!m) return undefined;
  const [, y, mo, d] = m as unknown as [string, string, string, string];
  return checkCalendarDate(Number(y), Number(mo), Number(d)) ? `${y}${mo}${d}` : undefined;
}

type Pad = 'low' | 'high';

/**
 * A time as fixed-width `HHMMSS.FFFFFF` so that text order is time order. A partial time
 * is padded with zeros (`low`, start of its span) or nines (`high`, an upper bound for
 * everything it covers). The legacy `HH:MM:SS` form is accepted.
 */
export function normalizeTime(value: string, pad: Pad = 'low'): string | undefined {
  const v = value.trim().replace(/:/g, '');
  const m = /^(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6}))?$/.exec(v);
  if (!m) return undefined;
  const [, hh, mm, ss, frac] = m;
  if (frac !== undefined && ss === undefined) return undefined;
  if (Number(hh) > 23 || (mm !== undefined && Number(mm) > 59) || (ss !== undefined && Number(ss) > 60))
    return undefined;
  const digits = `${hh}${mm ?? ''}${ss ?? ''}`;
  const filler = pad === 'low' ? '0' : '9';
  return `${digits.padEnd(6, filler)}.${(frac ?? '').padEnd(6, filler)}`;
}

/**
 * A date-time as fixed-width `YYYYMMDDHHMMSS.FFFFFF`, padded like {@link normalizeTime}.
 * A UTC offset suffix is validated and then ignored: values are compared as written.
 */
export function normalizeDateTime(value: string, pad: Pad = 'low'): string | undefined {
  const v = value.trim();
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?([+-]\d{4})?$/.exec(v);
  if (!m) return undefined;
  const [, yyyy, mo, dd, hh, mi, ss, frac, offset] = m;
  if (frac !== undefined && ss === undefined) return undefined;
  if (mo !== undefined && (Number(mo) < 1 || Number(mo) > 12)) return undefined;
  if (dd !== undefined && !checkCalendarDate(Number(yyyy), Number(mo), Number(dd))) return undefined;
  if (hh !== undefined && Number(hh) > 23) return undefined;
  if (mi !== undefined && Number(mi) > 59) return undefined;
  if (ss !== undefined && Number(ss) > 60) return undefined;
  if (offset !== undefined && (Number(offset.slice(1, 3)) > 14 || Number(offset.slice(3)) > 59))
    return undefined;
  const digits = `${yyyy}${mo ?? ''}${dd ?? ''}${hh ?? ''}${mi ?? ''}${ss ?? ''}`;
  if (pad === 'low') {
    const base = `${yyyy}${mo ?? '01'}${dd ?? '01'}`;
    return `${(base + digits.slice(8)).padEnd(14, '0')}.${(frac ?? '').padEnd(6, '0')}`;
  }
  return `${digits.padEnd(14, '9')}.${(frac ?? '').padEnd(6, '9')}`;
}

/**
 * Person names are matched case-insensitively on their first (alphabetic) component
 * group, with trailing empty components dropped: `Doe^John^^` and `DOE^JOHN` are the same.
 * This is what most archives do (dcm4chee, Orthanc); the standard leaves PN case to the SCP.
 */
export function normalizePersonName(value: string): string {
  const alphabetic = value.split('=')[0] ?? '';
  return alphabetic
    .trim()
    .replace(/[\^ ]+$/, '')
    .toUpperCase();
}

/** Storage form of a value of `vr` for comparison (what index columns hold). */
export function normalizeForMatching(vr: string, value: string): string | undefined {
  switch (vr) {
    case 'DA':
      return normalizeDate(value);
    case 'TM':
      return normalizeTime(value, 'low');
    case 'DT':
      return normalizeDateTime(value, 'low');
    case 'PN':
      return normalizePersonName(value);
    default:
      return value.trim();
  }
}

/**
 * The error of a malformed key. It names the key and what is wrong, never the value: the
 * message reaches the log, the audit trail and the Error Comment, and a query value is
 * PHI (a birth date, a name).
 */
function invalid(key: QueryKey, why: string): QueryError {
  return new QueryError('ERR_QUERY_INVALID', `query key ${key.keyword} (${key.vr}): ${why}`, key.keyword);
}

function parseRangeSide(key: QueryKey, vr: string, side: string, pad: Pad): string | undefined {
  if (side === '') return undefined;
  const normalized =
    vr === 'DA' ? normalizeDate(side) : vr === 'TM' ? normalizeTime(side, pad) : normalizeDateTime(side, pad);
  if (normalized === undefined) throw invalid(key, `not a valid ${vr} value`);
  return normalized;
}

function parseTemporal(key: QueryKey, vr: string, value: string): MatchAlternative {
  const dashes: number[] = [];
  for (let i = value.indexOf('-'); i >= 0; i = value.indexOf('-', i + 1)) dashes.push(i);
  if (dashes.length > 0) {
    if (vr !== 'DT') {
      if (dashes.length > 1) throw invalid(key, 'a range has exactly one "-"');
      const at = dashes[0] as number;
      return rangeOf(key, vr, value.slice(0, at), value.slice(at + 1));
    }
    // DT values may end in a negative UTC offset ("…-0500"): take the first '-' that splits
    // the text into a valid range, else read it as one value with an offset.
    for (const at of dashes) {
      try {
        return rangeOf(key, vr, value.slice(0, at), value.slice(at + 1));
      } catch {
        // not a range split; try the next '-'
      }
    }
  }
  if (vr === 'DA') {
    const d = normalizeDate(value);
    if (d === undefined) throw invalid(key, 'not a valid DA value (YYYYMMDD)');
    return { kind: 'exact', value: d };
  }
  // A single TM/DT value stands for the whole span it covers: "1030" matches 10:30:00-10:30:59.
  const lower = parseRangeSide(key, vr, value, 'low');
  const upper = parseRangeSide(key, vr, value, 'high');
  return { kind: 'range', lower, upper };
}

function rangeOf(key: QueryKey, vr: string, from: string, to: string): MatchAlternative {
  if (from === '' && to === '') throw invalid(key, 'a range needs at least one bound');
  const lower = parseRangeSide(key, vr, from, 'low');
  const upper = parseRangeSide(key, vr, to, 'high');
  // TM is exempt: with combined date-time matching "2200-0600" is a night shift.
  if (vr !== 'TM' && lower !== undefined && upper !== undefined && lower > upper)
    throw invalid(key, 'the range lower bound is after its upper bound');
  return { kind: 'range', lower, upper };
}

/** A refusal naming the key and the bound, never the value (it may be PHI). */
function tooLong(key: QueryKey, vr: string, why: string): QueryError {
  return new QueryError('ERR_QUERY_INVALID', `query key ${key.keyword} (${vr}): ${why}`, key.keyword);
}

function charCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Refuse a value longer than its VR allows (PS3.5 6.2), checked on each value of a list. */
function checkLengths(key: QueryKey, vr: string, values: readonly string[]): void {
  const max = MAX_VALUE_CHARS[vr];
  if (max === undefined) return;
  for (const value of values) {
    const parts = vr === 'PN' ? value.split('=') : [value];
    for (const part of parts) {
      // a UTF-16 length within the bound is a code point count within it too
      if (part.length <= max) continue;
      const n = charCount(part);
      if (n > max)
        throw tooLong(
          key,
          vr,
          `a value of ${n} characters is longer than the ${max} its VR allows${vr === 'PN' ? ' per component group' : ''}`,
        );
    }
  }
}

/** True when the DICOM pattern has a `*` or `?` that makes it a wildcard match. */
function hasWildcard(value: string): boolean {
  return value.includes('*') || value.includes('?');
}

/**
 * Parse one key's value into a {@link Matcher} (PS3.4 C.2.2.2), validating it.
 * Throws {@link QueryError} on a malformed value.
 */
export function parseMatcher(key: QueryKey, vr: string = key.vr): Matcher {
  if (typeof key.value !== 'string') throw invalid(key, 'value must be a string');
  const raw = TRAILING_SPACE_ONLY_VRS.has(vr) ? key.value.replace(/ +$/, '') : key.value.trim();
  if (raw === '') return { kind: 'universal' };
  if (raw === '""') return { kind: 'empty' };
  if (vr === 'SQ') throw invalid(key, 'sequence matching takes its keys in items');
  const values = raw.split('\\');
  checkLengths(key, vr, values);
  // A lone '*' (or '**'…) is universal matching (C.2.2.2.4), also for values that are absent.
  if (/^\*+$/.test(raw) && WILDCARD_VRS.has(vr)) return { kind: 'universal' };
  const alternatives: MatchAlternative[] = [];
  let wildcards = 0;
  for (const one of values) {
    const v = TRAILING_SPACE_ONLY_VRS.has(vr) ? one.replace(/ +$/, '') : one.trim();
    if (v === '') continue;
    if (vr === 'DA' || vr === 'TM' || vr === 'DT') {
      if (values.length > 1) throw invalid(key, `multiple values are not allowed for ${vr}`);
      alternatives.push(parseTemporal(key, vr, v));
    } else if (vr === 'UI') {
      if (hasWildcard(v)) throw invalid(key, 'wildcards are not allowed in UIDs');
      if (!/^[0-9]+(\.[0-9]+)*$/.test(v) || v.length > 64) throw invalid(key, 'not a valid UID');
      alternatives.push({ kind: 'exact', value: v });
    } else if (INTEGER_VRS.has(vr)) {
      if (!/^[+-]?\d+$/.test(v)) throw invalid(key, 'not an integer');
      alternatives.push({ kind: 'exact', value: Number(v) });
    } else if (DECIMAL_VRS.has(vr)) {
      if (!Number.isFinite(Number(v))) throw invalid(key, 'not a number');
      alternatives.push({ kind: 'exact', value: Number(v) });
    } else if (WILDCARD_VRS.has(vr)) {
      const norm = vr === 'PN' ? normalizePersonName(v) : v;
      if (!hasWildcard(norm)) {
        alternatives.push({ kind: 'exact', value: norm });
        continue;
      }
      if (charCount(norm) > MAX_WILDCARD_CHARS)
        throw tooLong(key, vr, `a wildcard pattern may hold at most ${MAX_WILDCARD_CHARS} characters`);
      if (++wildcards > MAX_WILDCARD_ALTERNATIVES)
        throw tooLong(key, vr, `at most ${MAX_WILDCARD_ALTERNATIVES} wildcard values per key`);
      alternatives.push({ kind: 'wildcard', pattern: norm });
    } else {
      alternatives.push({ kind: 'exact', value: v });
    }
  }
  if (alternatives.length === 0) return { kind: 'universal' };
  return { kind: 'values', vr, alternatives };
}

/**
 * Translate a DICOM wildcard pattern to an SQLite GLOB pattern. DICOM has no escape
 * character, so `*` and `?` are always wildcards; the only GLOB metacharacter left to
 * neutralise is `[` (written as the set `[[]`). GLOB is case-sensitive, which is what
 * DICOM wants for every VR except PN (whose columns and patterns are upper-cased first).
 */
export function dicomWildcardToGlob(pattern: string): string {
  return pattern.replace(/\[/g, '[[]');
}

/**
 * Translation of a DICOM wildcard pattern to a whole-string regular expression.
 * @deprecated A reference for tests only: the expression backtracks, and `*?*?…x` takes
 * exponential time. Match with {@link matchWildcard}, which is linear in pattern × value.
 */
export function dicomWildcardToRegExp(pattern: string): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '[\\s\\S]*';
    else if (ch === '?') source += '[\\s\\S]';
    else source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
}

/**
 * SQL condition for `expr` under `matcher`, pushing bound parameters onto `params`
 * (values never enter the SQL text). Returns undefined for universal matching.
 */
/** SQL dialect a condition is written for: SQLite (GLOB) or PostgreSQL (LIKE). */
export type SqlDialect = 'sqlite' | 'postgres';

/**
 * Translate a DICOM wildcard pattern to a PostgreSQL LIKE pattern (default escape `\`):
 * `%`, `_` and `\` are escaped, then `*` becomes `%` and `?` becomes `_`. LIKE is
 * case-sensitive and, on the index's `COLLATE "C"` columns, compares bytes as GLOB does.
 */
export function dicomWildcardToLike(pattern: string): string {
  let out = '';
  for (const ch of pattern) {
    if (ch === '*') out += '%';
    else if (ch === '?') out += '_';
    else if (ch === '%' || ch === '_' || ch === '\\') out += `\\${ch}`;
    else out += ch;
  }
  return out;
}

export function matcherToSql(
  expr: string,
  matcher: Matcher,
  params: unknown[],
  dialect: SqlDialect = 'sqlite',
): string | undefined {
  if (matcher.kind === 'universal') return undefined;
  if (matcher.kind === 'empty') return `(${expr} IS NULL OR ${expr} = '')`;
  const exact: (string | number)[] = [];
  for (const alt of matcher.alternatives) if (alt.kind === 'exact') exact.push(alt.value);
  const ors: string[] = [];
  if (exact.length === 1) ors.push(`${expr} = ?`);
  else if (exact.length > 1) ors.push(`${expr} IN (${exact.map(() => '?').join(', ')})`);
  params.push(...exact);
  for (const alt of matcher.alternatives) {
    if (alt.kind === 'wildcard') {
      if (dialect === 'postgres') {
        ors.push(`${expr} LIKE ?`);
        params.push(dicomWildcardToLike(alt.pattern));
      } else {
        ors.push(`${expr} GLOB ?`);
        params.push(dicomWildcardToGlob(alt.pattern));
      }
    } else if (alt.kind === 'range') {
      const parts: string[] = [];
      if (alt.lower !== undefined) {
        parts.push(`${expr} >= ?`);
        params.push(alt.lower);
      }
      if (alt.upper !== undefined) {
        parts.push(`${expr} <= ?`);
        params.push(alt.upper);
      }
      ors.push(`(${parts.join(' AND ')})`);
    }
  }
  return ors.length === 1 ? (ors[0] as string) : `(${ors.join(' OR ')})`;
}

/** The test of one attribute's stored values against a matcher, see {@link compileMatcher}. */
export type ValuesTest = (stored: readonly string[]) => boolean;

/**
 * Compile a matcher for in-memory matching (worklist items): exact values go into a set,
 * wildcards use {@link matchWildcard}. `stored` are raw DICOM string values; a multi-valued
 * attribute matches when any value does.
 */
export function compileMatcher(matcher: Matcher): ValuesTest {
  if (matcher.kind === 'universal') return () => true;
  if (matcher.kind === 'empty') return (stored) => stored.every((s) => s.trim() === '');
  const { vr } = matcher;
  const numeric = INTEGER_VRS.has(vr) || DECIMAL_VRS.has(vr);
  const exact = new Set<string | number>();
  const patterns: string[] = [];
  const ranges: { lower?: string; upper?: string }[] = [];
  for (const alt of matcher.alternatives) {
    if (alt.kind === 'exact') exact.add(alt.value);
    else if (alt.kind === 'wildcard') patterns.push(alt.pattern);
    else ranges.push(alt);
  }
  return (stored) => {
    for (const s of stored) {
      if (s.trim() === '') continue;
      const norm = numeric ? Number(s) : normalizeForMatching(vr, s);
      if (norm === undefined) continue;
      if (exact.has(norm)) return true;
      if (typeof norm !== 'string') continue;
      for (const pattern of patterns) if (matchWildcard(pattern, norm)) return true;
      for (const { lower, upper } of ranges)
        if ((lower === undefined || norm >= lower) && (upper === undefined || norm <= upper)) return true;
    }
    return false;
  };
}

/**
 * Evaluate a matcher against the stored values of one attribute in memory (tests; the
 * worklist compiles its keys once with {@link compileMatcher}). `stored` are raw DICOM
 * string values; a multi-valued attribute matches when any value does.
 */
export function matchesValues(matcher: Matcher, stored: readonly string[]): boolean {
  return compileMatcher(matcher)(stored);
}
