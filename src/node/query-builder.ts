import { QueryError } from './errors.js';
import { matcherToSql, parseMatcher, type QueryKey, type SqlDialect } from './matching.js';
import {
  depth,
  INDEXED_ATTRIBUTES,
  LEVEL_ALIAS,
  type QueryLevel,
  type QueryModel,
  levelIn,
  levelsOf,
  UNIQUE_KEY,
} from './query-attributes.js';

/** One returned column: the keyword it answers and the SQL alias it is read from (or a constant). */
export interface OutputColumn {
  keyword: string;
  /** Column alias in the result row; undefined = a constant value. */
  alias?: string;
  constant?: string;
}

export interface BuiltQuery {
  sql: string;
  params: unknown[];
  columns: OutputColumn[];
}

/**
 * A C-FIND read in keyset pages: `pageSql` takes `params` followed by the last primary key
 * seen (0 first) and the page size, and returns that key as column `pk_`. Each page is a
 * short statement of its own, so the connection is free between pages (stores go on during a
 * long query) and memory stays one page whatever matches.
 */
export interface PagedQuery extends BuiltQuery {
  pageSql: string;
}

const JOINS: Record<QueryLevel, string> = {
  PATIENT: 'patient p',
  STUDY: 'JOIN study st ON st.patient_fk = p.pk',
  SERIES: 'JOIN series se ON se.study_fk = st.pk',
  IMAGE: 'JOIN instance i ON i.series_fk = se.pk',
};

/** Keys that describe the query rather than an attribute to match. */
const CONTROL_KEYWORDS = new Set(['QueryRetrieveLevel', 'SpecificCharacterSet']);

/** Check model and level; a Study Root query has no PATIENT level. */
export function checkLevel(model: QueryModel, level: string): QueryLevel {
  if (model !== 'patient' && model !== 'study')
    throw new QueryError(
      'ERR_QUERY_INVALID',
      `query: unknown information model ${JSON.stringify(model)} (patient or study)`,
    );
  const levels = levelsOf(model);
  if (!(levels as readonly string[]).includes(level))
    throw new QueryError(
      'ERR_QUERY_INVALID',
      `query: QueryRetrieveLevel is not a level of the ${model} root model (${levels.join(', ')})`,
      'QueryRetrieveLevel',
    );
  return level as QueryLevel;
}

function fromClause(deepest: QueryLevel): string {
  const parts: string[] = [];
  for (let d = 0; d <= depth(deepest); d++)
    parts.push(JOINS[['PATIENT', 'STUDY', 'SERIES', 'IMAGE'][d] as QueryLevel]);
  return parts.join(' ');
}

/**
 * WHERE conditions for the keys at or above `level` (PS3.4 C.2.2.2). Keys below the
 * level and keys the index does not hold are not matched (their values are ignored):
 * the standard lets an SCP skip keys it does not support, and a finer-level key has no
 * single value per entity of the query level. Non-unique keys above the level are
 * matched, as dcm4chee and Orthanc do, which is what SCUs sending PatientName at STUDY
 * level in Patient Root expect.
 */
function conditions(
  model: QueryModel,
  level: QueryLevel,
  keys: readonly QueryKey[],
  params: unknown[],
  options: FindOptions = {},
): string[] {
  const dialect = options.dialect ?? 'sqlite';
  const where: string[] = [];
  const combined = options.combinedDateTime ? combinedStudyDateTime(keys, params) : undefined;
  if (combined !== undefined) where.push(combined);
  for (const key of keys) {
    if (CONTROL_KEYWORDS.has(key.keyword)) continue;
    if (combined !== undefined && (key.keyword === 'StudyDate' || key.keyword === 'StudyTime')) continue;
    const attribute = INDEXED_ATTRIBUTES.get(key.keyword);
    if (attribute === undefined || depth(levelIn(model, attribute)) > depth(level)) continue;
    const matcher = parseMatcher(key, attribute.vr);
    if (attribute.viaSeriesModality) {
      if (matcher.kind === 'empty') {
        where.push("NOT EXISTS (SELECT 1 FROM series mx WHERE mx.study_fk = st.pk AND mx.modality <> '')");
        continue;
      }
      const inner = matcherToSql('mx.modality', matcher, params, dialect);
      if (inner !== undefined)
        where.push(`EXISTS (SELECT 1 FROM series mx WHERE mx.study_fk = st.pk AND ${inner})`);
      continue;
    }
    const condition = matcherToSql(attribute.match ?? attribute.select, matcher, params, dialect);
    if (condition !== undefined) where.push(condition);
  }
  return where;
}

