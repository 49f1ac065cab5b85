import { decodeText, encodeText } from './charset.js';
import { implicitVR, tagForKeyword } from './dictionary.js';
import { DicomParseError } from './errors.js';
import { formatTag, parseTag, type Tag, Tags } from './tag.js';
import { isSingleValuedTextVR, isStringVR, paddingByte, usesCharacterSet, type VR } from './vr.js';

/** A large value left where it is: `length` bytes at `offset` in `file` (little-endian order unless noted). */
export interface BulkDataRef {
  kind: 'bulk';
  file: string;
  offset: number;
  length: number;
  /** True when the bytes in `file` are big endian (read from an explicit VR big endian file). */
  bigEndian?: boolean;
  /** True when `file` is a temporary spill file the reader created. */
  temporary?: boolean;
}

/** Encapsulated (compressed) pixel data: basic offset table and fragments, passed through. */
export interface EncapsulatedPixelData {
  kind: 'encapsulated';
  /** Basic Offset Table bytes (first item); may be empty. */
  offsetTable: Buffer;
  fragments: (Buffer | BulkDataRef)[];
}

/** What a data element holds. Byte values are in little-endian order, padding included. */
export type ElementValue = Buffer | BulkDataRef | Dataset[] | EncapsulatedPixelData;

/** One data element. */
export interface DataElement {
  tag: Tag;
  vr: VR;
  value: ElementValue;
  /** Sequences: written with undefined length (delimiters). Default true for SQ when unset. */
  undefinedLength?: boolean;
  /**
   * The VR the element was encoded with when it differs from `vr`: `UN` for a UN value read
   * with its tag's dictionary VR, or a UN that is really a sequence (PS3.5 6.2.2). Explicit VR
   * writers encode it so (a UN sequence as implicit VR little endian items), so what was
   * received is sent on unchanged; setting a new value drops it.
   */
  encodedVR?: VR;
}

/** What {@link Dataset.set} accepts. */
export type SettableValue =
  | string
  | readonly string[]
  | number
  | readonly number[]
  | bigint
  | readonly bigint[]
  | Buffer
  | Uint8Array
  | BulkDataRef
  | EncapsulatedPixelData
  | readonly Dataset[]
  | null
  | undefined;

/** Type guard for {@link BulkDataRef}. */
export function isBulkRef(v: unknown): v is BulkDataRef {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'bulk';
}

/** Type guard for {@link EncapsulatedPixelData}. */
export function isEncapsulated(v: unknown): v is EncapsulatedPixelData {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'encapsulated';
}

/** Resolve a keyword, `(gggg,eeee)`/`ggggeeee` text or numeric tag. */
export function resolveTag(keywordOrTag: string | Tag): Tag {
  if (typeof keywordOrTag === 'number') return keywordOrTag >>> 0;
  const byKeyword = tagForKeyword(keywordOrTag);
  if (byKeyword !== undefined) return byKeyword;
  const parsed = parseTag(keywordOrTag);
  if (parsed !== undefined) return parsed;
  throw new DicomParseError('ERR_UNKNOWN_KEYWORD', `unknown attribute keyword or tag: ${keywordOrTag}`);
}

function stripPadding(s: string, vr: VR): string {
  if (vr === 'UI') return s.replace(/\0+$/, '');
  // PS3.5 6.2: leading spaces are significant for LT/ST/UT; trailing padding never is
  if (vr === 'LT' || vr === 'ST' || vr === 'UT' || vr === 'UR') return s.replace(/[ \0]+$/, '');
  return s.replace(/^ +/, '').replace(/[ \0]+$/, '');
}

function padEven(bytes: Buffer, vr: VR): Buffer {
  if (bytes.length % 2 === 0) return bytes;
  return Buffer.concat([bytes, Buffer.from([paddingByte(vr)])]);
}

/**
 * An ordered collection of data elements (a data set or a sequence item). Values keep their raw
 * bytes, so what was read is written back byte for byte; getters decode on demand using the
 * Specific Character Set in force (this data set's, or the enclosing one's for items).
 */
export class Dataset implements Iterable<DataElement> {
  private readonly elements = new Map<Tag, DataElement>();
  private sorted = true;
  private lastTag = -1;
  /** The data set this item belongs to (inherits its character set). */
  parent: Dataset | undefined;
  /** As an item: written with undefined length (item delimiter). Default true. */
  undefinedLength = true;

  constructor(parent?: Dataset) {
    this.parent = parent;
  }

  /** Number of elements at this level. */
  get size(): number {
    return this.elements.size;
  }

  /** Elements in ascending tag order. */
  *[Symbol.iterator](): Iterator<DataElement> {
    if (!this.sorted) {
      const entries = [...this.elements.entries()].sort((a, b) => a[0] - b[0]);
      this.elements.clear();
      for (const [k, v] of entries) this.elements.set(k, v);
      this.sorted = true;
    }
    yield* this.elements.values();
  }

