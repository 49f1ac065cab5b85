import { closeSync, createReadStream, createWriteStream, fstatSync, openSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createDeflateRaw } from 'node:zlib';
import { type BulkPolicy, DatasetBuilder } from './builder.js';
import { Dataset } from './dataset.js';
import { decodeDataset, parseStream } from './decode.js';
import { implicitVR } from './dictionary.js';
import { DicomParseError } from './errors.js';
import { DatasetParser } from './parser.js';
import { Tags } from './tag.js';
import { TransferSyntax, transferSyntaxLayout } from './transfer-syntax.js';
import { isVR } from './vr.js';
import { batched, datasetChunks, encodeDataset } from './writer.js';

/**
 * dicomnet's implementation identity: written into file meta information and sent in
 * every A-ASSOCIATE-RQ/AC (PS3.7 D.3.3.2). The class UID sits under the 2.25 arc (PS3.5
 * B.2: a UID derived from a UUID), generated once from UUID
 * 74241006-d598-4b93-9ff8-9af496b4361a; no organisational root is needed or claimed.
 * Never change it: peers may key workarounds on it.
 */
export const IMPLEMENTATION_CLASS_UID = '2.25.154377695257984549280994176530830865946';
/** Implementation Version Name (at most 16 characters, PS3.7 D.3.3.2.3). */
export const IMPLEMENTATION_VERSION_NAME = 'DICOMNET_010';

/** What the start of a Part 10 file says about it. */
export interface Part10Header {
  /** File meta information (group 0002); empty when the file has none. */
  meta: Dataset;
  transferSyntaxUid: string;
  /** Byte offset of the data set (after preamble, `DICM` and group 0002). */
  datasetOffset: number;
  sopClassUid: string | undefined;
  sopInstanceUid: string | undefined;
  /** True when the 128-byte preamble and `DICM` were present. */
  hasPreamble: boolean;
  /** Deviations tolerated while reading (no preamble, no meta, guessed transfer syntax). */
  warnings: string[];
}

/** A Part 10 file read into memory, large values left as file ranges. */
export interface Part10File extends Part10Header {
  dataset: Dataset;
  /**
   * With {@link ReadPart10Options.keepPartial}: why the data set could not be read to its end
   * (`dataset` then holds what was read before). Absent when it was read whole.
   */
  error?: DicomParseError;
}

/** Options of {@link readPart10}. */
export interface ReadPart10Options {
  /** Values longer than this are not read: they become `{ kind: 'bulk', file, offset, length }`. Default 64 KiB. */
  bulkDataThreshold?: number;
  maxDepth?: number;
  allowOddLengths?: boolean;
  /** A deflated data set may inflate to at most this many bytes (default 256 MiB). */
  maxInflatedBytes?: number;
  /**
   * Where values above the threshold of a deflated data set go (they are not in the file
   * as such): default spilled to temporary files that live as long as the process.
   */
  deflatedBulk?: BulkPolicy;
  /**
   * A data set that fails to parse (truncated, damaged) resolves with what was read before the
   * failure and `error` set, instead of rejecting (for `dicomnet dump`). The file's header must
   * still be readable.
   */
  keepPartial?: boolean;
}

const PROBE = 64 * 1024;

/** First read of {@link readPart10Header}: enough for a usual meta header (a few hundred bytes). */
const FIRST_PROBE = 4 * 1024;

/** Read up to `length` bytes at `position`; only the bytes read are returned (no zero-filling). */
export function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

function isExplicitVRAt(b: Buffer, at: number): boolean {
  const a = b[at + 4];
  const c = b[at + 5];
  return a !== undefined && c !== undefined && a >= 0x41 && a <= 0x5a && c >= 0x41 && c <= 0x5a;
}

