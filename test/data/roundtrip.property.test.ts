import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  Dataset,
  DatasetBuilder,
  DatasetParser,
  decodeDataset,
  dictionaryEntries,
  encodeDataset,
  implicitVR,
  TransferSyntax,
  transferSyntaxLayout,
  type VR,
} from '../../src/data/index.js';
import { plain, splitAt } from './helpers.js';

const SYNTAXES = [
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
];

// a few current, single-VR dictionary tags per VR (not group 0002/0000, not pixel data, not the charset)
const TAGS_BY_VR = new Map<VR, number[]>();
for (const e of dictionaryEntries()) {
  const group = e.tag >>> 16;
  if (e.retired || group <= 0x0002 || group === 0xfffe || e.tag === 0x00080005 || e.tag === 0x7fe00010)
    continue;
  if ((e.tag & 0xffff) === 0 || group >= 0x5000) continue;
  const vr = implicitVR(e.tag);
  if (vr !== e.vr) continue;
  const list = TAGS_BY_VR.get(vr) ?? [];
  if (list.length < 6) list.push(e.tag);
  TAGS_BY_VR.set(vr, list);
}
const PRIVATE_TAGS = [0x00091001, 0x00111010, 0x00291020];

const text = (max: number, chars = 'ABCDEFGHIJ0123456789 .^-_') =>
  fc.string({ unit: fc.constantFrom(...chars.split('')), maxLength: max });

function valueFor(vr: VR): fc.Arbitrary<Buffer> {
  const pad = (s: string, byte: number) => {
    const b = Buffer.from(s, 'latin1');
    return b.length % 2 ? Buffer.concat([b, Buffer.from([byte])]) : b;
  };
  const words = (unit: number, max: number) =>
    fc
      .uint8Array({ maxLength: max * unit })
      .map((u) => Buffer.from(u.subarray(0, u.length - (u.length % unit))));
  switch (vr) {
    case 'UI':
      return fc.array(text(20, '0123456789.'), { maxLength: 3 }).map((v) => pad(v.join('\\'), 0));
    case 'LT':
    case 'ST':
    case 'UT':
    case 'UR':
      return text(60).map((s) => pad(s, 0x20));
    case 'AE':
    case 'AS':
    case 'CS':
    case 'DA':
    case 'DS':
    case 'DT':
    case 'IS':
    case 'LO':
    case 'PN':
    case 'SH':
    case 'TM':
    case 'UC':
      return fc.array(text(12), { maxLength: 4 }).map((v) => pad(v.join('\\'), 0x20));
    case 'US':
    case 'SS':
    case 'OW':
      return words(2, 16);
    case 'UL':
    case 'SL':
    case 'FL':
    case 'OF':
    case 'OL':
    case 'AT':
      return words(4, 8);
    case 'FD':
    case 'OD':
    case 'SV':
    case 'UV':
    case 'OV':
      return words(8, 4);
    default:
      return words(2, 32);
  }
}

const leafVRs = [...TAGS_BY_VR.keys()].filter((vr) => vr !== 'SQ');

const leafElement = fc.oneof(
  fc
    .constantFrom(...leafVRs)
    .chain((vr) =>
      fc
        .tuple(fc.constantFrom(...TAGS_BY_VR.get(vr)!), valueFor(vr))
        .map(([tag, value]) => ({ tag, vr, value })),
    ),
  fc
    .tuple(fc.constantFrom(...PRIVATE_TAGS), valueFor('UN'))
    .map(([tag, value]) => ({ tag, vr: 'UN' as VR, value })),
);

type Spec =
  | { tag: number; vr: VR; value: Buffer }
  | { tag: number; seq: { undef: boolean; items: ItemSpec[] } };
type ItemSpec = { undef: boolean; elements: Spec[] };

const { dataset: datasetSpec } = fc.letrec<{ dataset: Spec[]; item: ItemSpec; element: Spec }>((tie) => ({
  dataset: fc.array(tie('element'), { maxLength: 8 }),
  item: fc.record({ undef: fc.boolean(), elements: tie('dataset') }),
  element: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafElement,
    fc
      .tuple(
        fc.constantFrom(...(TAGS_BY_VR.get('SQ') ?? [])),
        fc.boolean(),
        fc.array(tie('item'), { maxLength: 3 }),
      )
      .map(([tag, undef, items]) => ({ tag, seq: { undef, items } })),
  ),
}));

function build(specs: Spec[], parent?: Dataset): Dataset {
  const ds = new Dataset(parent);
  for (const s of specs) {
    if ('seq' in s) {
      const items = s.seq.items.map((it) => {
        const item = build(it.elements, ds);
        item.undefinedLength = it.undef;
        return item;
      });
      ds.setElement({ tag: s.tag, vr: 'SQ', value: items, undefinedLength: s.seq.undef });
    } else {
      ds.setElement({ tag: s.tag, vr: s.vr, value: s.value });
    }
  }
  return ds;
}

for (const ts of SYNTAXES) {
  const name = transferSyntaxLayout(ts).name;
  test(`write → read round trip is byte exact: ${name}`, () => {
    fc.assert(
      fc.property(datasetSpec, (specs) => {
        const ds = build(specs);
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
          const ds = build(specs);
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
