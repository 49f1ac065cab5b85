// Random DICOM data set models for property and fuzz tests (fast-check), and the Dataset
// each one describes. Shared by the round-trip properties and the data set fuzz target.
import fc from 'fast-check';
import { Dataset, dictionaryEntries, implicitVR, type VR } from '../../src/data/index.js';

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
/** Sequence (SQ) tags the models use. */
export const SEQUENCE_TAGS = TAGS_BY_VR.get('SQ') ?? [];
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

const leafElement: fc.Arbitrary<DatasetSpec> = fc.oneof(
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

/** One element of a data set model: a leaf with its encoded value, or a sequence. */
export type DatasetSpec =
  { tag: number; vr: VR; value: Buffer } | { tag: number; seq: { undef: boolean; items: ItemSpec[] } };
/** One item of a sequence model. */
export interface ItemSpec {
  undef: boolean;
  elements: DatasetSpec[];
}

/**
 * Random data set models: dictionary elements of every VR with valid values, private UN
 * elements, and sequences with items of defined and undefined length, nested. Data sets (and
 * items) hold at most `maxElements` elements.
 */
export function datasetSpecs(maxElements: number): fc.Arbitrary<DatasetSpec[]> {
  return fc.letrec<{ dataset: DatasetSpec[]; item: ItemSpec; element: DatasetSpec }>((tie) => ({
    dataset: fc.array(tie('element'), { maxLength: maxElements }),
    item: fc.record({ undef: fc.boolean(), elements: tie('dataset') }),
    element: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leafElement,
      fc
        .tuple(fc.constantFrom(...SEQUENCE_TAGS), fc.boolean(), fc.array(tie('item'), { maxLength: 3 }))
        .map(([tag, undef, items]) => ({ tag, seq: { undef, items } })),
    ),
  })).dataset;
}

/** The Dataset a model describes. */
export function buildDataset(specs: DatasetSpec[], parent?: Dataset): Dataset {
  const ds = new Dataset(parent);
  for (const s of specs) {
    if ('seq' in s) {
      const items = s.seq.items.map((it) => {
        const item = buildDataset(it.elements, ds);
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

/**
 * Data sets as modalities send them (issue 18): sequences encoded as UN (PS3.5 6.2.2: implicit
 * VR little endian inside, a known SQ tag of defined or undefined length, a private one of
 * undefined length), items with their own Specific Character Set and text in it, and values
 * whose VR depends on Pixel Representation. `text` is what the items' PN values decode to.
 */
export interface RealWorldModel {
  dataset: Dataset;
  /** [sequence tag, item index, expected PatientName of that item]. */
  names: [number, number, string][];
}

const CHARSETS: [string, string][] = [
  ['ISO_IR 100', 'Müller^Jürgen=Ångström'],
  ['ISO_IR 192', 'Wang^XiaoDong=王^小東'],
  ['ISO_IR 144', 'Люкceмбypг^Ив'],
  ['GB18030', 'Wang^XiaoDong=王^小东'],
  ['', 'Plain^Ascii'],
];

export const realWorldModels: fc.Arbitrary<RealWorldModel> = fc
  .record({
    top: fc.constantFrom('ISO_IR 100', 'ISO_IR 192', ''),
    itemSets: fc.array(fc.integer({ min: 0, max: CHARSETS.length - 1 }), { minLength: 1, maxLength: 3 }),
    unKnown: fc.boolean(),
    unDefined: fc.boolean(),
    unPrivate: fc.boolean(),
    pixelRep: fc.constantFrom(0, 1),
    smallest: fc.integer({ min: -32768, max: 32767 }),
    inner: datasetSpecs(3),
  })
  .map(({ top, itemSets, unKnown, unDefined, unPrivate, pixelRep, smallest, inner }) => {
    const ds = new Dataset();
    if (top) ds.set('SpecificCharacterSet', top, 'CS');
    ds.set('PatientName', 'Top^Level');
    // data-dependent VRs: US or SS by Pixel Representation, OW pixel data and LUT data
    ds.set('BitsAllocated', 16).set('PixelRepresentation', pixelRep);
    const signed = pixelRep === 1;
    ds.set('SmallestImagePixelValue', signed ? smallest : smallest & 0xffff, signed ? 'SS' : 'US');
    ds.set('PixelData', Buffer.from([1, 2, 3, 4]), 'OW');
    const lut = new Dataset(ds)
      .set('LUTDescriptor', [2, 0, 16], 'US')
      .set('LUTData', Buffer.from([0, 0, 255, 255]), 'OW');
    ds.set('VOILUTSequence', [lut]);
    // items with their own character set (and one nested item that inherits it)
    const names: [number, number, string][] = [];
    const items = itemSets.map((k, i) => {
      const [cs, name] = CHARSETS[k]!;
      const item = new Dataset(ds);
      if (cs) item.set('SpecificCharacterSet', cs, 'CS');
      item.set('PatientName', name, 'PN');
      item.set('OtherPatientIDsSequence', [new Dataset(item).set('PatientName', name, 'PN')]);
      names.push([0x00101002, i, name]);
      return item;
    });
    ds.setElement({ tag: 0x00101002, vr: 'SQ', value: items });
    // a sequence encoded as UN
    const unItems = [buildDataset(inner, ds)];
    if (unKnown)
      ds.setElement({
        tag: 0x00081115,
        vr: 'SQ',
        encodedVR: 'UN',
        value: unItems,
        undefinedLength: !unDefined,
      });
    if (unPrivate) {
      ds.set(0x00290010, 'ACME 1.0', 'LO');
      ds.setElement({ tag: 0x00291010, vr: 'SQ', encodedVR: 'UN', value: [buildDataset(inner, ds)] });
    }
    return { dataset: ds, names };
  });
