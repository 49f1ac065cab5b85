/** Sending one DIMSE message: its command and data set cut into PDVs of the peer's size, read with backpressure. */
import type { Readable } from 'node:stream';
import type { AssociationChannel, Pdv } from '../network/channel.js';

/** What the fragmenter needs of a channel. */
export type PdvSender = Pick<AssociationChannel, 'sendPdvs' | 'maxSendPdvDataLength'>;

/**
 * A data set read on demand at given offsets (a file): the fragmenter reads it into two buffers
 * it reuses, so sending it leaves no garbage behind whatever its size (a file stream allocates a
 * fresh buffer per read, and V8 lets tens of MB of them pile up before it collects).
 */
export interface PositionalSource {
  readonly positional: true;
  /** Data set length in bytes. */
  readonly length: number;
  /** Fill `into` (as far as it goes) from data set offset `position`; resolves with the bytes read, 0 at the end. */
  read(into: Buffer, position: number): Promise<number>;
}

/** A message's data set: bytes in memory, a stream of bytes (read with backpressure), or a positional source. */
export type DatasetSource = Buffer | Readable | PositionalSource;

/** Bytes read from a {@link PositionalSource} at a time (rounded to whole PDVs). */
const POSITIONAL_READ_BYTES = 512 * 1024;

function isPositional(source: DatasetSource): source is PositionalSource {
  return (source as Partial<PositionalSource>).positional === true;
}

/**
 * PDV bytes handed to one `sendPdvs` call. Many small PDVs in one call let the
 * upper layer pack them into few P-DATA-TF PDUs; the cap bounds what is held
 * while a stream is read.
 */
const BATCH_BYTES = 256 * 1024;

/** Whether any PDV of the message reached the channel: a failure after that leaves a partial message on the wire. */
export interface SendProgress {
  pdvsSent: boolean;
}

/** Split bytes into PDVs of at most `maxLength` data bytes, the last one flagged `last`. Zero bytes give one empty last PDV. */
export function fragment(contextId: number, command: boolean, bytes: Buffer, maxLength: number): Pdv[] {
  checkMaxLength(maxLength);
  const pdvs: Pdv[] = [];
  let offset = 0;
  do {
    const end = Math.min(bytes.length, offset + maxLength);
    pdvs.push({ contextId, command, last: end === bytes.length, data: bytes.subarray(offset, end) });
    offset = end;
  } while (offset < bytes.length);
  return pdvs;
}

/** Options of {@link sendMessage}. */
export interface SendOptions {
  /** Updated as PDVs reach the channel. */
  progress?: SendProgress;
  /**
   * Append one 00H byte to a data set of odd length. Right for the Deflated
   * transfer syntax only, whose bit stream PS3.5 A.5 pads to even length.
   */
  padOddDataset?: boolean;
}

/**
 * Send one DIMSE message: the encoded command set as command PDVs, then the
 * data set (if any) as data PDVs of at most `channel.maxSendPdvDataLength`
 * bytes (rounded down to even). A stream is read only as fast as `sendPdvs`
 * resolves, so memory stays bounded whatever the data set size. Resolves with
 * the data set bytes given (without padding). The caller serialises messages;
 * this function never interleaves by itself.
 */
export async function sendMessage(
  channel: PdvSender,
  contextId: number,
  commandBytes: Buffer,
  dataset?: DatasetSource,
  options: SendOptions = {},
): Promise<number> {
  const maxLength = evenFragmentLength(channel.maxSendPdvDataLength);
  const batch = new PdvBatch(channel, options.progress ?? { pdvsSent: false });
  for (const pdv of fragment(contextId, true, commandBytes, maxLength)) await batch.add(pdv);
  if (dataset === undefined) {
    await batch.flush();
    return 0;
  }
  const pad = options.padOddDataset === true;
  if (Buffer.isBuffer(dataset)) {
    const pdvs = fragment(contextId, false, dataset, maxLength);
    const last = pdvs[pdvs.length - 1]!;
    if (pad && dataset.length % 2 === 1) last.data = Buffer.concat([last.data, ZERO]);
    for (const pdv of pdvs) await batch.add(pdv);
    await batch.flush();
    return dataset.length;
  }
  if (isPositional(dataset)) return sendPositional(batch, contextId, dataset, maxLength, pad);
  const pending = new ByteQueue();
  let total = 0;
  for await (const chunk of dataset) {
    const bytes = toBuffer(chunk);
    total += bytes.length;
    pending.push(bytes);
    // Keep at least one byte back: the PDV holding the final byte must carry the last flag.
    while (pending.length > maxLength) {
      await batch.add({ contextId, command: false, last: false, data: pending.take(maxLength) });
    }
  }
  if (pad && total % 2 === 1) pending.push(ZERO);
  await batch.add({ contextId, command: false, last: true, data: pending.take(pending.length) });
  await batch.flush();
  return total;
}

