import { ByteQueue } from './byte-queue.js';
import { implicitVR, isPixelRepresentationVR } from './dictionary.js';
import { DicomParseError } from './errors.js';
import { privateImplicitVR } from './private-dictionary.js';
import { EventRecorder } from './recorder.js';
import { formatTag, isPrivateCreator, type Tag, Tags } from './tag.js';
import { binaryWordSize, hasLongHeader, isVR, swapUnit, type VR } from './vr.js';

/** Length value meaning "undefined length" (delimited by items / sequence delimiters). */
export const UNDEFINED_LENGTH = 0xffffffff;

/** Header of one element (or encapsulated fragment, tag (FFFE,E000)) as read. */
export interface ElementHeader {
  tag: Tag;
  vr: VR;
  /** Value length, or {@link UNDEFINED_LENGTH}. */
  length: number;
  /** Absolute byte offset of the element's header. */
  offset: number;
  /** Absolute byte offset of its value. */
  valueOffset: number;
  /** Nesting depth: 0 at the top level of the data set. */
  depth: number;
  /**
   * The VR the element is encoded with, when it differs from `vr`: `UN` for a UN value whose
   * tag the dictionary knows (read with the dictionary's VR, PS3.5 6.2.2) and for a UN that is
   * really a sequence. Writers keep it, so what was read is sent on as it came.
   */
  encodedVR?: VR;
}

/**
 * What a {@link DatasetParser} reports. Values arrive in little-endian byte order whatever the
 * transfer syntax (big-endian input is swapped per VR), so consumers have one canonical form.
 */
export interface ParseHandler {
  /** A complete value no larger than the bulk threshold (`h.tag` is Item for a pixel fragment). */
  element(h: ElementHeader, value: Buffer): void;
  /**
   * A value above the bulk threshold starts. Return false to have its bytes skipped, unseen
   * (bulkEnd is still called when it has been skipped).
   */
  bulkStart(h: ElementHeader): boolean;
  bulkData(chunk: Buffer): void;
  bulkEnd(): void;
  sequenceStart(h: ElementHeader): void;
  sequenceEnd(): void;
  itemStart(h: ElementHeader): void;
  itemEnd(): void;
  /** Encapsulated pixel data starts; fragments follow as elements tagged (FFFE,E000). */
  fragmentsStart(h: ElementHeader): void;
  fragmentsEnd(): void;
}

/** Limits and layout of a parse. */
export interface ParserOptions {
  explicitVR: boolean;
  littleEndian: boolean;
  /** Values longer than this are delivered through bulkStart/bulkData/bulkEnd. Default 1 MiB. */
  bulkDataThreshold?: number;
  /** Absolute offset of the first byte pushed (e.g. the data set offset in a file). */
  baseOffset?: number;
  /** Total bytes that will be pushed, when known: lengths past it fail before anything is read. */
  totalLength?: number;
  /** Maximum nesting of sequences. Default 32. */
  maxDepth?: number;
  /** Accept odd value lengths (DCMTK does, with a warning). Default false. */
  allowOddLengths?: boolean;
  /** Copy small values out of the received chunks (default true; false keeps zero-copy views). */
  copyValues?: boolean;
  /**
   * Called for each deviation read past leniently (bytes that are not a VR, ...), with a
   * message naming the tag and offset. Without it deviations pass silently.
   */
  onWarning?: (message: string) => void;
}

type FrameKind = 'root' | 'sequence' | 'item' | 'fragments';

interface Frame {
  kind: FrameKind;
  /** Absolute end offset, or -1 for undefined length. */
  end: number;
  explicitVR: boolean;
  /** Byte order inside: a UN sequence is implicit VR little endian in any transfer syntax. */
  little: boolean;
  tag: Tag;
  offset: number;
  /** Pixel Representation (0028,0103) read at this level (root or item), or -1. */
  pixelRep: number;
  /** Private creators read at this level in implicit VR: (group << 8 | block) → creator. */
  creators: Map<number, string> | undefined;
}

/** Upper bound of a value re-read as a sequence (a UN whose tag the dictionary says is SQ). */
const MAX_UN_SEQUENCE = 16 * 1024 * 1024;

