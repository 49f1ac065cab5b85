/**
 * The P-DATA writer: PDVs onto a stream as P-DATA-TF PDUs, packed into as few PDUs as the peer's
 * maximum length allows, every PDU of one call in one write (one writev); and the wait for the
 * stream to drain (backpressure).
 */
import type { Writable } from 'node:stream';
import type { Pdv } from '../channel.js';
import { encodePDataTfParts } from './encode.js';

/** Bytes of a PDV item header (item length, context ID, message control header). */
const PDV_HEADER_BYTES = 6;
/** Calls writing at most this many bytes are concatenated into one buffer (one small write beats a writev). */
const CONCAT_BYTES = 16 * 1024;

/**
 * Write `pdvs` as P-DATA-TF PDUs of at most `maxData` + 6 bytes of PDV items each (`maxData` =
 * the peer's maximum PDU length minus one PDV header). DIMSE's fragmenter already sizes its PDVs
 * to `maxData`, so on the C-STORE path every PDV goes out as it is; a larger one (a caller of the
 * channel that does not fragment) is split here, keeping `last` on its final piece only.
 */
export function writePData(stream: Writable, pdvs: readonly Pdv[], maxData: number): void {
  const maxItems = maxData + PDV_HEADER_BYTES;
  // every PDU of the call goes out in one write: a small command PDU written on its own cost a
  // system call and a wake-up of the peer per message
  const parts: Buffer[] = [];
  let total = 0;
  let batch: Pdv[] = [];
  let batchBytes = 0;
  for (let i = 0; i < pdvs.length; i++) {
    const pdv = pdvs[i]!;
    const size = PDV_HEADER_BYTES + pdv.data.length;
    if (size <= maxItems) {
      if (batchBytes + size > maxItems) {
        total += pushPdu(parts, batch, batchBytes);
        batch = [];
        batchBytes = 0;
      }
      batch.push(pdv);
      batchBytes += size;
      continue;
    }
    for (let at = 0; at < pdv.data.length; at += maxData) {
      const end = Math.min(at + maxData, pdv.data.length);
      const piece: Pdv = {
        contextId: pdv.contextId,
        command: pdv.command,
        last: pdv.last && end === pdv.data.length,
        data: pdv.data.subarray(at, end),
      };
      const pieceSize = PDV_HEADER_BYTES + piece.data.length;
      if (batchBytes + pieceSize > maxItems) {
        total += pushPdu(parts, batch, batchBytes);
        batch = [];
        batchBytes = 0;
      }
      batch.push(piece);
      batchBytes += pieceSize;
    }
  }
  total += pushPdu(parts, batch, batchBytes);
  writeParts(stream, parts, total);
}

/** Append one P-DATA-TF's buffers; returns their byte count (0 for an empty batch, which adds nothing). */
function pushPdu(parts: Buffer[], batch: Pdv[], itemBytes: number): number {
  if (batch.length === 0) return 0;
  for (const part of encodePDataTfParts(batch)) parts.push(part);
  return 6 + itemBytes;
}

function writeParts(stream: Writable, parts: Buffer[], total: number): void {
  if (parts.length === 0) return;
  if (total <= CONCAT_BYTES) {
    stream.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts, total));
    return;
  }
  stream.cork();
  for (const p of parts) if (p.length > 0) stream.write(p);
  process.nextTick(() => stream.uncork());
}

/** Waits for a stream's 'drain' (backpressure); every waiter is settled at once, by a drain or a failure. */
export class DrainWaiters {
  private readonly waiters = new Set<(err?: Error) => void>();

  constructor(private readonly stream: Writable) {
    stream.on('drain', () => this.settle());
  }

  /** Resolves at once unless the stream asked for a drain; then on the drain, or rejects on {@link settle} with an error. */
  wait(): Promise<void> {
    if (!this.stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.add((err) => (err ? reject(err) : resolve()));
    });
  }

  /** Settle every waiter: resolved without `err`, rejected with it. */
  settle(err?: Error): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w(err);
  }
}
