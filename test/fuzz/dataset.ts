/**
 * Fuzz targets of the data set reader (src/data/parser.ts, decode.ts) in every
 * transfer syntax family: implicit VR LE, explicit VR LE, explicit VR BE and
 * deflated explicit VR LE, including deflate bombs and deep undefined-length
 * nesting.
 */
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import {
  Dataset,
  DatasetBuilder,
  DatasetParser,
  DicomParseError,
  datasetToJson,
  decodeDataset,
  encodeDataset,
  type ParseHandler,
  TransferSyntax,
  transferSyntaxLayout,
  validateDataset,
} from '../../src/data/index.js';
import { buildDataset, datasetSpecs, realWorldModels, SEQUENCE_TAGS } from '../helpers/dataset-arbitrary.js';
import { bytesFrom, expectTyped, type FuzzTarget, mutated, noteInput, target } from './harness.js';

export const SYNTAXES = [
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
] as const;

const SHORT_NAME: Record<string, string> = {
  [TransferSyntax.ImplicitVRLittleEndian]: 'implicit LE',
  [TransferSyntax.ExplicitVRLittleEndian]: 'explicit LE',
  [TransferSyntax.ExplicitVRBigEndian]: 'explicit BE',
  [TransferSyntax.DeflatedExplicitVRLittleEndian]: 'deflated',
};

/** A valid data set (model). */
export const anyDataset: fc.Arbitrary<Dataset> = datasetSpecs(6).map((s) => buildDataset(s));

/** Valid encodings of a data set in the given transfer syntax. */
export function validDatasetBytes(ts: string): fc.Arbitrary<Buffer> {
  return anyDataset.map((ds) => encodeDataset(ds, ts));
}

/** For deflated syntaxes the mutations also hit the inflated bytes (re-deflated), not only the compressed stream. */
function fuzzInput(ts: string): fc.Arbitrary<Buffer> {
  if (!transferSyntaxLayout(ts).deflated) return bytesFrom(validDatasetBytes(ts));
  return fc.oneof(
    bytesFrom(validDatasetBytes(ts)),
    mutated(validDatasetBytes(TransferSyntax.ExplicitVRLittleEndian)).map((b) => deflateRawSync(b)),
  );
}

/** A handler that drops everything: the streaming parser's checks alone. */
const SINK: ParseHandler = {
  element() {},
  bulkStart: () => true,
  bulkData() {},
  bulkEnd() {},
  sequenceStart() {},
  sequenceEnd() {},
  itemStart() {},
  itemEnd() {},
  fragmentsStart() {},
  fragmentsEnd() {},
};

/** Nested undefined-length sequences/items `depth` deep, delimiters optionally dropped or swapped. */
const deepNesting = fc
  .record({
    depth: fc.integer({ min: 1, max: 200 }),
    explicit: fc.boolean(),
    closeFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    swap: fc.boolean(),
  })
  .map(({ depth, explicit, closeFraction, swap }) => {
    const seqTag = SEQUENCE_TAGS[0]!;
    const head = Buffer.alloc(explicit ? 12 : 8);
    head.writeUInt16LE(seqTag >>> 16, 0);
    head.writeUInt16LE(seqTag & 0xffff, 2);
    if (explicit) {
      head.write('SQ', 4, 'latin1');
      head.writeUInt32LE(0xffffffff, 8);
    } else head.writeUInt32LE(0xffffffff, 4);
    const item = Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]);
    const itemEnd = Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]);
    const seqEnd = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
    const parts: Buffer[] = [];
    for (let i = 0; i < depth; i++) parts.push(head, item);
    const closed = Math.floor(depth * closeFraction);
    for (let i = 0; i < closed; i++) parts.push(...(swap ? [seqEnd, itemEnd] : [itemEnd, seqEnd]));
    return { bytes: Buffer.concat(parts), explicit };
  });