/** Guess the transfer syntax of a bare data set the way DCMTK does (group number and VR bytes). */
function guessTransferSyntax(b: Buffer, at: number): string {
  if (b.length < at + 8) return TransferSyntax.ImplicitVRLittleEndian;
  const groupLE = b.readUInt16LE(at);
  const groupBE = b.readUInt16BE(at);
  const bigEndian = groupBE < groupLE && groupBE !== 0 && groupBE <= 0x00ff;
  if (bigEndian) return TransferSyntax.ExplicitVRBigEndian;
  return isExplicitVRAt(b, at)
    ? TransferSyntax.ExplicitVRLittleEndian
    : TransferSyntax.ImplicitVRLittleEndian;
}

/**
 * The transfer syntax a little endian data set is really in when its meta header lies about
 * implicit or explicit VR (a known writer bug; pydicom detects it the same way): the first
 * element's bytes 4-5 are not a VR where the header says explicit, or are the tag's own
 * dictionary VR where it says implicit. Anything else keeps `declared`.
 */
function actualVREncoding(b: Buffer, at: number, fileSize: number, declared: string): string {
  if (b.length < at + 8) return declared;
  let layout: ReturnType<typeof transferSyntaxLayout>;
  try {
    layout = transferSyntaxLayout(declared);
  } catch {
    return declared;
  }
  if (!layout.littleEndian || layout.deflated) return declared;
  const tag = ((b.readUInt16LE(at) << 16) | b.readUInt16LE(at + 2)) >>> 0;
  const vrText = b.toString('latin1', at + 4, at + 6);
  const implicitLength = b.readUInt32LE(at + 4);
  if (layout.explicitVR) {
    if (isVR(vrText)) return declared;
    return at + 8 + implicitLength <= fileSize ? TransferSyntax.ImplicitVRLittleEndian : declared;
  }
  if (declared !== TransferSyntax.ImplicitVRLittleEndian) return declared;
  const known = implicitVR(tag);
  return isVR(vrText) && vrText === known && known !== 'UN' && at + 8 + implicitLength > fileSize
    ? TransferSyntax.ExplicitVRLittleEndian
    : declared;
}

/** Explicit VRs with a 2-byte reserved field and a 4-byte length (PS3.5 7.1.2). */
const LONG_LENGTH_VRS = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN', 'UC', 'UR', 'OD', 'OL', 'OV', 'SV', 'UV'];

/**
 * VR, header size and value length of the explicit VR little endian element at `at` (whose
 * first 8 bytes are in `b`); undefined when its 12-byte header runs past the end of `b`.
 */
function explicitHeaderAt(b: Buffer, at: number): { vr: string; header: number; length: number } | undefined {
  const vr = b.toString('latin1', at + 4, at + 6);
  if (!LONG_LENGTH_VRS.includes(vr)) return { vr, header: 8, length: b.readUInt16LE(at + 6) };
  if (at + 12 > b.length) return undefined;
  return { vr, header: 12, length: b.readUInt32LE(at + 8) };
}

/** What a storage SCU needs from a Part 10 file's meta information (see {@link fileMetaUids}). */
export interface FileMetaUids {
  transferSyntaxUid: string;
  sopClassUid: string;
  sopInstanceUid: string;
  /** Byte offset of the data set. */
  datasetOffset: number;
}

/**
 * The transfer syntax, SOP class and SOP instance UIDs of a Part 10 file and where its data set
 * starts, read straight from `b` (the file's first bytes) without building a {@link Dataset}. A
 * C-STORE of many files reads every header first; the general parser behind
 * {@link part10HeaderFromBytes} was the costliest code (to run and to optimise) a storage SCU
 * otherwise never needs. Undefined unless the file is the usual kind: preamble, `DICM`, an
 * explicit VR little endian group 0002 held whole in `b`, each of the three UIDs present once,
 * non-empty, single-valued and with VR UI. The caller then asks part10HeaderFromBytes, which
 * decides (and reports) everything else. Where both answer, they give the same values.
 */
