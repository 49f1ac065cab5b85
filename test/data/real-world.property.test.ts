// Property tests of issue 18: in every transfer syntax, data sets with sequences encoded as UN,
// items with their own Specific Character Set and values whose VR depends on Pixel
// Representation round-trip byte for byte, and read back with the same VRs and text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  type Dataset,
  DatasetBuilder,
  DatasetParser,
  decodeDataset,
  encodeDataset,
  TransferSyntax,
  transferSyntaxLayout,
} from '../../src/data/index.js';
import { realWorldModels } from '../helpers/dataset-arbitrary.js';
import { plain, splitAt } from './helpers.js';

const SYNTAXES = [
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
];

/** The plain picture without encoded VRs: implicit VR has no VRs, so it cannot keep them. */
function withoutEncodedVR(p: unknown): unknown {
  if (!Array.isArray(p)) return p;
  const out = p.map(withoutEncodedVR);
  return out.length > 0 && out[out.length - 1] === 'UN' && typeof out[0] === 'number' && out[1] === 'SQ'
    ? out.slice(0, -1)
    : out;
}

function check(ds: Dataset, back: Dataset, explicitVR: boolean, names: [number, number, string][]): void {
  if (explicitVR) assert.deepEqual(plain(back), plain(ds));
  else assert.deepEqual(withoutEncodedVR(plain(back)), withoutEncodedVR(plain(ds)));
  for (const [tag, i, name] of names) {
    const item = back.getSequence(tag)![i]!;
    assert.equal(item.getString('PatientName'), name);
    assert.equal(item.getSequence('OtherPatientIDsSequence')![0]!.getString('PatientName'), name);
  }
  const signed = back.getNumber('PixelRepresentation') === 1;
  assert.equal(back.get('SmallestImagePixelValue')?.vr, signed ? 'SS' : 'US');
  assert.equal(back.get('PixelData')?.vr, 'OW');
  assert.equal(back.getSequence('VOILUTSequence')![0]!.get('LUTData')?.vr, 'OW');
}

for (const ts of SYNTAXES) {
  const layout = transferSyntaxLayout(ts);
  test(`UN sequences, item character sets and data-dependent VRs round-trip: ${layout.name}`, () => {
    fc.assert(
      fc.property(realWorldModels, ({ dataset, names }) => {
        const bytes = encodeDataset(dataset, ts);
        const back = decodeDataset(bytes, ts);
        check(dataset, back, layout.explicitVR, names);
        assert.ok(encodeDataset(back, ts).equals(bytes), 'encode(decode(x)) differs from x');
      }),
      { numRuns: 120 },
    );
  });
}

for (const ts of SYNTAXES.filter((t) => !transferSyntaxLayout(t).deflated)) {
  const layout = transferSyntaxLayout(ts);
  test(`…and parse the same in arbitrary chunks: ${layout.name}`, () => {
    fc.assert(
      fc.property(
        realWorldModels,
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 10 }),
        ({ dataset, names }, cuts) => {
          const bytes = encodeDataset(dataset, ts);
          const builder = new DatasetBuilder({ kind: 'memory' });
          const parser = new DatasetParser(builder, { ...layout });
          for (const piece of splitAt(bytes, cuts)) parser.push(piece);
          parser.end();
          check(dataset, builder.dataset, layout.explicitVR, names);
        },
      ),
      { numRuns: 80 },
    );
  });
}
