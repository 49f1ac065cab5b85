import type { Readable } from 'node:stream';
import { createInflateRaw, inflateRawSync } from 'node:zlib';
import { type BulkPolicy, DatasetBuilder } from './builder.js';
import type { Dataset } from './dataset.js';
import { DicomParseError } from './errors.js';
import { DatasetParser, type ParseHandler } from './parser.js';
import { transferSyntaxLayout } from './transfer-syntax.js';

/** Options of whole-buffer and stream decoding. */
export interface DecodeOptions {
  /** Maximum nesting of sequences (default 32). */
  maxDepth?: number;
  /** Accept odd value lengths (default false). */
  allowOddLengths?: boolean;
  /** Decoding from a stream: values above this are spilled or sunk (default 1 MiB). */
  bulkDataThreshold?: number;
  /** Decoding from a stream: what to do with large values (default: spill to a temp file). */
  bulk?: BulkPolicy;
}

/** Largest inflated size accepted for a deflated data set held in memory. */
const MAX_INFLATED = 256 * 1024 * 1024;

/**
 * Decode a complete data set held in memory (values are views into `bytes`; nothing is sized
 * from a length before the bytes are known to exist).
 */
export function decodeDataset(
  bytes: Buffer,
  transferSyntaxUid: string,
  options: DecodeOptions = {},
): Dataset {
  const ts = transferSyntaxLayout(transferSyntaxUid);
  let input = bytes;
  if (ts.deflated) {
    try {
      input = inflateRawSync(bytes, { maxOutputLength: MAX_INFLATED });
    } catch (err) {
      throw new DicomParseError(
        'ERR_DEFLATE',
        `deflated data set does not inflate: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  const builder = new DatasetBuilder({ kind: 'memory' });
  const parser = new DatasetParser(builder, {
    explicitVR: ts.explicitVR,
    littleEndian: ts.littleEndian,
    totalLength: input.length,
    bulkDataThreshold: Number.MAX_SAFE_INTEGER,
    copyValues: false,
    maxDepth: options.maxDepth,
    allowOddLengths: options.allowOddLengths,
  });
  parser.push(input);
  parser.end();
  return builder.dataset;
}

/**
 * Feed a stream's bytes (a data set in the given transfer syntax; deflated ones are inflated
 * on the fly) to a parse handler.
 */
export async function parseStream(
  input: Readable,
  transferSyntaxUid: string,
  handler: ParseHandler,
  options: DecodeOptions & { baseOffset?: number } = {},
): Promise<void> {
  const ts = transferSyntaxLayout(transferSyntaxUid);
  const parser = new DatasetParser(handler, {
    explicitVR: ts.explicitVR,
    littleEndian: ts.littleEndian,
    bulkDataThreshold: options.bulkDataThreshold,
    maxDepth: options.maxDepth,
    allowOddLengths: options.allowOddLengths,
    baseOffset: ts.deflated ? 0 : options.baseOffset,
  });
  const source: AsyncIterable<Buffer> = ts.deflated ? input.pipe(createInflateRaw()) : input;
  try {
    for await (const chunk of source) parser.push(chunk as Buffer);
  } catch (err) {
    // leaving the loop destroys the stream iterated, not a source piped into it: release that
    // too (a file's descriptor would otherwise stay open for good)
    if (source !== input) input.destroy();
    if (err instanceof DicomParseError) throw err;
    throw new DicomParseError('ERR_DEFLATE', `cannot read data set stream: ${(err as Error).message}`, {
      cause: err,
    });
  }
  parser.end();
}

/** Read a data set from a stream with bounded memory: large values are spilled to temp files by default. */
export async function readDataset(
  input: Readable,
  transferSyntaxUid: string,
  options: DecodeOptions = {},
): Promise<Dataset> {
  const builder = new DatasetBuilder(options.bulk ?? { kind: 'spill' });
  try {
    await parseStream(input, transferSyntaxUid, builder, options);
  } catch (err) {
    builder.abort();
    throw err;
  }
  return builder.dataset;
}