/** Options of a C-FIND, from extended negotiation (PS3.4 C.5.1). */
export interface FindOptions {
  /**
   * Combined date and time range matching (PS3.4 C.2.2.2.5, negotiated by the SCU):
   * StudyDate `20240105-20240107` with StudyTime `1000-1800` means from 2024-01-05 10:00
   * to 2024-01-07 18:00, not "10:00-18:00 on each of those days".
   */
  combinedDateTime?: boolean;
  /** The SQL dialect to write (default SQLite). */
  dialect?: SqlDialect;
}

/**
 * The combined StudyDate + StudyTime condition, or undefined when the keys do not call
 * for one (either key universal, empty-value or multi-valued: then each matches alone).
 */
function combinedStudyDateTime(keys: readonly QueryKey[], params: unknown[]): string | undefined {
  const dateKey = keys.find((k) => k.keyword === 'StudyDate');
  const timeKey = keys.find((k) => k.keyword === 'StudyTime');
  if (dateKey === undefined || timeKey === undefined) return undefined;
  const date = parseMatcher(dateKey, 'DA');
  const time = parseMatcher(timeKey, 'TM');
  if (date.kind !== 'values' || time.kind !== 'values') return undefined;
  const [d] = date.alternatives;
  const [t] = time.alternatives;
  if (d === undefined || t === undefined || t.kind !== 'range') return undefined;
  const dateLow = d.kind === 'exact' ? String(d.value) : d.kind === 'range' ? d.lower : undefined;
  const dateHigh = d.kind === 'exact' ? String(d.value) : d.kind === 'range' ? d.upper : undefined;
  const stamp = "(st.study_date || COALESCE(st.study_time_norm, '000000.000000'))";
  const parts: string[] = [];
  // The plain date bounds repeat the combined ones so the study_date index narrows the scan.
  if (dateLow !== undefined) {
    parts.push('st.study_date >= ?', `${stamp} >= ?`);
    params.push(dateLow, dateLow + (t.lower ?? '000000.000000'));
  }
  if (dateHigh !== undefined) {
    parts.push('st.study_date <= ?', `${stamp} <= ?`);
    params.push(dateHigh, dateHigh + (t.upper ?? '999999.999999'));
  }
  return parts.length === 0 ? undefined : `(${parts.join(' AND ')})`;
}