export function fileMetaUids(b: Buffer, fileSize: number): FileMetaUids | undefined {
  // the loop checks each element's explicit VR, the first one's included
  if (b.length < 140 || b.toString('latin1', 128, 132) !== 'DICM') return undefined;
  let transferSyntaxUid: string | undefined;
  let sopClassUid: string | undefined;
  let sopInstanceUid: string | undefined;
  let at = 132;
  while (at + 8 <= b.length && b.readUInt16LE(at) === 0x0002) {
    if (!isExplicitVRAt(b, at)) return undefined;
    const element = b.readUInt16LE(at + 2);
    const head = explicitHeaderAt(b, at);
    if (!head) return undefined;
    const { vr, header, length } = head;
    const end = at + header + length;
    if (end > fileSize || end > b.length) return undefined;
    if (element === 0x0002 || element === 0x0003 || element === 0x0010) {
      if (vr !== 'UI') return undefined;
      const text = b.toString('latin1', at + header, end);
      if (text.includes('\\')) return undefined;
      const value = text.replace(/\0+$/, '');
      if (element === 0x0002) {
        if (sopClassUid !== undefined) return undefined;
        sopClassUid = value;
      } else if (element === 0x0003) {
        if (sopInstanceUid !== undefined) return undefined;
        sopInstanceUid = value;
      } else {
        if (transferSyntaxUid !== undefined) return undefined;
        transferSyntaxUid = value;
      }
    }
    at = end;
  }
  if (!transferSyntaxUid || !sopClassUid || !sopInstanceUid) return undefined;
  return { transferSyntaxUid, sopClassUid, sopInstanceUid, datasetOffset: at };
}

/** Parse group 0002 starting at `at`; returns the meta data set and where it ends. */
function parseMeta(b: Buffer, at: number, fileSize: number): { meta: Dataset; end: number } {
  let end = at;
  const explicit = isExplicitVRAt(b, at);
  // find the end of group 0002 by walking element headers (group length may be missing or wrong)
  while (end + 8 <= b.length && b.readUInt16LE(end) === 0x0002) {
    let length: number;
    let header = 8;
    if (explicit) {
      const head = explicitHeaderAt(b, end);
      if (!head) break;
      ({ header, length } = head);
    } else {
      length = b.readUInt32LE(end + 4);
    }
    if (end + header + length > fileSize) {
      throw new DicomParseError(
        'ERR_LENGTH_PAST_END',
        `file meta element at offset ${end}: value length ${length} runs past the end of the file`,
        { offset: end },
      );
    }
    if (end + header + length > b.length) {
      throw new DicomParseError(
        'ERR_BAD_FILE_META',
        `file meta information at offset ${at} is larger than ${PROBE} bytes`,
        {
          offset: at,
        },
      );
    }
    end += header + length;
  }
  const meta = decodeDataset(
    Buffer.from(b.subarray(at, end)),
    explicit ? TransferSyntax.ExplicitVRLittleEndian : TransferSyntax.ImplicitVRLittleEndian,
    { allowOddLengths: true },
  );
  return { meta, end };
}

/**
 * The header of a Part 10 file from its first bytes (`b`, which must hold the whole file meta
 * information); `fileSize` bounds element lengths. Throws {@link DicomParseError}.
 */
export function part10HeaderFromBytes(b: Buffer, fileSize: number): Part10Header {
  return headerFromProbe(b, fileSize);
}

