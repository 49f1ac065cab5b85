/** parseEvents on deflated input: any async iterable, errors, early stop, and a deflate bomb in bounded memory. */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { constants as zlib, deflateRawSync } from 'node:zlib';
import { Dataset, encodeDataset, type ParseEvent, parseEvents, TransferSyntax } from '../../src/data/index.js';
import { DicomParseError } from '../../src/data/errors.js';

const DEFLATED = TransferSyntax.DeflatedExplicitVRLittleEndian;
const EXPLICIT_LE = TransferSyntax.ExplicitVRLittleEndian;

function sample(): Dataset {
  return new Dataset()
    .set('PatientID', 'P1')
    .set('ReferencedImageSequence', [new Dataset().set('ReferencedSOPInstanceUID', '1.2')])
    .set('PixelData', Buffer.alloc(100_000, 7), 'OB');
}

/** `bytes` in `size`-byte chunks from an async generator (not a stream). */
async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) {
    await Promise.resolve();
    yield bytes.subarray(i, i + size);
  }
}

/** Events in a comparable form: types, tags, values, bulk bytes joined. */
async function summary(events: AsyncIterable<ParseEvent>): Promise<{ types: string[]; values: string[]; bulk: Buffer }> {
  const types: string[] = [];
  const values: string[] = [];
  const bulk: Buffer[] = [];
  for await (const ev of events) {
    if (ev.type === 'bulkData') {
      bulk.push(ev.chunk);
      continue;
    }
    types.push(ev.type);
    if (ev.type === 'element') values.push(`${ev.header.tag.toString(16)}=${ev.value.toString('latin1')}`);
  }
  return { types, values, bulk: Buffer.concat(bulk) };
}

describe('parseEvents, deflated', () => {
  test('an async generator of deflated bytes (not a Readable) gives the same events as the plain data set', async () => {
    const ds = sample();
    const deflated = encodeDataset(ds, DEFLATED);
    const expected = await summary(
      parseEvents(Readable.from([encodeDataset(ds, EXPLICIT_LE)]), EXPLICIT_LE, { bulkDataThreshold: 1024 }),
    );
    assert.equal(expected.bulk.length, 100_000);
    const fromGenerator = await summary(parseEvents(chunked(deflated, 97), DEFLATED, { bulkDataThreshold: 1024 }));
    assert.deepEqual(fromGenerator, expected);
    // and a Readable still works
    const fromStream = await summary(
      parseEvents(Readable.from(chunked(deflated, 4096)), DEFLATED, { bulkDataThreshold: 1024 }),
    );
    assert.deepEqual(fromStream, expected);
  });

  test('an input that fails, or bytes that do not inflate, end the iteration with a typed error', async () => {
    const deflated = encodeDataset(sample(), DEFLATED);
    async function* failing(): AsyncGenerator<Buffer> {
      yield deflated.subarray(0, 100);
      throw new Error('disk went away');
    }
    await assert.rejects(
      summary(parseEvents(failing(), DEFLATED)),
      (err: unknown) =>
        err instanceof DicomParseError && err.code === 'ERR_DEFLATE' && /disk went away/.test(err.message),
    );
    await assert.rejects(
      summary(parseEvents(chunked(Buffer.alloc(64, 0xff), 16), DEFLATED)),
      (err: unknown) => err instanceof DicomParseError && err.code === 'ERR_DEFLATE',
    );
  });

  test('stopping the iteration early closes the input', async () => {
    const deflated = encodeDataset(sample(), DEFLATED);
    let closed = false;
    async function* input(): AsyncGenerator<Buffer> {
      try {
        yield* chunked(deflated, 64);
      } finally {
        closed = true;
      }
    }
    for await (const ev of parseEvents(input(), DEFLATED, { bulkDataThreshold: 1024 })) {
      if (ev.type === 'element') break;
    }
    for (let i = 0; i < 20 && !closed; i++) await new Promise((r) => setImmediate(r));
    assert.ok(closed, 'the input generator was finished');
  });

  test('a deflate bomb (1 GiB of Pixel Data from ~1 MiB) streams as bulk events in bounded memory', async () => {
    const inflatedMiB = 1024;
    const pixelHeader = Buffer.alloc(12);
    pixelHeader.writeUInt16LE(0x7fe0, 0);
    pixelHeader.writeUInt16LE(0x0010, 2);
    pixelHeader.write('OB', 4, 'latin1');
    pixelHeader.writeUInt32LE(inflatedMiB * 1024 * 1024, 8);
    const full = { finishFlush: zlib.Z_FULL_FLUSH, level: 9 };
    const head = deflateRawSync(
      Buffer.concat([encodeDataset(new Dataset().set('PatientID', 'BOMB'), EXPLICIT_LE), pixelHeader]),
      full,
    );
    const zeros = deflateRawSync(Buffer.alloc(16 * 1024 * 1024), full);
    const tail = deflateRawSync(Buffer.alloc(0));
    let compressed = head.length + tail.length;
    async function* bomb(): AsyncGenerator<Buffer> {
      yield head;
      for (let i = 0; i < inflatedMiB / 16; i++) {
        compressed += zeros.length;
        yield zeros;
      }
      yield tail;
    }
    global.gc?.();
    const baseline = process.memoryUsage();
    let peakRss = baseline.rss;
    let peakExternal = baseline.external + baseline.arrayBuffers;
    let bulk = 0;
    let largestChunk = 0;
    let largestElement = 0;
    const types: string[] = [];
    let n = 0;
    for await (const ev of parseEvents(bomb(), DEFLATED)) {
      if (ev.type === 'bulkData') {
        bulk += ev.chunk.length;
        largestChunk = Math.max(largestChunk, ev.chunk.length);
      } else {
        types.push(ev.type);
        if (ev.type === 'element') largestElement = Math.max(largestElement, ev.value.length);
      }
      if (++n % 1024 === 0) {
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakExternal = Math.max(peakExternal, m.external + m.arrayBuffers);
      }
    }
    assert.deepEqual(types, ['element', 'bulkStart', 'bulkEnd']);
    assert.equal(bulk, inflatedMiB * 1024 * 1024, 'every inflated byte came as bulk data');
    assert.ok(compressed < 2 * 1024 * 1024, `compressed ${compressed} bytes`);
    assert.ok(largestChunk <= 64 * 1024, `bulk chunks of at most the inflater's output size: ${largestChunk}`);
    assert.ok(largestElement < 64, 'no value held whole beyond the small ones');
    const grewMiB = (peakRss - baseline.rss) / 1048576;
    const externalMiB = (peakExternal - baseline.external - baseline.arrayBuffers) / 1048576;
    process.stdout.write(
      `# deflate bomb through parseEvents: ${inflatedMiB} MiB inflated from ${(compressed / 1048576).toFixed(2)} MiB; RSS +${grewMiB.toFixed(1)} MiB, buffers +${externalMiB.toFixed(1)} MiB at peak\n`,
    );
    assert.ok(grewMiB < 96, `RSS grew by ${grewMiB.toFixed(1)} MiB while ${inflatedMiB} MiB inflated`);
  });
});
