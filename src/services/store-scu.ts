import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { readPart10Header, transcode, transferSyntaxInfo } from '../data/index.js';
import { leadingSopInstanceUid } from '../data/leading-uid.js';
import { fileMetaUids, part10HeaderFromBytes } from '../data/part10.js';
import { UsageError } from '../errors.js';
import {
  CommandField,
  type CommandSet,
  type DimseEndpoint,
  type PositionalSource,
  Priority,
} from '../dimse/index.js';
import type { NegotiatedAssociation, NegotiatedContext } from '../network/index.js';
import { ServiceError } from './errors.js';
import { assertSuccess } from './status.js';

/** Outcome of a C-STORE. */
export interface StoreResult {
  status: number;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** Data set bytes sent (before transcoding). */
  bytes: number;
}

/** Options of one C-STORE. */
export interface StoreOptions {
  priority?: number;
  /** C-MOVE sub-operations name the C-MOVE that caused them. */
  moveOriginator?: { aet: string; messageId: number };
  /** Resolve with the status instead of throwing on failure statuses. */
  noThrow?: boolean;
  /** The file's header as {@link storableHeader} read it: not read again. */
  header?: StorableHeader;
  /**
   * Told when the file meta's Media Storage SOP Instance UID (0002,0003) differs from the data
   * set's SOP Instance UID (0008,0018): the data set's is sent, as storescu does.
   */
  onWarning?: (message: string) => void;
}

/** What C-STORE needs from a file's header (see {@link storableHeader}). */
export interface StorableHeader {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  datasetOffset: number;
}

type AcceptedContext = NegotiatedContext & { transferSyntax: string };

/**
 * The accepted context to send a file of `sopClass` in `fileTs` over: the same
 * transfer syntax if accepted, else any uncompressed one when the file is
 * uncompressed (the data set is transcoded on the fly).
 */
export function storageContextFor(
  negotiated: NegotiatedAssociation,
  sopClass: string,
  fileTs: string,
): AcceptedContext {
  const accepted = [...negotiated.contexts.values()].filter(
    (c): c is AcceptedContext =>
      c.abstractSyntax === sopClass && c.result === 0 && c.transferSyntax !== undefined,
  );
  const same = accepted.find((c) => c.transferSyntax === fileTs);
  if (same) return same;
  if (transferSyntaxInfo(fileTs)?.encapsulated === false) {
    const other = accepted.find((c) => transferSyntaxInfo(c.transferSyntax)?.encapsulated === false);
    if (other) return other;
  }
  if (accepted.length === 0) {
    throw new ServiceError(
      'ERR_NO_PRESENTATION_CONTEXT',
      `no accepted presentation context for SOP class ${sopClass} (the peer rejected it or it was not proposed)`,
    );
  }
  throw new ServiceError(
    'ERR_NO_PRESENTATION_CONTEXT',
    `the peer accepted SOP class ${sopClass} only with ${accepted.map((c) => c.transferSyntax).join(', ')}, ` +
      `but the file is ${fileTs} and dicomnet does not decompress`,
  );
}

/** What C-STORE needs from a file's header; a file without SOP class/instance UIDs is a usage error. */
export async function storableHeader(file: string): Promise<StorableHeader> {
  const quick = quickStorableHeader(file);
  if (quick) return quick;
  const h = await readPart10Header(file);
  if (!h.sopClassUid || !h.sopInstanceUid) {
    throw new UsageError('ERR_USAGE', `${file}: no SOP Class UID or SOP Instance UID, cannot C-STORE it`);
  }
  return {
    sopClassUid: h.sopClassUid,
    sopInstanceUid: h.sopInstanceUid,
    transferSyntaxUid: h.transferSyntaxUid,
    datasetOffset: h.datasetOffset,
  };
}