function headerFromProbe(b: Buffer, fileSize: number): Part10Header {
  const warnings: string[] = [];
  let at = 0;
  let hasPreamble = false;
  if (b.length >= 132 && b.toString('latin1', 128, 132) === 'DICM') {
    at = 132;
    hasPreamble = true;
  } else if (b.length >= 4 && b.toString('latin1', 0, 4) === 'DICM') {
    at = 4;
    warnings.push('no 128-byte preamble before DICM');
  } else {
    if (b.length < 8) {
      throw new DicomParseError('ERR_BAD_MAGIC', `not a DICOM file: only ${b.length} bytes`, { offset: 0 });
    }
    const group = b.readUInt16LE(0);
    const groupBE = b.readUInt16BE(0);
    const plausible = (g: number) =>
      g === 0x0002 || g === 0x0008 || (g >= 0x0002 && g <= 0x0010) || g === 0xfffe;
    if (!plausible(group) && !plausible(groupBE)) {
      throw new DicomParseError(
        'ERR_BAD_MAGIC',
        `not a DICOM file: no "DICM" at offset 128 and no data element at offset 0 (group 0x${group.toString(16).padStart(4, '0')})`,
        { offset: 128 },
      );
    }
    warnings.push('no preamble and DICM prefix: reading as a bare data set, as DCMTK does');
  }
  let meta = new Dataset();
  let datasetOffset = at;
  if (b.length >= at + 8 && b.readUInt16LE(at) === 0x0002) {
    const parsed = parseMeta(b, at, fileSize);
    meta = parsed.meta;
    datasetOffset = parsed.end;
  } else if (hasPreamble) {
    warnings.push('no file meta information after DICM');
  }
  let transferSyntaxUid = meta.getString(Tags.TransferSyntaxUID);
  if (!transferSyntaxUid) {
    transferSyntaxUid = guessTransferSyntax(b, datasetOffset);
    warnings.push(`no transfer syntax in file meta information: detected ${transferSyntaxUid}`);
  }
  return {
    meta,
    transferSyntaxUid,
    datasetOffset,
    sopClassUid: meta.getString(Tags.MediaStorageSOPClassUID) || undefined,
    sopInstanceUid: meta.getString(Tags.MediaStorageSOPInstanceUID) || undefined,
    hasPreamble,
    warnings,
  };
}

/**
 * Parse the header from a small first read; read {@link PROBE} bytes when the meta information
 * may go on past it (or the first read cannot show where it ends).
 */
function probeHeader(fd: number, size: number): Part10Header {
  if (size > FIRST_PROBE) {
    const first = readAt(fd, 0, FIRST_PROBE);
    try {
      const header = headerFromProbe(first, size);
      // 12 bytes past the meta: the group-0002 walk and the transfer syntax guess saw what they need
      if (header.datasetOffset + 12 <= first.length) return header;
    } catch (err) {
      if (!(err instanceof DicomParseError) || err.code !== 'ERR_BAD_FILE_META') throw err;
    }
  }
  return headerFromProbe(readAt(fd, 0, Math.min(size, PROBE)), size);
}

/** Read only the preamble and file meta information (quick; for C-STORE SCU). */
export async function readPart10Header(path: string): Promise<Part10Header> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const header = probeHeader(fd, size);
    if (!header.sopClassUid || !header.sopInstanceUid) {
      // no meta: take the SOP Class/Instance UIDs from the data set itself
      try {
        const file = await readPart10(path, { bulkDataThreshold: 4096 });
        header.sopClassUid ??= file.dataset.getString(Tags.SOPClassUID) || undefined;
        header.sopInstanceUid ??= file.dataset.getString(Tags.SOPInstanceUID) || undefined;
      } catch {
        // leave them undefined; the caller decides
      }
    }
    return header;
  } finally {
    closeSync(fd);
  }
}

/**
 * Read a Part 10 file (or a bare data set, with a warning). Values longer than the bulk threshold
 * are not read but referenced as `{ kind: 'bulk', file, offset, length }`; memory stays bounded.
 */
