/**
 * Incremental PDU framing: fed transport chunks, hands out complete PDUs.
 * Lengths are checked against the configured maximum as soon as the 6-byte
 * header is in, before any body byte is buffered; a PDU body that arrives in
 * one chunk is a slice of that chunk, never copied.
 */
import { PduParseError } from '../errors.js';
import { isKnownPduType, PDU_HEADER_LENGTH } from './decode.js';
import { PduType } from './types.js';

/** One framed PDU: its type and the bytes after the header. */
export interface PduFrame {
  type: number;
  body: Buffer;
  /**
   * A P-DATA-TF body that arrived in several chunks, as slices of them (no copy): decode it with
   * `decodePDataParts`. `body` then joins them (a copy) when read.
   */
  parts?: Buffer[];
}

/** A P-DATA-TF frame spanning chunks: the slices, joined only if someone asks for `body`. */
class SplitFrame implements PduFrame {
  private joined: Buffer | undefined;

  constructor(
    readonly type: number,
    readonly parts: Buffer[],
  ) {}

  get body(): Buffer {
    this.joined ??= Buffer.concat(this.parts);
    return this.joined;
  }
}

/** Limits applied by a {@link PduFramer}. */
export interface PduFramerLimits {
  /** Largest P-DATA-TF length field accepted; 0 = no limit beyond `hardMaxPduLength`. */
  maxPDataLength: number;
  /** Largest length field of any PDU (association PDUs included), whatever was negotiated. */
  hardMaxPduLength: number;
}

/** Default hard limit on any received PDU: 16 MiB. */
export const DEFAULT_HARD_MAX_PDU_LENGTH = 16 * 1024 * 1024;

/** `16 MiB`, `4096 bytes`: how a limit is named in error messages. */
export function formatByteLimit(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** Splits a byte stream into PDUs. Pull-based so that a paused reader stops framing too. */
export class PduFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: { type: number; length: number } | undefined;

  /**
   * Called with each PDU header once it passed the limits, before any body byte is kept; may
   * throw {@link PduParseError} to refuse the PDU (e.g. a budget shared with other connections).
   */
  admitHeader: ((type: number, length: number) => void) | undefined;

  constructor(public limits: PduFramerLimits) {}

  /** Bytes received but not yet handed out as a PDU. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete PDU, or undefined until more bytes arrive. Throws {@link PduParseError}. */
  next(): PduFrame | undefined {
    if (!this.header) {
      if (this.buffered < PDU_HEADER_LENGTH) return undefined;
      const h = this.take(PDU_HEADER_LENGTH);
      const type = h.readUInt8(0);
      const length = h.readUInt32BE(2);
      this.check(type, length);
      this.admitHeader?.(type, length);
      this.header = { type, length };
    }
    if (this.buffered < this.header.length) return undefined;
    const { type, length } = this.header;
    this.header = undefined;
    const first = this.chunks[0];
    // P-DATA spanning chunks (the common case for PDUs larger than a socket read): no copy
    if (type === PduType.PDataTf && first && first.length < length)
      return new SplitFrame(type, this.slices(length));
    return { type, body: this.take(length) };
  }

  private check(type: number, length: number): void {
    if (!isKnownPduType(type)) {
      throw new PduParseError(
        'ERR_PDU_UNKNOWN_TYPE',
        `unknown PDU type ${type.toString(16).toUpperCase().padStart(2, '0')}H`,
      );
    }
    const { maxPDataLength, hardMaxPduLength } = this.limits;
    if (type === PduType.PDataTf && maxPDataLength > 0 && length > maxPDataLength) {
      throw new PduParseError(
        'ERR_PDU_TOO_LONG',
        `P-DATA-TF length ${length} exceeds the negotiated max ${maxPDataLength}`,
      );
    }
    if (length > hardMaxPduLength) {
      throw new PduParseError(
        'ERR_PDU_TOO_LONG',
        `PDU length ${length} exceeds max ${formatByteLimit(hardMaxPduLength)}`,
      );
    }
  }

  /** Remove `n` buffered bytes (n <= buffered) as slices of the chunks they lie in. */
  private slices(n: number): Buffer[] {
    this.buffered -= n;
    const out: Buffer[] = [];
    let left = n;
    while (left > 0) {
      const c = this.chunks[0] as Buffer;
      if (c.length <= left) {
        out.push(c);
        left -= c.length;
        this.chunks.shift();
      } else {
        out.push(c.subarray(0, left));
        this.chunks[0] = c.subarray(left);
        left = 0;
      }
    }
    return out;
  }

  /** Remove `n` buffered bytes (n <= buffered): a slice when they lie in one chunk. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (n === 0) return Buffer.alloc(0);
    if (first && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0] as Buffer;
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