const LONG_VR_CACHE = new Map<number, VR>();

/**
 * Incremental DICOM data set parser: feed it chunks with {@link push} as they arrive and call
 * {@link end} at the end of input. Memory is bounded by the bulk threshold: a value longer than it
 * is streamed through, and no buffer is ever sized from an untrusted length before the bytes exist.
 */
export class DatasetParser {
  private readonly queue = new ByteQueue();
  private readonly stack: Frame[];
  private readonly little: boolean;
  private readonly threshold: number;
  private readonly maxDepth: number;
  private readonly allowOdd: boolean;
  private readonly copy: boolean;
  private readonly limit: number;
  private readonly onWarning: ((message: string) => void) | undefined;
  private pos: number;
  /** Header of a small value waiting for its bytes, and the byte order of those bytes. */
  private pending: ElementHeader | undefined;
  private pendingLittle = true;
  private bulkLittle = true;
  /** Header of the bulk value being streamed and the bytes still to come. */
  private bulk: ElementHeader | undefined;
  private bulkRemaining = 0;
  private bulkDeliver = true;
  private carry: Buffer | undefined;
  private ended = false;

  constructor(
    private readonly handler: ParseHandler,
    options: ParserOptions,
  ) {
    this.little = options.littleEndian;
    this.threshold = options.bulkDataThreshold ?? 1024 * 1024;
    this.maxDepth = options.maxDepth ?? 32;
    this.allowOdd = options.allowOddLengths ?? false;
    this.copy = options.copyValues ?? true;
    this.onWarning = options.onWarning;
    this.pos = options.baseOffset ?? 0;
    this.limit = options.totalLength === undefined ? -1 : this.pos + options.totalLength;
    this.stack = [
      {
        kind: 'root',
        end: this.limit,
        explicitVR: options.explicitVR,
        little: this.little,
        tag: 0,
        offset: this.pos,
        pixelRep: -1,
        creators: undefined,
      },
    ];
  }

  /** Absolute offset of the next byte the parser will consume. */
  get position(): number {
    return this.pos;
  }

  /** Bytes of the current bulk value not yet received (0 when none is being streamed). */
  get bulkBytesRemaining(): number {
    return this.bulk ? this.bulkRemaining : 0;
  }

  /** True while a bulk value the handler declined (bulkStart returned false) is being skipped. */
  get skippingBulk(): boolean {
    return this.bulk !== undefined && !this.bulkDeliver;
  }

  /**
   * Skip `n` bytes of the current declined bulk value without pushing them (the caller seeks past
   * them in its source instead, e.g. a file).
   */
  skipBulk(n: number): void {
    if (!this.bulk || this.bulkDeliver || n > this.bulkRemaining || this.queue.available > 0) {
      throw new Error('skipBulk: no declined bulk value waiting for bytes');
    }
    this.bulkRemaining -= n;
    this.pos += n;
    if (this.bulkRemaining === 0) this.finishBulk();
  }

  /** Feed the next chunk of input. Throws {@link DicomParseError} on malformed input. */
  push(chunk: Buffer): void {
    if (this.ended) throw new Error('push after end');
    this.queue.push(chunk);
    this.run();
  }

  /** Signal the end of input; throws when it ends inside an element or an open sequence. */
  end(): void {
    this.ended = true;
    this.run();
    if (this.bulk) {
      throw this.error(
        'ERR_TRUNCATED',
        this.bulk,
        `value of ${this.bulkRemaining} more bytes missing at end of input`,
      );
    }
    if (this.pending) {
      throw this.error(
        'ERR_TRUNCATED',
        this.pending,
        `value length ${this.pending.length} but only ${this.queue.available} bytes left`,
      );
    }
    if (this.queue.available > 0) {
      throw new DicomParseError(
        'ERR_TRUNCATED',
        `truncated element header at offset ${this.pos} (${this.queue.available} bytes left)`,
        { offset: this.pos },
      );
    }
    // DCMTK accepts undefined-length sequences/items left open at the end of input; so do we,
    // but a defined length promising more bytes than arrived is truncation
    while (this.stack.length > 1) {
      const f = this.stack[this.stack.length - 1]!;
      if (f.end > this.pos) {
        throw new DicomParseError(
          'ERR_TRUNCATED',
          `${f.kind} ${formatTag(f.tag)} at offset ${f.offset} ends at ${f.end} but input ends at ${this.pos}`,
          { tag: f.tag, offset: f.offset },
        );
      }
      this.popFrame();
    }
  }