  /** The element for a tag or keyword, if present. */
  get(keywordOrTag: string | Tag): DataElement | undefined {
    return this.elements.get(resolveTag(keywordOrTag));
  }

  has(keywordOrTag: string | Tag): boolean {
    return this.elements.has(resolveTag(keywordOrTag));
  }

  delete(keywordOrTag: string | Tag): boolean {
    return this.elements.delete(resolveTag(keywordOrTag));
  }

  /** Add or replace an element as is (values must be little-endian bytes). */
  setElement(element: DataElement): void {
    const tag = element.tag >>> 0;
    if (!this.elements.has(tag)) {
      if (tag < this.lastTag) this.sorted = false;
      else this.lastTag = tag;
    }
    this.elements.set(tag, { ...element, tag });
    if (Array.isArray(element.value)) for (const item of element.value) item.parent = this;
  }

  /**
   * Set a value: strings (or string arrays) for text VRs, numbers for binary and IS/DS, bigints for
   * SV/UV, Buffers for OB/OW/UN, Datasets for SQ. The VR defaults to the dictionary's.
   */
  set(keywordOrTag: string | Tag, value: SettableValue, vr?: VR): this {
    const tag = resolveTag(keywordOrTag);
    const useVR = vr ?? (Array.isArray(value) && value[0] instanceof Dataset ? 'SQ' : implicitVR(tag));
    this.setElement({ tag, vr: useVR, value: this.encodeValue(tag, useVR, value) });
    return this;
  }

  private encodeValue(tag: Tag, vr: VR, value: SettableValue): ElementValue {
    if (value === null || value === undefined) return vr === 'SQ' ? [] : Buffer.alloc(0);
    if (isBulkRef(value) || isEncapsulated(value)) return value;
    if (Buffer.isBuffer(value)) return value;
    if (value instanceof Uint8Array) return Buffer.from(value);
    if (vr === 'SQ') {
      if (!Array.isArray(value)) throw new TypeError(`${formatTag(tag)}: SQ needs an array of Datasets`);
      return (value as Dataset[]).map((d) => d);
    }
    const list = (Array.isArray(value) ? value : [value]) as (string | number | bigint)[];
    if (isStringVR(vr)) {
      const text = list.map((v) => String(v)).join('\\');
      const bytes = usesCharacterSet(vr)
        ? encodeText(text, tag === Tags.SpecificCharacterSet ? [] : this.characterSet())
        : Buffer.from(text, 'latin1');
      return padEven(bytes, vr);
    }
    if (vr === 'AT') {
      const out = Buffer.alloc(4 * list.length);
      list.forEach((v, i) => {
        const t = typeof v === 'string' ? resolveTag(v) : Number(v);
        out.writeUInt16LE(t >>> 16, 4 * i);
        out.writeUInt16LE(t & 0xffff, 4 * i + 2);
      });
      return out;
    }
    return encodeNumbers(vr, list, tag);
  }

  /** The Specific Character Set in force here: own (0008,0005), else the enclosing data set's. */
  characterSet(): string[] {
    const el = this.elements.get(Tags.SpecificCharacterSet);
    if (el && Buffer.isBuffer(el.value)) {
      return el.value
        .toString('latin1')
        .replace(/[ \0]+$/, '')
        .split('\\');
    }
    return this.parent ? this.parent.characterSet() : [];
  }

  /** Raw value bytes (little endian), if the element holds bytes in memory. */
  getBytes(keywordOrTag: string | Tag): Buffer | undefined {
    const el = this.get(keywordOrTag);
    return el && Buffer.isBuffer(el.value) ? el.value : undefined;
  }

  /** Decoded text values (padding stripped); undefined when absent or not text. */
  getStrings(keywordOrTag: string | Tag): string[] | undefined {
    const el = this.get(keywordOrTag);
    if (!el || !Buffer.isBuffer(el.value)) return undefined;
    if (!isStringVR(el.vr)) {
      if (el.vr === 'AT') return this.getTags(keywordOrTag)?.map(formatTag);
      const nums = this.getNumbers(keywordOrTag);
      return nums?.map(String);
    }
    if (el.value.length === 0) return [];
    const text = usesCharacterSet(el.vr)
      ? decodeText(el.value, this.characterSet(), el.vr)
      : el.value.toString('latin1');
    const parts = isSingleValuedTextVR(el.vr) ? [text] : text.split('\\');
    return parts.map((p) => stripPadding(p, el.vr));
  }

  /** The value as one string: multiple values joined by `\`; undefined when absent. */
  getString(keywordOrTag: string | Tag): string | undefined {
    return this.getStrings(keywordOrTag)?.join('\\');
  }

