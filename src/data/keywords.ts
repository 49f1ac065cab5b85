import { Dataset, resolveTag } from './dataset.js';
import { implicitVR, lookupKeyword, lookupTag } from './dictionary.js';
import { DicomParseError } from './errors.js';
import { formatTag, parseTag, type Tag } from './tag.js';

/** A `-k KEY[=VALUE]` argument: a path of tags (sequences separated by `.`) and an optional value. */
export interface KeyArgument {
  /**
   * The key as {@link datasetFromKeywords} takes it: the dictionary keyword (`PatientID`) when the
   * attribute is known, `gggg,eeee` when not, and a `.`-joined path for nested keys.
   */
  keyword: string;
  /** Tags from the outermost sequence down to the attribute. */
  path: Tag[];
  /** Value; empty when no `=` was given (a universal match / return key). */
  value: string;
  /** True when `=` was given. */
  hasValue: boolean;
}

function tagOf(part: string, arg: string): Tag {
  const byTag = parseTag(part);
  if (byTag !== undefined) return byTag;
  const entry = lookupKeyword(part);
  if (!entry) {
    throw new DicomParseError(
      'ERR_UNKNOWN_KEYWORD',
      `-k ${arg}: unknown attribute keyword or tag ${JSON.stringify(part)}`,
    );
  }
  return entry.tag;
}

/**
 * Parse a DCMTK-style key: `PatientID=12*`, `0010,0020=12*`, `(0010,0020)`, or a nested
 * `ReferencedStudySequence[0].StudyInstanceUID=1.2` / `0008,1110.0020,000D` path.
 */
export function parseKeyArgument(arg: string): KeyArgument {
  const eq = arg.indexOf('=');
  const key = eq < 0 ? arg : arg.slice(0, eq);
  const value = eq < 0 ? undefined : arg.slice(eq + 1);
  const parts = key
    .split('.')
    .map((p) => p.trim().replace(/\[\d+\]$/, ''))
    .filter((p) => p !== '');
  if (parts.length === 0) throw new DicomParseError('ERR_UNKNOWN_KEYWORD', `-k ${arg}: empty key`);
  const path = parts.map((p) => tagOf(p, arg));
  const names = path.map((t) => lookupTag(t)?.keyword ?? formatTag(t).slice(1, -1));
  return { keyword: names.join('.'), path, value: value ?? '', hasValue: value !== undefined };
}

/** Apply a parsed key to a data set (creating sequence items on the way). */
export function applyKeyArgument(ds: Dataset, key: KeyArgument): void {
  let target = ds;
  for (const tag of key.path.slice(0, -1)) {
    let items = target.getSequence(tag);
    if (!items) {
      target.set(tag, [new Dataset(target)], 'SQ');
      items = target.getSequence(tag)!;
    }
    if (items.length === 0) items.push(new Dataset(target));
    target = items[0]!;
  }
  const last = key.path[key.path.length - 1]!;
  if (implicitVR(last) === 'SQ') {
    if (!target.has(last)) target.set(last, [], 'SQ');
    return;
  }
  target.set(last, key.value);
}

/**
 * Build a data set from keyword (or `gggg,eeee`) → string values, VRs from the dictionary:
 * `datasetFromKeywords({ QueryRetrieveLevel: 'STUDY', PatientID: '123*', StudyDate: '' })`.
 */
export function datasetFromKeywords(values: Record<string, string | readonly string[] | undefined>): Dataset {
  const ds = new Dataset();
  for (const [k, v] of Object.entries(values)) {
    if (k.includes('.')) {
      applyKeyArgument(
        ds,
        parseKeyArgument(v === undefined ? k : `${k}=${Array.isArray(v) ? v.join('\\') : v}`),
      );
      continue;
    }
    const tag = resolveTag(k);
    if (implicitVR(tag) === 'SQ') ds.set(tag, [], 'SQ');
    else ds.set(tag, v === undefined ? '' : (v as string | string[]));
  }
  return ds;
}
