import type { Readable } from 'node:stream';
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
 * by the chunk size and the threshold.
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
  const source: AsyncIterable<Buffer> = ts.deflated ? (input as Readable).pipe(createInflateRaw()) : input;
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