/**
 * Double-buffered: the next slab is read while the current one is sent. A slab is refilled only
 * after the batch holding its PDVs was flushed, and a flushed `sendPdvs` leaves the channel with
 * no reference to the bytes (see {@link AssociationChannel.sendPdvs}).
 */
async function sendPositional(
  batch: PdvBatch,
  contextId: number,
  source: PositionalSource,
  maxLength: number,
  pad: boolean,
): Promise<number> {
  const total = source.length;
  const slabBytes = Math.max(1, Math.floor(POSITIONAL_READ_BYTES / maxLength)) * maxLength;
  const slabs = [Buffer.allocUnsafe(Math.min(slabBytes, Math.max(total, 1))), Buffer.allocUnsafe(0)];
  if (total > slabBytes) slabs[1] = Buffer.allocUnsafe(slabBytes);
  const fill = async (slab: Buffer, position: number): Promise<number> => {
    const want = Math.min(slab.length, total - position);
    let got = 0;
    while (got < want) {
      const n = await source.read(
        want - got === slab.length ? slab : slab.subarray(got, want),
        position + got,
      );
      if (n === 0) throw new RangeError(`data set source ended after ${position + got} of ${total} bytes`);
      got += n;
    }
    return got;
  };
  let position = 0;
  let which = 0;
  let reading = fill(slabs[0] as Buffer, 0);
  if (total === 0) {
    await reading;
    await batch.add({ contextId, command: false, last: true, data: pad ? ZERO : Buffer.alloc(0) });
    await batch.flush();
    return 0;
  }
  while (position < total) {
    const n = await reading;
    const slab = slabs[which] as Buffer;
    const next = position + n;
    which = 1 - which;
    if (next < total) {
      reading = fill(slabs[which] as Buffer, next);
      // a read failing while this slab is sent must not go unhandled: it is awaited next round
      reading.catch(() => undefined);
    }
    for (let at = 0; at < n; at += maxLength) {
      const end = Math.min(at + maxLength, n);
      const last = next === total && end === n;
      let data = slab.subarray(at, end);
      if (last && pad && total % 2 === 1) data = Buffer.concat([data, ZERO]);
      await batch.add({ contextId, command: false, last, data });
    }
    // the slab is refilled next round: everything in it must be out first
    await batch.flush();
    position = next;
  }
  return total;
}

const ZERO = Buffer.alloc(1);

/** DCMTK refuses odd fragment lengths ("DIMSE: Odd Fragment Length"), so full fragments are kept even. */
function evenFragmentLength(max: number): number {
  return max >= 2 ? max - (max % 2) : max;
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('a data set stream must yield bytes (Buffer or Uint8Array), not strings or objects');
}

function checkMaxLength(maxLength: number): void {
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new RangeError(`maximum PDV data length must be a positive integer, got ${maxLength}`);
  }
}

/** Collects PDVs and hands them to the channel in batches of about {@link BATCH_BYTES}. */
class PdvBatch {
  private pdvs: Pdv[] = [];
  private bytes = 0;

  constructor(
    private readonly channel: PdvSender,
    private readonly progress: SendProgress,
  ) {}

  async add(pdv: Pdv): Promise<void> {
    this.pdvs.push(pdv);
    this.bytes += pdv.data.length;
    if (this.bytes >= BATCH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pdvs.length === 0) return;
    const pdvs = this.pdvs;
    this.pdvs = [];
    this.bytes = 0;
    try {
      await this.channel.sendPdvs(pdvs);
    } catch (err) {
      // refused before anything was written (e.g. after our A-RELEASE-RQ): nothing partial is out
      if ((err as { code?: unknown }).code !== 'ERR_ASSOCIATION_NOT_OPEN') this.progress.pdvsSent = true;
      throw err;
    }
    this.progress.pdvsSent = true;
  }
}

/** A FIFO of byte chunks from which fixed-size pieces are taken, copying only when a piece spans chunks. */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  take(n: number): Buffer {
    const first = this.chunks[0];
    if (first === undefined || n === 0) return Buffer.alloc(0);
    if (first.length >= n) {
      this.length -= n;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const used = Math.min(chunk.length, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(used);
    }
    this.length -= n;
    return out;
  }
}
