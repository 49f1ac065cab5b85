import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve as resolvePath } from 'node:path';
import { decodeText } from './charset.js';
import {
  type BulkDataRef,
  type DataElement,
  Dataset,
  decodeNumbers,
  isBulkRef,
  isEncapsulated,
} from './dataset.js';
import { DicomParseError } from './errors.js';
import { parseTag, type Tag, Tags, tagHex } from './tag.js';
import {
  binaryWordSize,
  isSingleValuedTextVR,
  isStringVR,
  isVR,
  paddingByte,
  usesCharacterSet,
  type VR,
} from './vr.js';

/** A PN value in the DICOM JSON model (PS3.18 F.2.2). */
export interface JsonPersonName {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

/** One attribute in the DICOM JSON model. */
export interface JsonAttribute {
  vr: string;
  Value?: (string | number | null | JsonPersonName | JsonDataset)[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

/** A data set in the DICOM JSON model: attributes keyed by 8-digit upper-case hex tag. */
export type JsonDataset = { [tag: string]: JsonAttribute };

/** Options of {@link datasetToJson}. */
export interface ToJsonOptions {
  /** URI for a value left in a file (default `file://PATH?offset=N&length=N`); return undefined to inline it. */
  bulkDataUri?: (ref: BulkDataRef, element: DataElement) => string | undefined;
  /** Write SV/UV as strings always (DCMTK's dcm2json does; default false: numbers when safe). */
  int64AsString?: boolean;
  /**
   * Replace (0008,0005) by `ISO_IR 192`, since JSON text is Unicode (DCMTK's dcm2json does this).
   * Default true.
   */
  rewriteCharacterSet?: boolean;
  /**
   * Read the bytes of a bulk reference to inline them when `bulkDataUri` returns undefined
   * (e.g. {@link readBulkData}); without it, BulkDataURI is always used.
   */
  readBulk?: (ref: BulkDataRef, vr: VR) => Buffer;
}

/** `file://` URI of a bulk reference with its byte range. */
export function fileBulkDataUri(ref: BulkDataRef): string {
  return `file://${encodeURI(ref.file)}?offset=${ref.offset}&length=${ref.length}`;
}

function parseIntegerString(s: string): number | string {
  const n = Number(s);
  return Number.isFinite(n) ? n : s;
}

function personName(text: string): JsonPersonName | null {
  if (text === '') return null;
  const [a, i, p] = text.split('=');
  const out: JsonPersonName = {};
  // a component group of nothing but component delimiters (`^^^^`) is empty (as dcm2json has it)
  const clean = (s: string | undefined) => {
    const t = (s ?? '').replace(/ +$/, '');
    return /^\^*$/.test(t) ? '' : t;
  };
  if (clean(a) !== '') out.Alphabetic = clean(a);
  if (clean(i) !== '') out.Ideographic = clean(i);
  if (clean(p) !== '') out.Phonetic = clean(p);
  return out.Alphabetic === undefined && out.Ideographic === undefined && out.Phonetic === undefined
    ? null
    : out;
}

function textValues(ds: Dataset, el: DataElement, bytes: Buffer): string[] {
  const text = usesCharacterSet(el.vr)
    ? decodeText(bytes, ds.characterSet(), el.vr)
    : bytes.toString('latin1');
  const parts = isSingleValuedTextVR(el.vr) ? [text] : text.split('\\');
  // only the padding the VR defines goes (PS3.5 6.2): a NUL in a text value is a byte of it
  return parts.map((p) => {
    if (el.vr === 'UI') return p.replace(/[\0 ]+$/, '');
    if (isSingleValuedTextVR(el.vr)) return p.replace(/ +$/, '');
    return p.replace(/^ +/, '').replace(/ +$/, '');
  });
}

/** A single value that is empty (after its padding) is no value at all: no `Value` in DICOM JSON. */
function onlyEmpty(values: readonly unknown[]): boolean {
  return values.length === 1 && values[0] === null;
}

function numberFor(vr: VR, v: number | bigint, int64AsString: boolean): number | string {
  if (typeof v === 'bigint') {
    if (!int64AsString && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER))
      return Number(v);
    return v.toString();
  }
  // FL is a 32-bit float: 9 significant digits identify it (as DCMTK prints it)
  if (vr === 'FL') return Number(v.toPrecision(9));
  return v;
}

function elementToJson(ds: Dataset, el: DataElement, options: ToJsonOptions): JsonAttribute {
  const out: JsonAttribute = { vr: el.vr };
  const v = el.value;
  if (Array.isArray(v)) {
    if (v.length > 0) out.Value = v.map((item) => datasetToJson(item, options));
    return out;
  }
  if (isEncapsulated(v)) {
    const parts: Buffer[] = [];
    for (const f of v.fragments) {
      if (Buffer.isBuffer(f)) parts.push(f);
      else if (options.readBulk) parts.push(options.readBulk(f, 'OB'));
      else {
        out.BulkDataURI = (options.bulkDataUri ?? fileBulkDataUri)(f, el) ?? fileBulkDataUri(f);
        return out;
      }
    }
    out.InlineBinary = Buffer.concat(parts).toString('base64');
    return out;
  }
  if (isBulkRef(v)) {
    const uri = (options.bulkDataUri ?? fileBulkDataUri)(v, el);
    if (uri !== undefined || !options.readBulk) out.BulkDataURI = uri ?? fileBulkDataUri(v);
    else out.InlineBinary = options.readBulk(v, el.vr).toString('base64');
    return out;
  }
  if (v.length === 0) return out;
  if (
    el.vr === 'OB' ||
    el.vr === 'OW' ||
    el.vr === 'OF' ||
    el.vr === 'OD' ||
    el.vr === 'OL' ||
    el.vr === 'OV' ||
    el.vr === 'UN'
  ) {
    out.InlineBinary = v.toString('base64');
    return out;
  }
  if (el.vr === 'AT') {
    const tags: string[] = [];
    for (let i = 0; i + 4 <= v.length; i += 4)
      tags.push(tagHex(((v.readUInt16LE(i) << 16) | v.readUInt16LE(i + 2)) >>> 0));
    out.Value = tags;
    return out;
  }
  if (el.vr === 'PN') {
    const names = textValues(ds, el, v).map(personName);
    if (!onlyEmpty(names)) out.Value = names;
    return out;
  }
  if (el.vr === 'IS' || el.vr === 'DS') {
    const numbers = textValues(ds, el, v).map((s) => (s === '' ? null : parseIntegerString(s)));
    if (!onlyEmpty(numbers)) out.Value = numbers;
    return out;
  }
  if (isStringVR(el.vr)) {
    let values: (string | null)[] = textValues(ds, el, v).map((s) => (s === '' ? null : s));
    // the data set's own set is replaced (JSON text is Unicode); an item's own stays as it was
    // read, as dcm2json and pydicom show it
    if (el.tag === Tags.SpecificCharacterSet && ds.parent === undefined && options.rewriteCharacterSet !== false)
      values = ['ISO_IR 192'];
    if (!onlyEmpty(values)) out.Value = values;
    return out;
  }
  out.Value = decodeNumbers(el.vr, v).map((n) => numberFor(el.vr, n, options.int64AsString ?? false));
  return out;
}

/** The DICOM JSON model (PS3.18 F.2) of a data set. */
export function datasetToJson(ds: Dataset, options: ToJsonOptions = {}): JsonDataset {
  const out: JsonDataset = {};
  for (const el of ds) {
    // group lengths (gggg,0000) are not part of the JSON model (PS3.18 F.2; dcm2json omits them)
    if ((el.tag & 0xffff) === 0) continue;
    out[tagHex(el.tag)] = elementToJson(ds, el, options);
  }
  return out;
}

// The message names the attribute and what is wrong with it, never the value: it may reach a
// log (a worklist file at start-up, an MPPS data set), and values are PHI.
function fail(key: string, cause: string): never {
  throw new DicomParseError('ERR_BAD_JSON', `DICOM JSON attribute ${key}: ${cause}`);
}

/** Largest value length an element can declare (0xFFFFFFFF means undefined length). */
const MAX_VALUE_LENGTH = 0xfffffffe;

/**
 * What a BulkDataURI stands for: a bulk reference (read when the data set is written) or the
 * bytes themselves. Throw (a {@link DicomParseError} with `ERR_BULK_URI_REFUSED` is
 * conventional) to refuse the URI.
 */
export type BulkDataResolver = (uri: string, vr: VR, key: string) => BulkDataRef | Buffer;

/** Options of {@link datasetFromJson}. */
export interface FromJsonOptions {
  /**
   * How BulkDataURIs are resolved. Without a resolver every BulkDataURI is refused
   * (`ERR_BULK_URI_REFUSED`): a URI in untrusted JSON could name any file the process can
   * read. {@link fileBulkDataResolver} resolves the `file://` URIs of {@link fileBulkDataUri}
   * within one directory.
   */
  bulkData?: BulkDataResolver;
}

function refuseUri(key: string, why: string): never {
  throw new DicomParseError('ERR_BULK_URI_REFUSED', `DICOM JSON attribute ${key}: BulkDataURI refused: ${why}`);
}

/**
 * A resolver of the `file://PATH?offset=N&length=N` URIs {@link datasetToJson} writes, for
 * files under `baseDir` only: any other URI, a path outside the directory (`..`, a symbolic
 * link leading out) or a missing file is refused with `ERR_BULK_URI_REFUSED`.
 */
export function fileBulkDataResolver(baseDir: string): BulkDataResolver {
  let root: string | undefined;
  return (uri, _vr, key) => {
    const ref = parseBulkUri(uri, key);
    if (ref === undefined) refuseUri(key, 'not a file:// URI with an offset and length');
    root ??= realpathSync(resolvePath(baseDir));
    let real: string;
    try {
      real = realpathSync(resolvePath(root, ref.file));
    } catch (err) {
      refuseUri(key, `cannot resolve ${ref.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const inside = relative(root, real);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside))
      refuseUri(key, `${ref.file} is outside ${root}`);
    return { ...ref, file: real };
  };
}

function parseBulkUri(uri: string, key: string): BulkDataRef | undefined {
  const m = /^file:\/\/(.*)\?offset=(\d+)&length=(\d+)$/.exec(uri);
  if (!m) return undefined;
  const offset = Number(m[2]);
  const length = Number(m[3]);
  if (!Number.isSafeInteger(offset) || length > MAX_VALUE_LENGTH)
    fail(key, `BulkDataURI range offset=${m[2]} length=${m[3]} is not a value a data element can hold`);
  let file: string;
  try {
    file = decodeURI(m[1]!);
  } catch {
    fail(key, `BulkDataURI ${JSON.stringify(uri)} is not a valid URI`);
  }
  return { kind: 'bulk', file, offset, length };
}

function pnText(v: unknown, key: string): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v !== 'object') fail(key, 'PN value is not an object');
  const p = v as JsonPersonName;
  const groups = [p.Alphabetic ?? '', p.Ideographic ?? '', p.Phonetic ?? ''];
  while (groups.length > 1 && groups[groups.length - 1] === '') groups.pop();
  return groups.join('=');
}

/**
 * InlineBinary bytes as a value: a whole number of the VR's words, padded to even length
 * (PS3.5 7.1.1), so that what is read from JSON is also valid in a binary encoding.
 */
function inlineBinary(base64: string, vr: VR, key: string): Buffer {
  const bytes = Buffer.from(base64, 'base64');
  const word = binaryWordSize(vr);
  if (word > 1 && bytes.length % word !== 0)
    fail(key, `InlineBinary of ${bytes.length} bytes is not a whole number of ${word}-byte ${vr} values`);
  return bytes.length % 2 === 0 ? bytes : Buffer.concat([bytes, Buffer.from([paddingByte(vr)])]);
}

/** Value ranges of the integer VRs: what the binary encoding can hold. */
const INTEGER_RANGES: Partial<Record<VR, [number, number]>> = {
  US: [0, 0xffff],
  OW: [0, 0xffff],
  SS: [-0x8000, 0x7fff],
  UL: [0, 0xffffffff],
  OL: [0, 0xffffffff],
  SL: [-0x80000000, 0x7fffffff],
  OB: [0, 0xff],
  UN: [0, 0xff],
};

/** An SV/UV value from a JSON number or decimal string, within its 64-bit range. */
function bigValue(v: unknown, vr: 'SV' | 'UV', key: string): bigint {
  let b: bigint | undefined;
  if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
  else if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) b = BigInt(v.trim());
  const [min, max] = vr === 'SV' ? [-(1n << 63n), (1n << 63n) - 1n] : [0n, (1n << 64n) - 1n];
  if (b === undefined || b < min || b > max) fail(key, `a value is not a ${vr} value (${typeof v})`);
  return b;
}

/**
 * Build a data set from its DICOM JSON model (PS3.18 F.2). Text is stored as UTF-8 unless ASCII
 * (with (0008,0005) `ISO_IR 192` added when the model names no character set). A BulkDataURI
 * is refused unless `options.bulkData` resolves it.
 */
export function datasetFromJson(obj: unknown, options: FromJsonOptions = {}): Dataset {
  return fromJson(obj, options, undefined);
}

function fromJson(obj: unknown, options: FromJsonOptions, parent: Dataset | undefined): Dataset {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new DicomParseError('ERR_BAD_JSON', 'DICOM JSON data set must be an object');
  }
  const ds = new Dataset(parent);
  const entries = Object.entries(obj as Record<string, unknown>);
  // the character set first, so text values are encoded with it
  entries.sort((a, b) =>
    a[0].toUpperCase() === '00080005' ? -1 : b[0].toUpperCase() === '00080005' ? 1 : 0,
  );
  for (const [key, raw] of entries) {
    const tag: Tag | undefined = /^[0-9a-fA-F]{8}$/.test(key) ? parseTag(key) : undefined;
    if (tag === undefined) fail(key, 'key is not an 8-digit hex tag');
    if (typeof raw !== 'object' || raw === null) fail(key, 'attribute is not an object');
    const attr = raw as JsonAttribute;
    if (typeof attr.vr !== 'string' || !isVR(attr.vr)) fail(key, `invalid vr ${JSON.stringify(attr.vr)}`);
    const vr = attr.vr;
    // a sequence holds items, never bytes (PS3.18 F.2.4): bytes under SQ would be written as
    // a sequence value that no reader can take back
    if (vr === 'SQ' && (attr.InlineBinary !== undefined || attr.BulkDataURI !== undefined))
      fail(key, 'an SQ attribute cannot have InlineBinary or BulkDataURI');
    if (attr.InlineBinary !== undefined) {
      if (typeof attr.InlineBinary !== 'string') fail(key, 'InlineBinary is not a string');
      ds.set(tag, inlineBinary(attr.InlineBinary, vr, key), vr);
      continue;
    }
    if (attr.BulkDataURI !== undefined) {
      if (typeof attr.BulkDataURI !== 'string') fail(key, 'BulkDataURI is not a string');
      if (options.bulkData === undefined) refuseUri(key, 'no resolver was given (URIs are not followed by default)');
      ds.set(tag, options.bulkData(attr.BulkDataURI, vr, key), vr);
      continue;
    }
    const values = attr.Value ?? [];
    if (!Array.isArray(values)) fail(key, 'Value is not an array');
    if (tag === Tags.SpecificCharacterSet && parent !== undefined && /[^\x00-\x7f]/.test(JSON.stringify(obj))) {
      // an item's own set as read (see datasetToJson), but its text here is Unicode: store UTF-8
      ds.set(tag, 'ISO_IR 192', 'CS');
      continue;
    }
    if (vr === 'SQ') {
      ds.set(
        tag,
        values.map((item) => fromJson(item, options, ds)),
        'SQ',
      );
      continue;
    }
    if (vr === 'PN') {
      ds.set(
        tag,
        values.map((v) => pnText(v, key)),
        vr,
      );
      continue;
    }
    if (vr === 'AT') {
      ds.set(
        tag,
        values.map((v) => {
          const t = typeof v === 'string' ? parseTag(v) : undefined;
          if (t === undefined) fail(key, `AT value ${JSON.stringify(v)} is not a tag`);
          return t;
        }),
        vr,
      );
      continue;
    }
    if (isStringVR(vr)) {
      ds.set(
        tag,
        values.map((v) =>
          v === null ? '' : typeof v === 'object' ? fail(key, 'string value expected') : String(v),
        ),
        vr,
      );
      continue;
    }
    if (vr === 'SV' || vr === 'UV' || vr === 'OV') {
      // OV belongs in InlineBinary; as numbers its words are unsigned 64-bit integers like UV
      ds.set(
        tag,
        values.map((v) => bigValue(v, vr === 'SV' ? 'SV' : 'UV', key)),
        vr,
      );
      continue;
    }
    ds.set(
      tag,
      values.map((v) => {
        if (typeof v !== 'number') fail(key, `number expected for ${vr}, got a ${v === null ? 'null' : typeof v}`);
        const range = INTEGER_RANGES[vr];
        if (range && (!Number.isInteger(v) || v < range[0] || v > range[1]))
          fail(key, `a value is not a ${vr} value (integer ${range[0]}..${range[1]})`);
        return v;
      }),
      vr,
    );
  }
  // Text without a declared character set was stored as UTF-8 (JSON is Unicode): say so, or
  // readers take those bytes for the default repertoire
  if (parent === undefined && !ds.has(Tags.SpecificCharacterSet) && /[^\x00-\x7f]/.test(JSON.stringify(obj)))
    ds.set(Tags.SpecificCharacterSet, 'ISO_IR 192', 'CS');
  return ds;
}