/** decodeDataset's limit on an inflated data set held in memory (src/data/decode.ts). */
const MAX_INFLATED = 256 * 1024 * 1024;

/** A deflated explicit LE data set announcing one huge OB value whose zeros inflate `ratio`-fold. */
function deflateBomb(inflatedBytes: number, length: number): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16LE(0x0009, 0);
  head.writeUInt16LE(0x1001, 2);
  head.write('OB', 4, 'latin1');
  head.writeUInt32LE(length, 8);
  return deflateRawSync(Buffer.concat([head, Buffer.alloc(inflatedBytes)]), { level: 9 });
}
const BOMBS = new Map<number, Buffer>();
function cachedBomb(mib: number): Buffer {
  let b = BOMBS.get(mib);
  if (!b) {
    b = deflateBomb(mib * 1024 * 1024, 0xfffffff0);
    BOMBS.set(mib, b);
  }
  return b;
}

/**
 * Inputs for the lenient paths (issue 18): data sets with UN sequences, item character sets and
 * data-dependent VRs, mutated; explicit VR elements whose VR bytes are random; and UN values of
 * a known SQ tag (re-read as a sequence when they are one) holding random or mutated bytes.
 */
function lenientInput(ts: string): fc.Arbitrary<Buffer> {
  const layout = transferSyntaxLayout(ts);
  const models = realWorldModels.map((m) => encodeDataset(m.dataset, ts));
  const head = (tag: number, vr: string, length: number) => {
    const b = Buffer.alloc(12);
    const le = layout.littleEndian;
    if (le) {
      b.writeUInt16LE(tag >>> 16, 0);
      b.writeUInt16LE(tag & 0xffff, 2);
    } else {
      b.writeUInt16BE(tag >>> 16, 0);
      b.writeUInt16BE(tag & 0xffff, 2);
    }
    b.write(vr, 4, 'latin1');
    if (le) b.writeUInt32LE(length, 8);
    else b.writeUInt32BE(length, 8);
    return b;
  };
  const badVR = fc
    .tuple(fc.uint8Array({ minLength: 2, maxLength: 2 }), fc.uint8Array({ maxLength: 40 }), models)
    .map(([vr, value, rest]) => {
      const h = Buffer.alloc(8);
      h.writeUInt16LE(0x0010, 0);
      h.writeUInt16LE(0x0020, 2);
      h[4] = vr[0]!;
      h[5] = vr[1]!;
      h.writeUInt16LE(value.length, 6);
      return Buffer.concat([h, Buffer.from(value), rest]);
    });
  const unSequence = fc
    .tuple(
      fc.oneof(
        mutated(models),
        fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
      ),
      fc.boolean(),
    )
    .map(([value, undefinedLength]) =>
      Buffer.concat([head(SEQUENCE_TAGS[0]!, 'UN', undefinedLength ? 0xffffffff : value.length), value]),
    );
  return layout.explicitVR ? fc.oneof(mutated(models), badVR, unSequence) : mutated(models);
}

