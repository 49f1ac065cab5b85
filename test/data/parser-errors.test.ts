import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DatasetBuilder,
  DatasetParser,
  DicomParseError,
  Dataset,
  decodeDataset,
  encodeDataset,
  TransferSyntax,
} from '../../src/data/index.js';

const EXPLICIT = TransferSyntax.ExplicitVRLittleEndian;
const IMPLICIT = TransferSyntax.ImplicitVRLittleEndian;

function explicitHeader(group: number, element: number, vr: string, length: number): Buffer {
  const long = ['OB', 'OW', 'SQ', 'UN', 'UT', 'UC', 'UR', 'OD', 'OF', 'OL', 'OV', 'SV', 'UV'].includes(vr);
  const b = Buffer.alloc(long ? 12 : 8);
  b.writeUInt16LE(group, 0);
  b.writeUInt16LE(element, 2);
  b.write(vr, 4, 'latin1');
  if (long) b.writeUInt32LE(length, 8);
  else b.writeUInt16LE(length, 6);
  return b;
}

function parseError(fn: () => unknown): DicomParseError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof DicomParseError, `expected DicomParseError, got ${String(err)}`);
    assert.equal(err.kind, 'parse');
    return err;
  }
  assert.fail('no error thrown');
}

test('an element length of 0xFFFFFFF0 fails before allocating, naming tag, offset and cause', () => {
  const bytes = Buffer.concat([
    explicitHeader(0x0010, 0x0010, 'PN', 4),
    Buffer.from('Doe '),
    explicitHeader(0x0042, 0x0011, 'OB', 0xfffffff0),
  ]);
  const before = process.memoryUsage().arrayBuffers;
  const err = parseError(() => decodeDataset(bytes, EXPLICIT));
  assert.equal(err.code, 'ERR_LENGTH_PAST_END');
  assert.equal(err.tag, 0x00420011);
  assert.equal(err.offset, 12);
  assert.match(err.message, /\(0042,0011\) at offset 12: value length 4294967280 runs past the end of input/);
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024);
});

test('a streamed 0xFFFFFFF0 length value is not buffered: it is streamed and then reported truncated', () => {
  const chunks: number[] = [];
  const builder = new DatasetBuilder({
    kind: 'sink',
    open: () => ({ write: (c) => chunks.push(c.length), end: () => Buffer.alloc(0) }),
  });
  const parser = new DatasetParser(builder, {
    explicitVR: true,
    littleEndian: true,
    bulkDataThreshold: 1024,
  });
  parser.push(explicitHeader(0x0042, 0x0011, 'OB', 0xfffffff0));
  parser.push(Buffer.alloc(4096));
  const err = parseError(() => parser.end());
  assert.equal(err.code, 'ERR_TRUNCATED');
  assert.match(err.message, /\(0042,0011\) at offset 0: value of 4294963184 more bytes missing/);
});

test('truncated input: a header cut short and a value cut short', () => {
  const full = encodeDataset(new Dataset().set('PatientID', 'ABCDEFGH'), EXPLICIT);
  let err = parseError(() => decodeDataset(full.subarray(0, 5), EXPLICIT));
  assert.equal(err.code, 'ERR_TRUNCATED');
  err = parseError(() => decodeDataset(full.subarray(0, 12), EXPLICIT));
  assert.equal(err.code, 'ERR_LENGTH_PAST_END');
  assert.match(err.message, /\(0010,0020\)/);
});

test('odd lengths are rejected by default and accepted on request', () => {
  const bytes = Buffer.concat([explicitHeader(0x0010, 0x0020, 'LO', 3), Buffer.from('ABC')]);
  const err = parseError(() => decodeDataset(bytes, EXPLICIT));
  assert.equal(err.code, 'ERR_ODD_LENGTH');
  assert.match(err.message, /\(0010,0020\) at offset 0: odd value length 3/);
  assert.equal(decodeDataset(bytes, EXPLICIT, { allowOddLengths: true }).getString('PatientID'), 'ABC');
});

test('unknown VR bytes are read on as UN with a 2-byte length, with a warning naming tag and offset', () => {
  // issue 18: as DCMTK does ("Non-standard VR ... assuming 2 byte length field"); it was ERR_UNKNOWN_VR
  const bytes = Buffer.concat([
    explicitHeader(0x0010, 0x0020, 'Q!', 2),
    Buffer.from('AB'),
    explicitHeader(0x0010, 0x0030, 'DA', 8),
    Buffer.from('19700101'),
  ]);
  const warnings: string[] = [];
  const builder = new DatasetBuilder({ kind: 'memory' });
  const parser = new DatasetParser(builder, { explicitVR: true, littleEndian: true, onWarning: (w) => warnings.push(w) });
  parser.push(bytes);
  parser.end();
  assert.equal(builder.dataset.get(0x00100020)?.vr, 'UN');
  assert.deepEqual(builder.dataset.getBytes(0x00100020), Buffer.from('AB'));
  assert.equal(builder.dataset.getString(0x00100030), '19700101');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /\(0010,0020\) at offset 0: non-standard VR bytes 51 21/);
  assert.equal(decodeDataset(bytes, EXPLICIT).get(0x00100020)?.vr, 'UN');
});

test('nesting deeper than the bound is a parse error, not a stack overflow', () => {
  // 10 000 nested undefined-length sequences/items in implicit VR
  const open = Buffer.alloc(16);
  open.writeUInt16LE(0x0008, 0);
  open.writeUInt16LE(0x1140, 2);
  open.writeUInt32LE(0xffffffff, 4);
  open.writeUInt16LE(0xfffe, 8);
  open.writeUInt16LE(0xe000, 10);
  open.writeUInt32LE(0xffffffff, 12);
  const bytes = Buffer.concat(Array.from({ length: 10_000 }, () => open));
  const err = parseError(() => decodeDataset(bytes, IMPLICIT, { maxDepth: 32 }));
  assert.equal(err.code, 'ERR_NESTING_TOO_DEEP');
  assert.match(err.message, /nesting deeper than 32 sequences/);
});

test('an item length past its sequence is a parse error', () => {
  const seq = Buffer.concat([
    explicitHeader(0x0008, 0x1140, 'SQ', 8),
    Buffer.from([0xfe, 0xff, 0x00, 0xe0, 0x10, 0, 0, 0]),
  ]);
  const err = parseError(() => decodeDataset(seq, EXPLICIT));
  assert.equal(err.code, 'ERR_LENGTH_PAST_END');
});

test('a stray delimiter at the top level is a parse error', () => {
  const err = parseError(() => decodeDataset(Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]), EXPLICIT));
  assert.equal(err.code, 'ERR_BAD_DELIMITER');
});

test('random garbage never throws anything but DicomParseError', () => {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.alloc(rand() % 200);
    for (let j = 0; j < b.length; j++) b[j] = rand() & 0xff;
    for (const ts of [EXPLICIT, IMPLICIT, TransferSyntax.ExplicitVRBigEndian]) {
      try {
        decodeDataset(b, ts);
      } catch (err) {
        assert.ok(err instanceof DicomParseError, String(err));
      }
    }
  }
});