/** SQL for a C-FIND at `level`: one row per entity of that level, with the keys to return. */
export function buildFindQuery(
  model: QueryModel,
  level: QueryLevel,
  keys: readonly QueryKey[],
  options: FindOptions = {},
): PagedQuery {
  checkLevel(model, level);
  const params: unknown[] = [];
  const where = conditions(model, level, keys, params, options);

  const columns: OutputColumn[] = [];
  const selects: string[] = [];
  const seen = new Set<string>();
  const addColumn = (keyword: string, expr: string) => {
    if (seen.has(keyword)) return;
    seen.add(keyword);
    const alias = `c${selects.length}`;
    selects.push(`${expr} AS ${alias}`);
    columns.push({ keyword, alias });
  };
  const addConstant = (keyword: string, constant: string) => {
    if (seen.has(keyword)) return;
    seen.add(keyword);
    columns.push({ keyword, constant });
  };

  const charset =
    level === 'IMAGE'
      ? 'COALESCE(i.charset, st.charset, p.charset)'
      : level === 'PATIENT'
        ? 'p.charset'
        : 'COALESCE(st.charset, p.charset)';
  addColumn('SpecificCharacterSet', charset);
  for (const key of keys) {
    if (key.keyword === 'QueryRetrieveLevel') {
      addConstant('QueryRetrieveLevel', level);
      continue;
    }
    if (key.keyword === 'SpecificCharacterSet') continue;
    const attribute = INDEXED_ATTRIBUTES.get(key.keyword);
    if (attribute === undefined || depth(levelIn(model, attribute)) > depth(level))
      addConstant(key.keyword, '');
    else addColumn(key.keyword, attribute.select);
  }
  for (const l of levelsOf(model)) {
    if (depth(l) > depth(level)) break;
    const unique = INDEXED_ATTRIBUTES.get(UNIQUE_KEY[l]);
    if (unique) addColumn(unique.keyword, unique.select);
  }

  const pk = `${LEVEL_ALIAS[level]}.pk`;
  const head = `SELECT ${selects.join(', ')}, ${pk} AS pk_ FROM ${fromClause(level)}`;
  const sql = head + (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') + ` ORDER BY ${pk}`;
  const pageSql = `${head} WHERE ${[...where, `${pk} > ?`].join(' AND ')} ORDER BY ${pk} LIMIT ?`;
  return { sql, pageSql, params, columns };
}

/** "Identifier does not match SOP Class" (PS3.4 C.4.2.1.5, C.4.3.1.4). */
const IDENTIFIER_DOES_NOT_MATCH = 0xa900;

/**
 * The keys of a C-MOVE / C-GET identifier select by single values or lists of UIDs, never by
 * wildcards or ranges (PS3.4 C.4.2.2.1, C.4.3.2.1): a wildcard is refused with 0xA900 on every
 * key (an empty value, the key not used, is fine), and the Patient ID holds one value. The
 * message names the key, never its value.
 */
function checkRetrieveKey(key: QueryKey): void {
  if (CONTROL_KEYWORDS.has(key.keyword) || key.items !== undefined) return;
  const value = key.value.trim();
  if (value === '') return;
  const refuse = (why: string) =>
    new QueryError(
      'ERR_QUERY_INVALID',
      `retrieve key ${key.keyword}: ${why} (PS3.4 C.4.2.2.1)`,
      key.keyword,
      IDENTIFIER_DOES_NOT_MATCH,
    );
  if (value.includes('*') || value.includes('?'))
    throw refuse('wildcards are not allowed in a C-MOVE / C-GET identifier');
  const vr = INDEXED_ATTRIBUTES.get(key.keyword)?.vr ?? key.vr;
  if ((vr === 'DA' || vr === 'TM') && value.includes('-'))
    throw refuse('ranges are not allowed in a C-MOVE / C-GET identifier');
  if (key.keyword === UNIQUE_KEY.PATIENT && value.includes('\\'))
    throw refuse('a C-MOVE / C-GET identifier holds one Patient ID');
}

/**
 * SQL listing the instances a C-MOVE / C-GET at `level` designates. The unique key of
 * the level must be given with a value (PS3.4 C.4.2.2.1): a retrieve never means "everything".
 */
export function buildRetrieveQuery(
  model: QueryModel,
  level: QueryLevel,
  keys: readonly QueryKey[],
  dialect: SqlDialect = 'sqlite',
): BuiltQuery {
  checkLevel(model, level);
  for (const key of keys) checkRetrieveKey(key);
  const uniqueKeyword = UNIQUE_KEY[level];
  const unique = keys.find((k) => k.keyword === uniqueKeyword);
  if (unique === undefined || unique.value.trim() === '' || unique.value.trim() === '*')
    throw new QueryError(
      'ERR_QUERY_INVALID',
      `retrieve at ${level} level: ${uniqueKeyword} must be given a value`,
      uniqueKeyword,
    );
  const params: unknown[] = [];
  const where = conditions(model, level, keys, params, { dialect });
  // quoted aliases: PostgreSQL folds unquoted ones to lower case
  const sql =
    'SELECT i.path AS "path", i.sop_class_uid AS "sopClassUid", i.sop_uid AS "sopInstanceUid",' +
    ' i.transfer_syntax AS "transferSyntaxUid", st.study_uid AS "studyInstanceUid",' +
    ' se.series_uid AS "seriesInstanceUid", p.patient_id AS "patientId", p.issuer AS "issuerOfPatientId",' +
    ' p.patient_name AS "patientName"' +
    ` FROM ${fromClause('IMAGE')}` +
    (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '') +
    ' ORDER BY i.pk';
  return { sql, params, columns: [] };
}
