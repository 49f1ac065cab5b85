import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  Dataset,
  DatasetBuilder,
  DatasetParser,
  decodeDataset,
  encodeDataset,
  TransferSyntax,
  transferSyntaxLayout,
} from '../../src/data/index.js';
import { buildDataset, datasetSpecs } from '../helpers/dataset-arbitrary.js';
import { plain, splitAt } from './helpers.js';

const SYNTAXES = [
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
];

const datasetSpec = datasetSpecs(8);

for (const ts of SYNTAXES) {
  const name = transferSyntaxLayout(ts).name;
  test(`write → read round trip is byte exact: ${name}`, () => {
    fc.assert(
      fc.property(datasetSpec, (specs) => {
        const ds = buildDataset(specs);
        const bytes = encodeDataset(ds, ts);
        const back = decodeDataset(bytes, ts);
        assert.deepEqual(plain(back), plain(ds));
        assert.ok(encodeDataset(back, ts).equals(bytes));
      }),
      { numRuns: 150 },
    );
  });
}

for (const ts of SYNTAXES.filter((t) => !transferSyntaxLayout(t).deflated)) {
  const layout = transferSyntaxLayout(ts);
  test(`streaming parse in arbitrary chunks equals whole-buffer decode: ${layout.name}`, () => {
    fc.assert(
      fc.property(
        datasetSpec,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
        fc.integer({ min: 0, max: 40 }),
        (specs, cuts, threshold) => {
          const ds = buildDataset(specs);
          const bytes = encodeDataset(ds, ts);
          const builder = new DatasetBuilder({ kind: 'memory' });
          // a tiny bulk threshold sends values through the bulk (chunked) path too
          const parser = new DatasetParser(builder, { ...layout, bulkDataThreshold: threshold });
          for (const piece of splitAt(bytes, cuts)) parser.push(piece);
          parser.end();
          assert.deepEqual(plain(builder.dataset), plain(ds));
        },
      ),
      { numRuns: 150 },
    );
  });
}

test('encapsulated pixel data (offset table + fragments) round-trips in explicit VR little endian', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 16 }),
      fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 5 }),
      (bot, frags) => {
        const even = (u: Uint8Array) => Buffer.from(u.subarray(0, u.length - (u.length % 2)));
        const ds = new Dataset();
        ds.set('Rows', 2);
        ds.setElement({
          tag: 0x7fe00010,
          vr: 'OB',
          value: { kind: 'encapsulated', offsetTable: even(bot), fragments: frags.map(even) },
        });
        const ts = TransferSyntax.JPEGBaseline8Bit;
        const bytes = encodeDataset(ds, ts);
        const back = decodeDataset(bytes, ts);
        assert.deepEqual(plain(back), plain(ds));
        assert.ok(encodeDataset(back, ts).equals(bytes));
      },
    ),
    { numRuns: 100 },
  );
});
