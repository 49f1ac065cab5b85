import { closeSync, openSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createDeflateRaw, deflateRawSync } from 'node:zlib';
import {
  type BulkDataRef,
  type DataElement,
  type Dataset,
  type ElementValue,
  isBulkRef,
  isEncapsulated,
} from './dataset.js';
import { DicomParseError } from './errors.js';
import { formatTag, type Tag, Tags } from './tag.js';
import { transferSyntaxLayout } from './transfer-syntax.js';
import { hasLongHeader, paddingByte, swapUnit, type VR } from './vr.js';

/** Byte layout to encode with. */
export interface Layout {
  explicitVR: boolean;
  littleEndian: boolean;
}

const UNDEFINED = 0xffffffff;
const BULK_CHUNK = 1024 * 1024;

function swapped(vr: VR, value: Buffer, little: boolean): Buffer {
  const unit = swapUnit(vr);
  if (little || unit < 2 || value.length < unit) return value;
  const out = Buffer.from(value);
  const view = out.subarray(0, out.length - (out.length % unit));
  if (unit === 2) view.swap16();
  else if (unit === 4) view.swap32();
  else view.swap64();
  return out;
}

function tagBytes(tag: Tag, little: boolean, into: Buffer, at: number): void {
  if (little) {
    into.writeUInt16LE(tag >>> 16, at);
    into.writeUInt16LE(tag & 0xffff, at + 2);
  } else {
    into.writeUInt16BE(tag >>> 16, at);
    into.writeUInt16BE(tag & 0xffff, at + 2);
  }
}

function delimiter(tag: Tag, length: number, little: boolean): Buffer {
  const b = Buffer.allocUnsafe(8);
  tagBytes(tag, little, b, 0);
  if (little) b.writeUInt32LE(length, 4);
  else b.writeUInt32BE(length, 4);
  return b;
}

/** Encode one element header (tag, VR in explicit syntaxes, length). */
export function elementHeader(tag: Tag, vr: VR, length: number, layout: Layout): Buffer {
  const little = layout.littleEndian;
  if (!layout.explicitVR || tag >>> 16 === 0xfffe) return delimiter(tag, length, little);
  if (hasLongHeader(vr)) {
    const b = Buffer.alloc(12);
    tagBytes(tag, little, b, 0);
    b.write(vr, 4, 'latin1');
    if (little) b.writeUInt32LE(length, 8);
    else b.writeUInt32BE(length, 8);
    return b;
  }
  if (length > 0xffff) {
    throw new DicomParseError(
      'ERR_BAD_VALUE',
      `${formatTag(tag)}: value length ${length} does not fit the 16-bit length of VR ${vr}`,
      { tag },
    );
  }
  const b = Buffer.allocUnsafe(8);
  tagBytes(tag, little, b, 0);
  b.write(vr, 4, 'latin1');
  if (little) b.writeUInt16LE(length, 6);
  else b.writeUInt16BE(length, 6);
  return b;
}

function valueLength(value: Buffer | BulkDataRef): number {
  const n = Buffer.isBuffer(value) ? value.length : value.length;
  return n + (n % 2);
}

/** Encoded size of a data set's elements in a layout (for defined-length items and sequences). */
export function encodedLength(ds: Dataset, layout: Layout): number {
  let total = 0;
  for (const el of ds) total += elementLength(el, layout);
  return total;
}

function headerLength(vr: VR, layout: Layout): number {
  return layout.explicitVR && hasLongHeader(vr) ? 12 : 8;
}

function itemsLength(items: Dataset[], layout: Layout): number {
  let total = 0;
  for (const item of items) total += 8 + encodedLength(item, layout) + (item.undefinedLength ? 8 : 0);
  return total;
}

function elementLength(el: DataElement, layout: Layout): number {
  const v = el.value;
  if (Array.isArray(v)) {
    const un = (el.encodedVR ?? el.vr) === 'UN';
    const inner = un ? { explicitVR: false, littleEndian: true } : layout;
    const undef = el.undefinedLength !== false;
    return headerLength(el.vr, layout) + itemsLength(v, inner) + (undef ? 8 : 0);
  }
  if (isEncapsulated(v)) {
    let total = headerLength(el.vr, layout) + 8 + valueLength(v.offsetTable) + 8;
    for (const f of v.fragments) total += 8 + valueLength(f);
    return total;
  }
  return headerLength(el.encodedVR ?? el.vr, layout) + valueLength(v as Buffer | BulkDataRef);
}