/** C-STORE a Part 10 file over `endpoint`, streaming the data set from disk. */
export async function storeFile(
  endpoint: DimseEndpoint,
  negotiated: NegotiatedAssociation,
  file: string,
  options: StoreOptions = {},
): Promise<StoreResult> {
  // A small file is read whole, synchronously: open, fstat, one read, close and the header parsed
  // from the same bytes. Four thread-pool round trips per file (each a wake-up and context switch)
  // cost more CPU than the blocking read of a few hundred KB from the page cache.
  const whole = readSmallFile(file);
  const header = options.header ?? (whole && storableHeaderFromBytes(whole)) ?? (await storableHeader(file));
  const ctx = storageContextFor(negotiated, header.sopClassUid, header.transferSyntaxUid);
  // the peer checks the command's UID against the data set's: send the data set's
  let sopInstanceUid = header.sopInstanceUid;
  const checkUid = (bytes: Buffer, offset: number): void => {
    const inDataset = leadingSopInstanceUid(bytes, offset, header.transferSyntaxUid);
    if (inDataset === undefined || inDataset === sopInstanceUid) return;
    options.onWarning?.(
      `${file}: the data set's SOP Instance UID ${inDataset} differs from the file meta's ${sopInstanceUid}; sending ${inDataset}`,
    );
    sopInstanceUid = inDataset;
  };
  let handle: FileHandle | undefined;
  let size: number;
  let body: Readable | Buffer | PositionalSource;
  const sameTs = ctx.transferSyntax === header.transferSyntaxUid;
  if (whole) checkUid(whole, header.datasetOffset);
  if (whole && sameTs) {
    body = whole.subarray(header.datasetOffset);
    size = body.length;
  } else {
    if (whole) releaseReadBuffer(whole);
    handle = await open(file, 'r');
    size = (await handle.stat()).size - header.datasetOffset;
    if (!whole) checkUid(await readFully(handle, header.datasetOffset, Math.min(size, 4096)), 0);
    if (sameTs && size <= SMALL_DATASET_BYTES) {
      // one read into memory: a file stream costs ~1.5 ms per file in stream machinery alone
      body = await readFully(handle, header.datasetOffset, size);
    } else if (sameTs) {
      // read into the fragmenter's reused buffers: a file stream's fresh buffer per read piled
      // up tens of MB of garbage before V8 collected it (peak RSS of a 1 GiB C-STORE)
      body = positionalSource(handle, header.datasetOffset, size);
    } else {
      // `end` bounds each read buffer to what is left: without it every read allocates the
      // full highWaterMark (1 MiB even for a small file) and the GC dominates many-file stores
      body = handle.createReadStream({
        start: header.datasetOffset,
        ...(size > 0 ? { end: header.datasetOffset + size - 1 } : {}),
        highWaterMark: 1 << 20,
      });
      if (!sameTs) body = transcode(body, header.transferSyntaxUid, ctx.transferSyntax);
    }
  }
  const command: CommandSet = {
    commandField: CommandField.C_STORE_RQ,
    messageId: endpoint.nextMessageId(),
    affectedSopClassUid: header.sopClassUid,
    affectedSopInstanceUid: sopInstanceUid,
    priority: options.priority ?? Priority.Medium,
    hasDataset: true,
  };
  if (options.moveOriginator) {
    command.moveOriginatorAet = options.moveOriginator.aet;
    command.moveOriginatorMessageId = options.moveOriginator.messageId;
  }
  try {
    const rsp = await endpoint.requestOne({ contextId: ctx.id, command, dataset: body });
    // answered: every byte was sent and the transport holds none of them any more. (After a
    // failure the buffer is left to the GC: a write of it could still be queued.)
    if (whole && Buffer.isBuffer(body)) releaseReadBuffer(whole);
    if (!options.noThrow) assertSuccess(rsp.command, CommandField.C_STORE_RQ);
    return {
      status: rsp.command.status ?? 0,
      sopClassUid: header.sopClassUid,
      sopInstanceUid,
      transferSyntaxUid: ctx.transferSyntax,
      bytes: size,
    };
  } finally {
    if (!Buffer.isBuffer(body) && !isPositionalSource(body)) body.destroy();
    await handle?.close().catch(() => undefined);
  }
}

/** Files up to this size are read whole with blocking reads (see {@link storeFile}). */
const SYNC_READ_BYTES = 1024 * 1024;

/**
 * Read buffers of small files, reused once their C-STORE was answered: a fresh buffer per file
 * (outside Node's small-buffer pool) made V8 collect for the external memory every few dozen
 * files. At most {@link READ_POOL_SIZE} buffers are kept.
 */
const readPool: Buffer[] = [];
const READ_POOL_SIZE = 8;
/** Smallest pooled buffer: most instances of a series then share one size class. */
const READ_POOL_MIN_BYTES = 256 * 1024;

/** The whole file when it is at most {@link SYNC_READ_BYTES} long (a view of a pooled buffer), else undefined. */
function readSmallFile(file: string): Buffer | undefined {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > SYNC_READ_BYTES) return undefined;
    const at = readPool.findIndex((b) => b.length >= size);
    const buf =
      at >= 0
        ? (readPool.splice(at, 1)[0] as Buffer)
        : Buffer.allocUnsafe(Math.max(size, Math.min(READ_POOL_MIN_BYTES, SYNC_READ_BYTES)));
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Give a buffer from {@link readSmallFile} back to the pool. */
function releaseReadBuffer(view: Buffer): void {
  if (readPool.length >= READ_POOL_SIZE) return;
  const full = Buffer.from(view.buffer, view.byteOffset, view.buffer.byteLength - view.byteOffset);
  readPool.push(full);
}

/** Reused by {@link quickStorableHeader}: its bytes are copied out before it returns. */
const headProbe = Buffer.allocUnsafe(4096);

/** The header of a usual Part 10 file from its first 4 KB ({@link fileMetaUids}); else undefined. */
function quickStorableHeader(file: string): StorableHeader | undefined {
  const fd = openSync(file, 'r');
  try {
    // the bytes read are a prefix of the file: no element that ends within them runs past its end
    const n = readSync(fd, headProbe, 0, headProbe.length, 0);
    return fileMetaUids(headProbe.subarray(0, n), n);
  } finally {
    closeSync(fd);
  }
}

/** The storable header parsed from a whole file; undefined when {@link storableHeader} must decide. */
function storableHeaderFromBytes(bytes: Buffer): StorableHeader | undefined {
  const quick = fileMetaUids(bytes, bytes.length);
  if (quick) return quick;
  try {
    const h = part10HeaderFromBytes(bytes, bytes.length);
    if (!h.sopClassUid || !h.sopInstanceUid) return undefined;
    return {
      sopClassUid: h.sopClassUid,
      sopInstanceUid: h.sopInstanceUid,
      transferSyntaxUid: h.transferSyntaxUid,
      datasetOffset: h.datasetOffset,
    };
  } catch {
    return undefined;
  }
}

/** Data sets up to this size are read into memory in one go and sent from there. */
const SMALL_DATASET_BYTES = 4 * 1024 * 1024;

/** The data set part of an open file as a {@link PositionalSource}. */
function positionalSource(handle: FileHandle, offset: number, length: number): PositionalSource {
  return {
    positional: true,
    length,
    read: async (into, position) => (await handle.read(into, 0, into.length, offset + position)).bytesRead,
  };
}

function isPositionalSource(body: Readable | PositionalSource): body is PositionalSource {
  return (body as Partial<PositionalSource>).positional === true;
}

async function readFully(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let at = 0;
  while (at < length) {
    const { bytesRead } = await handle.read(buf, at, length - at, position + at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return at === length ? buf : buf.subarray(0, at);
}