export async function readPart10(path: string, options: ReadPart10Options = {}): Promise<Part10File> {
  const fd = openSync(path, 'r');
  // closed at most once: a second close could hit a descriptor number already reused (e.g. by
  // the read stream of a deflated data set) and break an unrelated file
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  let header: Part10Header;
  try {
    const size = fstatSync(fd).size;
    const probe = readAt(fd, 0, Math.min(size, PROBE));
    header = headerFromProbe(probe, size);
    const actual = actualVREncoding(probe, header.datasetOffset, size, header.transferSyntaxUid);
    if (actual !== header.transferSyntaxUid) {
      header.warnings.push(
        `file meta information says transfer syntax ${header.transferSyntaxUid}, but the data set's first element at offset ${header.datasetOffset} is ${actual === TransferSyntax.ImplicitVRLittleEndian ? 'implicit' : 'explicit'} VR: read as ${actual}`,
      );
      header.transferSyntaxUid = actual;
    }
    const ts = transferSyntaxLayout(header.transferSyntaxUid);
    if (ts.deflated) {
      close();
      const builder = new DatasetBuilder(options.deflatedBulk ?? { kind: 'spill' });
      try {
        await parseStream(
          createReadStream(path, { start: header.datasetOffset }),
          header.transferSyntaxUid,
          builder,
          {
            bulkDataThreshold: options.bulkDataThreshold ?? 64 * 1024,
            maxDepth: options.maxDepth,
            allowOddLengths: options.allowOddLengths,
            maxInflatedBytes: options.maxInflatedBytes,
            onWarning: (w) => header.warnings.push(w),
          },
        );
      } catch (err) {
        if (options.keepPartial && err instanceof DicomParseError)
          return { ...header, dataset: builder.dataset, error: err };
        builder.abort();
        throw err;
      }
      return { ...header, dataset: builder.dataset };
    }
    const policy: BulkPolicy = { kind: 'file-range', file: path, bigEndian: !ts.littleEndian };
    const builder = new DatasetBuilder(policy);
    const parser = new DatasetParser(builder, {
      explicitVR: ts.explicitVR,
      littleEndian: ts.littleEndian,
      bulkDataThreshold: options.bulkDataThreshold ?? 64 * 1024,
      baseOffset: header.datasetOffset,
      totalLength: size - header.datasetOffset,
      maxDepth: options.maxDepth,
      allowOddLengths: options.allowOddLengths,
      onWarning: (w) => header.warnings.push(w),
    });
    let position = header.datasetOffset;
    const chunkSize = 1024 * 1024;
    try {
      while (position < size) {
        if (parser.skippingBulk) {
          const n = Math.min(parser.bulkBytesRemaining, size - position);
          parser.skipBulk(n);
          position += n;
          continue;
        }
        const chunk = readAt(fd, position, Math.min(chunkSize, size - position));
        if (chunk.length === 0) break;
        position += chunk.length;
        parser.push(chunk);
      }
      parser.end();
    } catch (err) {
      if (!options.keepPartial || !(err instanceof DicomParseError)) throw err;
      close();
      return { ...header, dataset: builder.dataset, error: err };
    }
    close();
    return { ...header, dataset: builder.dataset };
  } catch (err) {
    close();
    throw err;
  }
}

/** Fields of the file meta information dicomnet writes. */
export interface FileMetaOptions {
  mediaStorageSopClassUid: string;
  mediaStorageSopInstanceUid: string;
  transferSyntaxUid: string;
  implementationClassUid?: string;
  implementationVersionName?: string;
  sourceApplicationEntityTitle?: string;
}

/** The file meta information as a data set (group length computed). */
export function fileMetaDataset(options: FileMetaOptions): Dataset {
  const meta = new Dataset();
  meta.set(Tags.FileMetaInformationVersion, Buffer.from([0x00, 0x01]), 'OB');
  meta.set(Tags.MediaStorageSOPClassUID, options.mediaStorageSopClassUid, 'UI');
  meta.set(Tags.MediaStorageSOPInstanceUID, options.mediaStorageSopInstanceUid, 'UI');
  meta.set(Tags.TransferSyntaxUID, options.transferSyntaxUid, 'UI');
  meta.set(Tags.ImplementationClassUID, options.implementationClassUid ?? IMPLEMENTATION_CLASS_UID, 'UI');
  meta.set(
    Tags.ImplementationVersionName,
    options.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME,
    'SH',
  );
  if (options.sourceApplicationEntityTitle) {
    meta.set(Tags.SourceApplicationEntityTitle, options.sourceApplicationEntityTitle, 'AE');
  }
  const length = encodeDataset(meta, TransferSyntax.ExplicitVRLittleEndian).length;
  meta.set(Tags.FileMetaInformationGroupLength, length, 'UL');
  return meta;
}