function* bulkChunks(ref: BulkDataRef, vr: VR, little: boolean): Generator<Buffer> {
  const fd = openSync(ref.file, 'r');
  try {
    let done = 0;
    const swap = (ref.bigEndian === true) === little;
    while (done < ref.length) {
      const want = Math.min(BULK_CHUNK, ref.length - done);
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, buf, got, want - got, ref.offset + done + got);
        if (n === 0) {
          throw new DicomParseError(
            'ERR_TRUNCATED',
            `bulk data ${ref.file} ends before offset ${ref.offset + ref.length}`,
            { offset: ref.offset + done + got },
          );
        }
        got += n;
      }
      done += want;
      yield swap ? swapped(vr, buf, false) : buf;
    }
    if (ref.length % 2 === 1) yield Buffer.from([paddingByte(vr)]);
  } finally {
    closeSync(fd);
  }
}

function* valueChunks(value: Buffer | BulkDataRef, vr: VR, little: boolean): Generator<Buffer> {
  if (isBulkRef(value)) {
    yield* bulkChunks(value, vr, little);
    return;
  }
  yield swapped(vr, value, little);
  if (value.length % 2 === 1) yield Buffer.from([paddingByte(vr)]);
}

function* itemChunks(items: Dataset[], layout: Layout): Generator<Buffer> {
  for (const item of items) {
    yield delimiter(
      Tags.Item,
      item.undefinedLength ? UNDEFINED : encodedLength(item, layout),
      layout.littleEndian,
    );
    yield* datasetChunks(item, layout);
    if (item.undefinedLength) yield delimiter(Tags.ItemDelimitationItem, 0, layout.littleEndian);
  }
}

function* elementChunks(el: DataElement, layout: Layout): Generator<Buffer> {
  const little = layout.littleEndian;
  const v: ElementValue = el.value;
  if (Array.isArray(v)) {
    if ((el.encodedVR ?? el.vr) === 'UN') {
      // a sequence encoded as UN: implicit VR little endian inside (PS3.5 6.2.2), of undefined
      // length unless it was read with a defined one
      const inner = { explicitVR: false, littleEndian: true };
      const undef = el.undefinedLength !== false;
      yield elementHeader(el.tag, 'UN', undef ? UNDEFINED : itemsLength(v, inner), layout);
      yield* itemChunks(v, inner);
      if (undef) yield delimiter(Tags.SequenceDelimitationItem, 0, true);
      return;
    }
    const undef = el.undefinedLength !== false;
    yield elementHeader(el.tag, 'SQ', undef ? UNDEFINED : itemsLength(v, layout), layout);
    yield* itemChunks(v, layout);
    if (undef) yield delimiter(Tags.SequenceDelimitationItem, 0, little);
    return;
  }
  if (isEncapsulated(v)) {
    yield elementHeader(el.tag, el.vr, UNDEFINED, layout);
    yield delimiter(Tags.Item, valueLength(v.offsetTable), little);
    yield* valueChunks(v.offsetTable, 'OB', little);
    for (const f of v.fragments) {
      yield delimiter(Tags.Item, valueLength(f), little);
      yield* valueChunks(f, 'OB', little);
    }
    yield delimiter(Tags.SequenceDelimitationItem, 0, little);
    return;
  }
  const vr = el.encodedVR ?? el.vr;
  yield elementHeader(el.tag, vr, valueLength(v), layout);
  yield* valueChunks(v, vr, little);
}

/** Encode a data set as a sequence of chunks (bulk references are read from their files lazily). */
export function* datasetChunks(ds: Dataset, layout: Layout): Generator<Buffer> {
  for (const el of ds) yield* elementChunks(el, layout);
}

/** Group small chunks into pieces of about `size` bytes (fewer, larger writes). */
export function* batched(chunks: Iterable<Buffer>, size = 64 * 1024): Generator<Buffer> {
  let parts: Buffer[] = [];
  let n = 0;
  for (const c of chunks) {
    if (c.length >= size) {
      if (n > 0) yield Buffer.concat(parts, n);
      parts = [];
      n = 0;
      yield c;
      continue;
    }
    parts.push(c);
    n += c.length;
    if (n >= size) {
      yield Buffer.concat(parts, n);
      parts = [];
      n = 0;
    }
  }
  if (n > 0) yield Buffer.concat(parts, n);
}

/**
 * Encode a whole data set in a transfer syntax (small data sets: C-FIND identifiers, N-* data sets).
 * Deflated syntaxes are raw-deflated.
 */
export function encodeDataset(ds: Dataset, transferSyntaxUid: string): Buffer {
  const ts = transferSyntaxLayout(transferSyntaxUid);
  const raw = Buffer.concat([...datasetChunks(ds, ts)]);
  return ts.deflated ? deflateRawSync(raw) : raw;
}

/** Stream the encoding of a data set in a transfer syntax (deflated syntaxes compressed on the fly). */
export function encodeDatasetStream(ds: Dataset, transferSyntaxUid: string): Readable {
  const ts = transferSyntaxLayout(transferSyntaxUid);
  const raw = Readable.from(batched(datasetChunks(ds, ts)), { objectMode: false });
  return ts.deflated ? raw.pipe(createDeflateRaw()) : raw;
}
