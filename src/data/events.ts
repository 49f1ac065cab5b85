import { pipeline, type Readable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import { DicomParseError } from './errors.js';
import { DatasetParser } from './parser.js';
import { EventRecorder, type ParseEvent } from './recorder.js';
import { transferSyntaxLayout } from './transfer-syntax.js';

/** One parse event, as {@link parseEvents} yields them. */
export type { ParseEvent } from './recorder.js';

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
  const collector = new EventRecorder();
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