/** Preamble (128 zero bytes), `DICM` and the file meta information group, ready to be followed by a data set. */
export function encodeFileMetaInformation(options: FileMetaOptions): Buffer {
  const fast = encodeFileMetaFast(options);
  if (fast) return fast;
  const group = encodeDataset(fileMetaDataset(options), TransferSyntax.ExplicitVRLittleEndian);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), group]);
}

/** Printable ASCII without backslash: values the generic encoder writes byte for byte. */
const PLAIN_VALUE = /^[\x20-\x5b\x5d-\x7e]*$/;

/**
 * The same bytes as the generic path, written directly (one allocation, no Dataset): it runs
 * once per received instance. Undefined when a value needs the generic encoder.
 */
function encodeFileMetaFast(options: FileMetaOptions): Buffer | undefined {
  const strings: [number, string, string, number][] = [
    [0x0002, options.mediaStorageSopClassUid, 'UI', 0],
    [0x0003, options.mediaStorageSopInstanceUid, 'UI', 0],
    [0x0010, options.transferSyntaxUid, 'UI', 0],
    [0x0012, options.implementationClassUid ?? IMPLEMENTATION_CLASS_UID, 'UI', 0],
    [0x0013, options.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME, 'SH', 0x20],
  ];
  if (options.sourceApplicationEntityTitle) {
    strings.push([0x0016, options.sourceApplicationEntityTitle, 'AE', 0x20]);
  }
  let groupLength = 12 + 2; // (0002,0001) OB
  for (const [, value] of strings) {
    if (value.length > 64 || !PLAIN_VALUE.test(value)) return undefined;
    groupLength += 8 + value.length + (value.length & 1);
  }
  const out = Buffer.allocUnsafe(132 + 12 + groupLength);
  out.fill(0, 0, 128);
  out.write('DICM', 128, 'latin1');
  let at = 132;
  out.writeUInt32LE(0x00000002, at); // (0002,0000)
  out.write('UL', at + 4, 'latin1');
  out.writeUInt16LE(4, at + 6);
  out.writeUInt32LE(groupLength, at + 8);
  at += 12;
  out.writeUInt32LE(0x00010002, at); // (0002,0001)
  out.write('OB', at + 4, 'latin1');
  out.writeUInt16LE(0, at + 6);
  out.writeUInt32LE(2, at + 8);
  out[at + 12] = 0x00;
  out[at + 13] = 0x01;
  at += 14;
  for (const [element, value, vr, pad] of strings) {
    const length = value.length + (value.length & 1);
    out.writeUInt16LE(0x0002, at);
    out.writeUInt16LE(element, at + 2);
    out.write(vr, at + 4, 'latin1');
    out.writeUInt16LE(length, at + 6);
    out.write(value, at + 8, 'latin1');
    if (length !== value.length) out[at + 8 + value.length] = pad;
    at += 8 + length;
  }
  return out;
}

/**
 * Write a Part 10 file, streaming (bulk references are copied from their files chunk by chunk).
 * The meta fields default to the data set's SOP Class/Instance UIDs and explicit VR little endian.
 */
export async function writePart10(
  path: string,
  dataset: Dataset,
  meta: Partial<FileMetaOptions> = {},
): Promise<void> {
  const options: FileMetaOptions = {
    mediaStorageSopClassUid: meta.mediaStorageSopClassUid ?? dataset.getString(Tags.SOPClassUID) ?? '',
    mediaStorageSopInstanceUid:
      meta.mediaStorageSopInstanceUid ?? dataset.getString(Tags.SOPInstanceUID) ?? '',
    transferSyntaxUid: meta.transferSyntaxUid ?? TransferSyntax.ExplicitVRLittleEndian,
    ...meta,
  };
  const ts = transferSyntaxLayout(options.transferSyntaxUid);
  const out = createWriteStream(path);
  const head = encodeFileMetaInformation(options);
  await new Promise<void>((resolve, reject) => out.write(head, (err) => (err ? reject(err) : resolve())));
  const body = Readable.from(batched(datasetChunks(dataset, ts), 1024 * 1024));
  if (ts.deflated) await pipeline(body, createDeflateRaw(), out);
  else await pipeline(body, out);
}
