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
  /** A deflated data set may inflate to at most this many bytes (default 256 MiB): deflate bombs stop there. */
  maxInflatedBytes?: number;
  /** Called for each deviation read past leniently, with a message naming tag and offset. */
  onWarning?: (message: string) => void;
}

/** Largest inflated size accepted for a deflated data set, by default. */
export const DEFAULT_MAX_INFLATED_BYTES = 256 * 1024 * 1024;

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
      input = inflateRawSync(bytes, {
        maxOutputLength: options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES,
      });
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
    onWarning: options.onWarning,
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
    onWarning: options.onWarning,
  });
  // pipe() does not forward the input's errors: without this a read error would be unhandled
  const source: AsyncIterable<Buffer> = ts.deflated ? inflate(input) : input;
  const maxInflated = options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  let inflated = 0;
  try {
    for await (const chunk of source) {
      if (ts.deflated && (inflated += (chunk as Buffer).length) > maxInflated) {
        throw new DicomParseError(
          'ERR_DEFLATE',
          `deflated data set inflates to more than ${maxInflated} bytes (maxInflatedBytes): refused as a deflate bomb`,
        );
      }
      parser.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof DicomParseError) throw err;
    throw new DicomParseError('ERR_DEFLATE', `cannot read data set stream: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    // leaving the loop destroys the stream iterated, not a source piped into it, and the
    // inflater also ends at the end of the deflate stream, before bytes that follow it are
    // read: release the source either way (a file's descriptor would otherwise stay open)
    if (source !== input) input.destroy();
  }
  parser.end();
}

function inflate(input: Readable): Readable {
  const inflater = createInflateRaw();
  input.once('error', (err) => inflater.destroy(err));
  return input.pipe(inflater);
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