export const datasetTargets: FuzzTarget[] = [
  ...SYNTAXES.map((ts) =>
    target(
      'dataset',
      `${SHORT_NAME[ts]}: lenient paths (UN sequences, item character sets, bytes that are not a VR) decode or fail with DicomParseError`,
      200,
      () =>
        fc.property(lenientInput(ts), (input) => {
          noteInput(input);
          const ds = expectTyped([DicomParseError], () => decodeDataset(input, ts), 4 * 1024 * 1024);
          if (!ds) return;
          const again = encodeDataset(ds, ts);
          assert.ok(encodeDataset(decodeDataset(again, ts), ts).equals(again), 're-encoding is not stable');
          // JSON and validation of whatever was read leniently never throw
          datasetToJson(ds);
          validateDataset(ds);
        }),
    ),
  ),
  ...SYNTAXES.map((ts) =>
    target('dataset', `${SHORT_NAME[ts]}: valid data sets round-trip byte for byte`, 150, () =>
      fc.property(validDatasetBytes(ts), (bytes) => {
        noteInput(bytes);
        const back = decodeDataset(bytes, ts);
        assert.ok(encodeDataset(back, ts).equals(bytes), 'encode(decode(x)) differs from x');
      }),
    ),
  ),
  ...SYNTAXES.map((ts) =>
    target(
      'dataset',
      `${SHORT_NAME[ts]}: mutated and random data sets decode or fail with DicomParseError`,
      300,
      () =>
        fc.property(fuzzInput(ts), (input) => {
          noteInput(input);
          const ds = expectTyped([DicomParseError], () => decodeDataset(input, ts), 4 * 1024 * 1024);
          if (!ds) return;
          // what was accepted is encodable and decodes to the same bytes again
          const again = encodeDataset(ds, ts);
          assert.ok(encodeDataset(decodeDataset(again, ts), ts).equals(again), 're-encoding is not stable');
        }),
    ),
  ),
  ...SYNTAXES.filter((ts) => !transferSyntaxLayout(ts).deflated).map((ts) =>
    target(
      'dataset',
      `${SHORT_NAME[ts]}: the streaming parser in random chunks with a tiny bulk threshold`,
      200,
      () =>
        fc.property(
          bytesFrom(validDatasetBytes(ts)),
          fc.array(fc.nat(), { maxLength: 6 }),
          fc.integer({ min: 0, max: 64 }),
          (input, cuts, threshold) => {
            noteInput(input);
            const layout = transferSyntaxLayout(ts);
            const whole = outcome(() => {
              const p = new DatasetParser(SINK, { ...layout, bulkDataThreshold: threshold });
              p.push(input);
              p.end();
            });
            const chunked = outcome(() => {
              const p = new DatasetParser(new DatasetBuilder({ kind: 'memory' }), {
                ...layout,
                bulkDataThreshold: threshold,
              });
              let from = 0;
              for (const c of [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b)) {
                p.push(input.subarray(from, c));
                from = c;
              }
              p.push(input.subarray(from));
              p.end();
            });
            // chunking never changes whether (and why) the input is refused
            assert.equal(chunked, whole);
          },
        ),
    ),
  ),
  target(
    'dataset',
    'deep undefined-length nesting is refused past maxDepth, never overflows the stack',
    200,
    () =>
      fc.property(deepNesting, fc.integer({ min: 1, max: 64 }), ({ bytes, explicit }, maxDepth) => {
        noteInput(bytes);
        const ts = explicit ? TransferSyntax.ExplicitVRLittleEndian : TransferSyntax.ImplicitVRLittleEndian;
        const ds = expectTyped([DicomParseError], () => decodeDataset(bytes, ts, { maxDepth }));
        if (ds) encodeDataset(ds, ts);
      }),
  ),
  target(
    'dataset',
    'deflate bombs are refused or streamed without holding the inflated value in memory',
    3,
    () =>
      fc.property(fc.constantFrom(1, 8, 32, 300), fc.nat(), (mib, cut) => {
        const bomb = cachedBomb(mib);
        const input = cut % 4 === 0 ? bomb : bomb.subarray(0, cut % bomb.length);
        noteInput(input);
        // whole-buffer decode: refused (the value runs past the inflated end) within the inflate limit
        expectTyped(
          [DicomParseError],
          () => decodeDataset(input, TransferSyntax.DeflatedExplicitVRLittleEndian),
          MAX_INFLATED + 64 * 1024,
        );
      }),
    30,
  ),
];

/** `ok` or the error code a parse ended with; anything but a DicomParseError fails. */
function outcome(fn: () => void): string {
  let code = 'ok';
  expectTyped([DicomParseError], () => {
    try {
      fn();
    } catch (err) {
      if (err instanceof DicomParseError) code = err.code;
      throw err;
    }
  });
  return code;
}
