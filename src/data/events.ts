import { pipeline, type Readable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import { DicomParseError } from './errors.js';
import { DatasetParser, type ElementHeader, type ParseHandler } from './parser.js';
import { transferSyntaxLayout } from './transfer-syntax.js';

/** One parse event, as {@link parseEvents} yields them. */
export type ParseEvent =
  | { type: 'element'; header: ElementHeader; value: Buffer }
  | { type: 'bulkStart'; header: ElementHeader }
  | { type: 'bulkData'; chunk: Buffer }
  | { type: 'bulkEnd' }
  | { type: 'sequenceStart'; header: ElementHeader }
  | { type: 'sequenceEnd' }
  | { type: 'itemStart'; header: ElementHeader }
  | { type: 'itemEnd' }
  | { type: 'fragmentsStart'; header: ElementHeader }
  | { type: 'fragmentsEnd' };

class Collector implements ParseHandler {
  events: ParseEvent[] = [];
  element(header: ElementHeader, value: Buffer): void {
    this.events.push({ type: 'element', header, value });
  }
  bulkStart(header: ElementHeader): boolean {
    this.events.push({ type: 'bulkStart', header });
    return true;
  }
  bulkData(chunk: Buffer): void {
    this.events.push({ type: 'bulkData', chunk });
  }
  bulkEnd(): void {
    this.events.push({ type: 'bulkEnd' });
  }
  sequenceStart(header: ElementHeader): void {
    this.events.push({ type: 'sequenceStart', header });
  }
  sequenceEnd(): void {
    this.events.push({ type: 'sequenceEnd' });
  }
  itemStart(header: ElementHeader): void {
    this.events.push({ type: 'itemStart', header });
  }
  itemEnd(): void {
    this.events.push({ type: 'itemEnd' });
  }
  fragmentsStart(header: ElementHeader): void {
    this.events.push({ type: 'fragmentsStart', header });
  }
  fragmentsEnd(): void {
    this.events.push({ type: 'fragmentsEnd' });
  }
}

/**
 * Parse a data set stream into events as the chunks arrive: small values whole, values above
 * `bulkDataThreshold` (default 1 MiB) as bulkStart / bulkData… / bulkEnd, so memory stays bounded
 * by the chunk size and the threshold. A deflated data set is inflated as it streams (nothing
 * caps its inflated size: only the threshold and the chunk size bound what is held).
 */
export async function* parseEvents(
  input: Readable | AsyncIterable<Buffer>,
  transferSyntaxUid: string,
  options: { bulkDataThreshold?: number; maxDepth?: number; allowOddLengths?: boolean } = {},
): AsyncGenerator<ParseEvent> {
  const ts = transferSyntaxLayout(transferSyntaxUid);
  const collector = new Collector();
  const parser = new DatasetParser(collector, {
    ...options,
    explicitVR: ts.explicitVR,
    littleEndian: ts.littleEndian,
  });
  const source: AsyncIterable<Buffer> = ts.deflated ? inflated(input) : input;
  try {
    for await (const chunk of source) {
      parser.push(chunk);
      if (collector.events.length > 0) {
        const batch = collector.events;
        collector.events = [];
        yield* batch;
      }
    }
  } catch (err) {
    if (err instanceof DicomParseError) throw err;
    throw new DicomParseError('ERR_DEFLATE', `cannot read data set stream: ${(err as Error).message}`, {
      cause: err,
    });
  }
  parser.end();
  yield* collector.events;
}

/**
 * The inflated bytes of a deflated data set, from a stream or any async iterable. An input
 * that fails fails the inflated stream too (the error ends the iteration), and stopping the
 * iteration early destroys the input.
 */
function inflated(input: Readable | AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  // errors reach the iteration through the inflate stream, which pipeline destroys with them
  return pipeline(input, createInflateRaw(), () => undefined);
}
