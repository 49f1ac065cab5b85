import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { createDeflateRaw, createInflateRaw } from 'node:zlib';
import { DicomParseError } from './errors.js';
import { DatasetParser, type ElementHeader, type ParseHandler, UNDEFINED_LENGTH } from './parser.js';
import { Tags } from './tag.js';
import { transferSyntaxLayout } from './transfer-syntax.js';
import { hasLongHeader, swapUnit, type VR } from './vr.js';
import { elementHeader, type Layout } from './writer.js';

function toOrder(vr: VR, chunk: Buffer, little: boolean): Buffer {
  const unit = swapUnit(vr);
  if (little || unit < 2) return chunk;
  const out = Buffer.from(chunk);
  const view = out.subarray(0, out.length - (out.length % unit));
  if (unit === 2) view.swap16();
  else if (unit === 4) view.swap32();
  else view.swap64();
  return out;
}

/** Re-encodes parse events in another layout; sequences and items become undefined length. */
class ReEncoder implements ParseHandler {
  private readonly out: Buffer[] = [];
  private bulkVR: VR = 'OB';
  private carry: Buffer | undefined;
  /** Inside a UN sequence, contents stay implicit VR little endian. */
  private readonly layouts: Layout[];

  constructor(layout: Layout) {
    this.layouts = [layout];
  }

  private get layout(): Layout {
    return this.layouts[this.layouts.length - 1]!;
  }

  drain(): Buffer[] {
    return this.out.splice(0, this.out.length);
  }

  private header(h: ElementHeader, length: number): Buffer {
    let vr = h.encodedVR ?? h.vr;
    // a long value of a short-header VR cannot be written explicitly: fall back to UN, as DCMTK does
    if (this.layout.explicitVR && !hasLongHeader(vr) && length > 0xffff && length !== UNDEFINED_LENGTH)
      vr = 'UN';
    return elementHeader(h.tag, vr, length, this.layout);
  }

  element(h: ElementHeader, value: Buffer): void {
    if (h.tag === Tags.Item) {
      this.out.push(elementHeader(Tags.Item, 'OB', value.length, this.layout), value);
      return;
    }
    this.out.push(
      this.header(h, value.length),
      toOrder(h.encodedVR ?? h.vr, value, this.layout.littleEndian),
    );
  }

  bulkStart(h: ElementHeader): boolean {
    this.bulkVR = h.tag === Tags.Item ? 'OB' : (h.encodedVR ?? h.vr);
    this.out.push(
      h.tag === Tags.Item ? elementHeader(Tags.Item, 'OB', h.length, this.layout) : this.header(h, h.length),
    );
    return true;
  }

  bulkData(chunk: Buffer): void {
    const unit = swapUnit(this.bulkVR);
    if (this.layout.littleEndian || unit < 2) {
      this.out.push(chunk);
      return;
    }
    const data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const usable = data.length - (data.length % unit);
    this.carry = usable < data.length ? Buffer.from(data.subarray(usable)) : undefined;
    this.out.push(toOrder(this.bulkVR, data.subarray(0, usable), false));
  }

  bulkEnd(): void {
    if (this.carry) this.out.push(this.carry);
    this.carry = undefined;
  }

  sequenceStart(h: ElementHeader): void {
    const un = (h.encodedVR ?? h.vr) === 'UN';
    this.out.push(elementHeader(h.tag, un ? 'UN' : 'SQ', UNDEFINED_LENGTH, this.layout));
    this.layouts.push(un ? { explicitVR: false, littleEndian: true } : this.layout);
  }

  sequenceEnd(): void {
    // in the sequence's own layout: a UN sequence is delimited in implicit VR little endian too
    this.out.push(elementHeader(Tags.SequenceDelimitationItem, 'UN', 0, this.layout));
    this.layouts.pop();
  }

  itemStart(): void {
    this.out.push(elementHeader(Tags.Item, 'UN', UNDEFINED_LENGTH, this.layout));
  }

  itemEnd(): void {
    this.out.push(elementHeader(Tags.ItemDelimitationItem, 'UN', 0, this.layout));
  }

  fragmentsStart(h: ElementHeader): void {
    this.out.push(elementHeader(h.tag, h.vr, UNDEFINED_LENGTH, this.layout));
    this.layouts.push(this.layout);
  }

  fragmentsEnd(): void {
    this.layouts.pop();
    this.out.push(elementHeader(Tags.SequenceDelimitationItem, 'UN', 0, this.layout));
  }
}

/**
 * Stream a data set from one transfer syntax into another (implicit VR LE, explicit VR LE,
 * explicit VR BE, deflated explicit VR LE): values are byte-swapped per VR, VRs come from the
 * dictionary when the source is implicit, large values pass through in chunks. Encapsulated pixel
 * data can be carried between syntaxes that share the same compression only.
 */
export function transcode(input: Readable, fromTs: string, toTs: string): Readable {
  const from = transferSyntaxLayout(fromTs);
  const to = transferSyntaxLayout(toTs);
  const encoder = new ReEncoder({ explicitVR: to.explicitVR, littleEndian: to.littleEndian });
  const parser = new DatasetParser(encoder, {
    explicitVR: from.explicitVR,
    littleEndian: from.littleEndian,
    bulkDataThreshold: 64 * 1024,
    allowOddLengths: true,
  });
  const stage = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      try {
        parser.push(chunk);
        for (const b of encoder.drain()) this.push(b);
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done: TransformCallback) {
      try {
        parser.end();
        for (const b of encoder.drain()) this.push(b);
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
  let source: Readable = input;
  if (from.deflated) {
    const inflate = createInflateRaw();
    inflate.on('error', (err) =>
      stage.destroy(new DicomParseError('ERR_DEFLATE', `deflated input does not inflate: ${err.message}`)),
    );
    source = input.pipe(inflate);
  }
  input.on('error', (err) => stage.destroy(err));
  const encoded = source.pipe(stage);
  if (!to.deflated) return encoded;
  const deflate = createDeflateRaw();
  encoded.on('error', (err) => deflate.destroy(err));
  return encoded.pipe(deflate);
}