  /** Numeric values of US/SS/UL/SL/FL/FD/OF/OD/OL/OW/SV/UV and IS/DS elements. */
  getNumbers(keywordOrTag: string | Tag): number[] | undefined {
    const el = this.get(keywordOrTag);
    if (!el || !Buffer.isBuffer(el.value)) return undefined;
    if (el.vr === 'IS' || el.vr === 'DS') {
      return (this.getStrings(keywordOrTag) ?? []).filter((s) => s !== '').map(Number);
    }
    return decodeNumbers(el.vr, el.value).map(Number);
  }

  /** First numeric value, or undefined. */
  getNumber(keywordOrTag: string | Tag, index = 0): number | undefined {
    return this.getNumbers(keywordOrTag)?.[index];
  }

  /** 64-bit integer values of SV/UV (and any other integer VR) without precision loss. */
  getBigInts(keywordOrTag: string | Tag): bigint[] | undefined {
    const el = this.get(keywordOrTag);
    if (!el || !Buffer.isBuffer(el.value)) return undefined;
    return decodeNumbers(el.vr, el.value).map((v) => (typeof v === 'bigint' ? v : BigInt(Math.trunc(v))));
  }

  /** Tags held by an AT element. */
  getTags(keywordOrTag: string | Tag): Tag[] | undefined {
    const b = this.getBytes(keywordOrTag);
    if (!b) return undefined;
    const out: Tag[] = [];
    for (let i = 0; i + 4 <= b.length; i += 4)
      out.push(((b.readUInt16LE(i) << 16) | b.readUInt16LE(i + 2)) >>> 0);
    return out;
  }

  /** Items of a sequence element. */
  getSequence(keywordOrTag: string | Tag): Dataset[] | undefined {
    const el = this.get(keywordOrTag);
    return el && Array.isArray(el.value) ? el.value : undefined;
  }
}

/** Decode little-endian binary numbers of a VR (bigint for SV/UV/OV). */
export function decodeNumbers(vr: VR, b: Buffer): (number | bigint)[] {
  const out: (number | bigint)[] = [];
  const step =
    vr === 'US' || vr === 'SS' || vr === 'OW'
      ? 2
      : vr === 'FD' || vr === 'OD' || vr === 'SV' || vr === 'UV' || vr === 'OV'
        ? 8
        : 4;
  for (let i = 0; i + step <= b.length; i += step) {
    switch (vr) {
      case 'US':
      case 'OW':
        out.push(b.readUInt16LE(i));
        break;
      case 'SS':
        out.push(b.readInt16LE(i));
        break;
      case 'UL':
      case 'OL':
        out.push(b.readUInt32LE(i));
        break;
      case 'SL':
        out.push(b.readInt32LE(i));
        break;
      case 'FL':
      case 'OF':
        out.push(b.readFloatLE(i));
        break;
      case 'FD':
      case 'OD':
        out.push(b.readDoubleLE(i));
        break;
      case 'SV':
        out.push(b.readBigInt64LE(i));
        break;
      case 'UV':
      case 'OV':
        out.push(b.readBigUInt64LE(i));
        break;
      default:
        out.push(b[i]!);
    }
  }
  return out;
}

function encodeNumbers(vr: VR, list: readonly (string | number | bigint)[], tag: Tag): Buffer {
  if (vr === 'IS' || vr === 'DS') {
    return padEven(Buffer.from(list.map((v) => String(v)).join('\\'), 'latin1'), vr);
  }
  const size =
    vr === 'US' || vr === 'SS' || vr === 'OW'
      ? 2
      : vr === 'FD' || vr === 'OD' || vr === 'SV' || vr === 'UV' || vr === 'OV'
        ? 8
        : vr === 'OB' || vr === 'UN'
          ? 1
          : 4;
  const out = Buffer.alloc(size * list.length);
  list.forEach((raw, i) => {
    const at = i * size;
    switch (vr) {
      case 'US':
      case 'OW':
        out.writeUInt16LE(Number(raw), at);
        break;
      case 'SS':
        out.writeInt16LE(Number(raw), at);
        break;
      case 'UL':
      case 'OL':
        out.writeUInt32LE(Number(raw), at);
        break;
      case 'SL':
        out.writeInt32LE(Number(raw), at);
        break;
      case 'FL':
      case 'OF':
        out.writeFloatLE(Number(raw), at);
        break;
      case 'FD':
      case 'OD':
        out.writeDoubleLE(Number(raw), at);
        break;
      case 'SV':
        out.writeBigInt64LE(BigInt(raw), at);
        break;
      case 'UV':
      case 'OV':
        out.writeBigUInt64LE(BigInt(raw), at);
        break;
      case 'OB':
      case 'UN':
        out[at] = Number(raw);
        break;
      default:
        throw new TypeError(`${formatTag(tag)}: cannot set VR ${vr} from numbers`);
    }
  });
  return padEven(out, vr);
}