  private error(code: DicomParseError['code'], h: ElementHeader, cause: string): DicomParseError {
    return new DicomParseError(code, `${formatTag(h.tag)} at offset ${h.offset}: ${cause}`, {
      tag: h.tag,
      offset: h.offset,
    });
  }

  private popFrame(): void {
    const f = this.stack.pop()!;
    if (f.kind === 'item') this.handler.itemEnd();
    else if (f.kind === 'sequence') this.handler.sequenceEnd();
    else if (f.kind === 'fragments') this.handler.fragmentsEnd();
  }

  private pushFrame(kind: FrameKind, h: ElementHeader, explicitVR: boolean, little: boolean): void {
    if (this.stack.length > this.maxDepth * 2) {
      throw this.error('ERR_NESTING_TOO_DEEP', h, `nesting deeper than ${this.maxDepth} sequences`);
    }
    const end = h.length === UNDEFINED_LENGTH ? -1 : this.pos + h.length;
    this.stack.push({
      kind,
      end,
      explicitVR,
      little,
      tag: h.tag,
      offset: h.offset,
      pixelRep: -1,
      creators: undefined,
    });
  }

  /** Pixel Representation in force at the current level (the nearest item or root with one). */
  private pixelRepresentation(): number {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const p = this.stack[i]!.pixelRep;
      if (p >= 0) return p;
    }
    return -1;
  }

  /**
   * The VR of an element read in implicit VR: the dictionary's, with US or SS decided by Pixel
   * Representation, and a private element's from the private dictionary under its creator.
   */
  private implicitVRAt(frame: Frame, tag: Tag): VR {
    const vr = implicitVR(tag);
    if (vr === 'US') {
      return isPixelRepresentationVR(tag) && this.pixelRepresentation() === 1 ? 'SS' : 'US';
    }
    if (vr === 'UN' && (tag & 0x10000) !== 0 && (tag & 0xffff) >= 0x1000) {
      const group = tag >>> 16;
      const creator = this.creatorOf(frame, (group << 8) | ((tag >>> 8) & 0xff));
      if (creator !== undefined) return privateImplicitVR(group, creator, tag & 0xff);
    }
    return vr;
  }

  private creatorOf(frame: Frame, block: number): string | undefined {
    return frame.creators?.get(block);
  }

  /** Remember what later elements' VRs depend on (Pixel Representation, private creators). */
  private note(h: ElementHeader, value: Buffer, little: boolean): void {
    const frame = this.stack[this.stack.length - 1]!;
    if (h.tag === 0x00280103) {
      if (value.length >= 2) frame.pixelRep = little ? value.readUInt16LE(0) : value.readUInt16BE(0);
    } else if (!frame.explicitVR && isPrivateCreator(h.tag)) {
      const group = h.tag >>> 16;
      frame.creators ??= new Map();
      frame.creators.set((group << 8) | (h.tag & 0xff), value.toString('latin1').replace(/[ \0]+$/, ''));
    }
  }

  /**
   * The VR a UN value of a known tag is read with (PS3.5 6.2.2: a UN whose tag the dictionary
   * knows), when its length allows it; undefined keeps UN.
   */
  private knownVRForUN(h: ElementHeader, little: boolean): VR | undefined {
    if ((h.tag & 0x10000) !== 0 || (h.tag & 0xffff) === 0) return undefined;
    const frame = this.stack[this.stack.length - 1]!;
    const vr = this.implicitVRAt(frame, h.tag);
    if (vr === 'UN') return undefined;
    // a sequence inside UN is implicit VR little endian in any transfer syntax; other values
    // are taken as they are only where UN bytes and the VR's bytes are in the same order
    if (vr === 'SQ') return h.length <= MAX_UN_SEQUENCE && h.length <= this.threshold ? 'SQ' : undefined;
    if (!little) return undefined;
    const word = binaryWordSize(vr);
    return word > 1 && h.length % word !== 0 ? undefined : vr;
  }

  /**
   * Replay a UN value of a known SQ tag as the sequence it holds (implicit VR little endian);
   * false when its bytes are not one, and it stays UN.
   */
  private replayUNSequence(h: ElementHeader, value: Buffer): boolean {
    const recorder = new EventRecorder();
    const head = Buffer.alloc(8);
    head.writeUInt16LE(h.tag >>> 16, 0);
    head.writeUInt16LE(h.tag & 0xffff, 2);
    head.writeUInt32LE(UNDEFINED_LENGTH, 4);
    const tail = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
    const warnings: string[] = [];
    try {
      const sub = new DatasetParser(recorder, {
        explicitVR: false,
        littleEndian: true,
        baseOffset: h.valueOffset - 8,
        totalLength: value.length + 16,
        bulkDataThreshold: Number.MAX_SAFE_INTEGER,
        maxDepth: Math.max(1, this.maxDepth - h.depth),
        allowOddLengths: this.allowOdd,
        copyValues: false,
        onWarning: (m) => warnings.push(m),
      });
      sub.push(Buffer.concat([head, value, tail]));
      sub.end();
    } catch (err) {
      if (err instanceof DicomParseError) return false;
      throw err;
    }
    if (!recorder.isOneSequence()) return false;
    for (const w of warnings) this.onWarning?.(w);
    recorder.replay(this.handler, h, h.depth);
    return true;
  }

  /** The innermost defined end enclosing the current position, or -1. */
  private boundary(): number {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const e = this.stack[i]!.end;
      if (e >= 0) return e;
    }
    return -1;
  }

  private checkFits(h: ElementHeader): void {
    if (h.length === UNDEFINED_LENGTH) return;
    const b = this.boundary();
    if (b >= 0 && h.valueOffset + h.length > b) {
      const what = b === this.limit ? 'end of input' : 'end of enclosing item/sequence';
      throw this.error(
        'ERR_LENGTH_PAST_END',
        h,
        `value length ${h.length} runs past the ${what} (${b - h.valueOffset} bytes left)`,
      );
    }
  }

  private readTag(b: Buffer, at: number, little: boolean): Tag {
    return little
      ? ((b.readUInt16LE(at) << 16) | b.readUInt16LE(at + 2)) >>> 0
      : ((b.readUInt16BE(at) << 16) | b.readUInt16BE(at + 2)) >>> 0;
  }

  private toLittle(vr: VR, value: Buffer, little: boolean): Buffer {
    const unit = swapUnit(vr);
    if (little || unit < 2) return value;
    const out = Buffer.from(value);
    const usable = out.length - (out.length % unit);
    const view = out.subarray(0, usable);
    if (unit === 2) view.swap16();
    else if (unit === 4) view.swap32();
    else view.swap64();
    return out;
  }

  private finishBulk(): void {
    this.bulk = undefined;
    this.carry = undefined;
    this.handler.bulkEnd();
  }

  private deliverBulk(chunk: Buffer): void {
    const h = this.bulk!;
    const unit = swapUnit(h.encodedVR ?? h.vr);
    if (this.bulkLittle || unit < 2) {
      this.handler.bulkData(chunk);
      return;
    }
    // big endian: swap whole words, carrying a split word over to the next chunk
    let data = this.carry ? Buffer.concat([this.carry, chunk]) : Buffer.from(chunk);
    const usable = data.length - (data.length % unit);
    this.carry = usable < data.length ? Buffer.from(data.subarray(usable)) : undefined;
    if (this.bulkRemaining === 0 && this.carry) {
      data = Buffer.concat([data.subarray(0, usable), this.carry]);
      this.carry = undefined;
      const whole = data.subarray(0, usable);
      if (unit === 2) whole.swap16();
      else if (unit === 4) whole.swap32();
      else whole.swap64();
      this.handler.bulkData(data);
      return;
    }
    data = data.subarray(0, usable);
    if (unit === 2) data.swap16();
    else if (unit === 4) data.swap32();
    else data.swap64();
    if (data.length > 0) this.handler.bulkData(data);
  }

  private run(): void {
    const q = this.queue;
    for (;;) {
      if (this.bulk) {
        if (!this.bulkDeliver && q.available === 0) return;
        while (this.bulkRemaining > 0 && q.available > 0) {
          const piece = q.takeSome(this.bulkRemaining);
          this.bulkRemaining -= piece.length;
          this.pos += piece.length;
          if (this.bulkDeliver) this.deliverBulk(piece);
        }
        if (this.bulkRemaining > 0) return;
        this.finishBulk();
        continue;
      }
      if (this.pending) {
        const h = this.pending;
        if (q.available < h.length) return;
        let value = h.length === 0 ? Buffer.alloc(0) : q.peek(h.length);
        q.skip(h.length);
        this.pos += h.length;
        this.pending = undefined;
        if (this.copy && value.length > 0) value = Buffer.from(value);
        const little = this.pendingLittle;
        if (h.encodedVR === 'UN' && h.vr === 'SQ') {
          if (this.replayUNSequence(h, value)) continue;
          h.vr = 'UN';
          h.encodedVR = undefined;
        }
        this.handler.element(h, this.toLittle(h.encodedVR ?? h.vr, value, little));
        if (h.tag === 0x00280103 || (h.tag & 0x10000) !== 0) this.note(h, value, little);
        continue;
      }
      const frame = this.stack[this.stack.length - 1]!;
      if (frame.end >= 0 && this.pos >= frame.end) {
        if (frame.kind === 'root') return;
        if (this.pos > frame.end) {
          throw new DicomParseError(
            'ERR_LENGTH_PAST_END',
            `${frame.kind} ${formatTag(frame.tag)} at offset ${frame.offset}: contents run past its length (end ${frame.end}, reached ${this.pos})`,
            { tag: frame.tag, offset: frame.offset },
          );
        }
        this.popFrame();
        continue;
      }
      if (q.available < 8) return;
      const head = q.peek(8);
      const little = frame.little;
      const tag = this.readTag(head, 0, little);
      const offset = this.pos;
      const depth = this.depth();
      if (tag >>> 16 === 0xfffe) {
        const length = little ? head.readUInt32LE(4) : head.readUInt32BE(4);
        const h: ElementHeader = { tag, vr: 'UN', length, offset, valueOffset: offset + 8, depth };
        this.delimiter(frame, h);
        continue;
      }
      let vr: VR;
      let length: number;
      let headerLength: number;
      let unknownVR = false;
      if (frame.explicitVR) {
        const code = (head[4]! << 8) | head[5]!;
        let known = LONG_VR_CACHE.get(code);
        if (!known) {
          const text = String.fromCharCode(head[4]!, head[5]!);
          if (isVR(text)) {
            known = text;
            LONG_VR_CACHE.set(code, known);
          } else {
            unknownVR = true;
          }
        }
        if (known === undefined) {
          // bytes that are not a VR: read on as DCMTK does, with a 2-byte length, as UN
          vr = 'UN';
          length = little ? head.readUInt16LE(6) : head.readUInt16BE(6);
          headerLength = 8;
          this.onWarning?.(
            `${formatTag(tag)} at offset ${offset}: non-standard VR bytes ${head[4]!.toString(16).padStart(2, '0')} ${head[5]!.toString(16).padStart(2, '0')}, read as UN with a 2-byte length (as DCMTK does)`,
          );
        } else {
          vr = known;
          if (hasLongHeader(vr)) {
            if (q.available < 12) return;
            const b = q.peek(12);
            length = little ? b.readUInt32LE(8) : b.readUInt32BE(8);
            headerLength = 12;
          } else {
            length = little ? head.readUInt16LE(6) : head.readUInt16BE(6);
            headerLength = 8;
          }
        }
      } else {
        vr = this.implicitVRAt(frame, tag);
        length = little ? head.readUInt32LE(4) : head.readUInt32BE(4);
        headerLength = 8;
      }
      q.skip(headerLength);
      this.pos += headerLength;
      const h: ElementHeader = { tag, vr, length, offset, valueOffset: this.pos, depth };
      if (length === UNDEFINED_LENGTH) {
        if (vr === 'SQ' || (!frame.explicitVR && tag !== Tags.PixelData)) {
          h.vr = 'SQ';
          this.pushFrame('sequence', h, frame.explicitVR, little);
          this.handler.sequenceStart(h);
        } else if (vr === 'UN' && !unknownVR) {
          // PS3.5 6.2.2: UN of undefined length holds an implicit VR little endian sequence
          h.vr = 'SQ';
          h.encodedVR = 'UN';
          this.pushFrame('sequence', h, false, true);
          this.handler.sequenceStart(h);
        } else if (vr === 'OB' || vr === 'OW') {
          this.pushFrame('fragments', h, frame.explicitVR, little);
          this.handler.fragmentsStart(h);
        } else {
          throw this.error('ERR_BAD_VALUE', h, `undefined length is not allowed for VR ${vr}`);
        }
        continue;
      }
      this.checkFits(h);
      if (vr === 'SQ') {
        this.pushFrame('sequence', h, frame.explicitVR, little);
        this.handler.sequenceStart(h);
        continue;
      }
      if (vr === 'UN' && !unknownVR) {
        const known = this.knownVRForUN(h, little);
        if (known !== undefined) {
          h.vr = known;
          h.encodedVR = 'UN';
        }
      }
      this.beginValue(h, little);
    }
  }

  private depth(): number {
    let d = 0;
    for (const f of this.stack) if (f.kind === 'sequence' || f.kind === 'fragments') d++;
    return d;
  }

  private beginValue(h: ElementHeader, little: boolean): void {
    if (h.length % 2 === 1 && !this.allowOdd) {
      throw this.error('ERR_ODD_LENGTH', h, `odd value length ${h.length}`);
    }
    if (h.length > this.threshold) {
      if (h.encodedVR === 'UN' && h.vr === 'SQ') {
        h.vr = 'UN';
        h.encodedVR = undefined;
      }
      this.bulk = h;
      this.bulkLittle = little;
      this.bulkRemaining = h.length;
      this.bulkDeliver = this.handler.bulkStart(h);
    } else {
      this.pending = h;
      this.pendingLittle = little;
    }
  }

  private delimiter(frame: Frame, h: ElementHeader): void {
    const q = this.queue;
    if (h.tag === Tags.Item) {
      if (frame.kind === 'sequence') {
        q.skip(8);
        this.pos += 8;
        this.checkFits(h);
        this.pushFrame('item', h, frame.explicitVR, frame.little);
        this.handler.itemStart(h);
        return;
      }
      if (frame.kind === 'fragments') {
        if (h.length === UNDEFINED_LENGTH)
          throw this.error('ERR_BAD_VALUE', h, 'pixel data fragment of undefined length');
        q.skip(8);
        this.pos += 8;
        h.vr = 'OB';
        this.checkFits(h);
        this.beginValue(h, frame.little);
        return;
      }
      throw this.error('ERR_BAD_DELIMITER', h, `item outside a sequence (in ${frame.kind})`);
    }
    if (h.tag === Tags.ItemDelimitationItem) {
      if (frame.kind === 'item' && frame.end < 0) {
        q.skip(8);
        this.pos += 8;
        this.popFrame();
        return;
      }
      throw this.error(
        'ERR_BAD_DELIMITER',
        h,
        `item delimiter outside an undefined-length item (in ${frame.kind})`,
      );
    }
    if (h.tag === Tags.SequenceDelimitationItem) {
      if ((frame.kind === 'sequence' || frame.kind === 'fragments') && frame.end < 0) {
        q.skip(8);
        this.pos += 8;
        this.popFrame();
        return;
      }
      throw this.error(
        'ERR_BAD_DELIMITER',
        h,
        `sequence delimiter outside an undefined-length sequence (in ${frame.kind})`,
      );
    }
    throw this.error('ERR_BAD_DELIMITER', h, 'unknown delimiter tag');
  }
}
