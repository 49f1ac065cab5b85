import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  Dataset,
  DicomParseError,
  encodeDataset,
  encodeFileMetaInformation,
  IMPLEMENTATION_CLASS_UID,
  isBulkRef,
  readPart10,
  readPart10Header,
  TransferSyntax,
  writePart10,
} from '../../src/data/index.js';
import { plain } from './helpers.js';

const hasDcmdump = spawnSync('dcmdump', ['--version'], { stdio: 'ignore' }).status === 0;
let dir = '';

function sample(): Dataset {
  return new Dataset()
    .set('SOPClassUID', '1.2.840.10008.5.1.4.1.1.7')
    .set('SOPInstanceUID', '1.2.826.0.1.3680043.2.1143.77')
    .set('PatientName', 'Doe^Jane')
    .set('Rows', 16)
    .set('Columns', 16)
    .set('ReferencedImageSequence', [new Dataset().set('ReferencedSOPInstanceUID', '1.2.3')])
    .set('PixelData', Buffer.from(Array.from({ length: 512 }, (_, i) => i & 0xff)), 'OW');
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dicomnet-part10-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('encodeFileMetaInformation: preamble, DICM, group length computed; DCMTK reads it', () => {
  const head = encodeFileMetaInformation({
    mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.7',
    mediaStorageSopInstanceUid: '1.2.3.4',
    transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
    sourceApplicationEntityTitle: 'DICOMNET',
  });
  assert.ok(head.subarray(0, 128).equals(Buffer.alloc(128)));
  assert.equal(head.toString('latin1', 128, 132), 'DICM');
  assert.equal(head.readUInt32LE(132 + 8), head.length - 132 - 12);
  if (!hasDcmdump) return;
  const file = join(dir, 'meta-only.dcm');
  writeFileSync(file, Buffer.concat([head, encodeDataset(sample(), TransferSyntax.ExplicitVRLittleEndian)]));
  const r = spawnSync('dcmdump', ['+P', '0002,0012', '+P', '0010,0010', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`\\[${IMPLEMENTATION_CLASS_UID.replace(/\./g, '\\.')}\\]`));
  assert.match(r.stdout, /\[Doe\^Jane\]/);
});

for (const ts of [
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
]) {
  test(`writePart10 → readPart10 round trip in ${ts}, large values as file ranges`, async () => {
    const file = join(dir, `rt-${ts}.dcm`);
    const ds = sample();
    await writePart10(file, ds, { transferSyntaxUid: ts });
    const header = await readPart10Header(file);
    assert.equal(header.transferSyntaxUid, ts);
    assert.equal(header.sopInstanceUid, '1.2.826.0.1.3680043.2.1143.77');
    assert.equal(header.sopClassUid, '1.2.840.10008.5.1.4.1.1.7');
    assert.deepEqual(header.warnings, []);
    const read = await readPart10(file, { bulkDataThreshold: 256 });
    assert.equal(read.datasetOffset, header.datasetOffset);
    const pixel = read.dataset.get('PixelData')?.value;
    assert.ok(isBulkRef(pixel), 'pixel data is a bulk reference');
    // write it again from the references: identical file
    const again = join(dir, `rt2-${ts}.dcm`);
    await writePart10(again, read.dataset, { transferSyntaxUid: ts });
    assert.ok(readFileSync(again).equals(readFileSync(file)));
    const inMemory = await readPart10(file, { bulkDataThreshold: 1 << 20 });
    assert.deepEqual(plain(inMemory.dataset), plain(ds));
    if (hasDcmdump) {
      const r = spawnSync('dcmdump', ['+P', '0010,0010', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Doe\^Jane/);
    }
  });
}

test('a file without preamble and meta is read as a bare data set, with a warning', async () => {
  const file = join(dir, 'bare.dcm');
  writeFileSync(file, encodeDataset(sample(), TransferSyntax.ImplicitVRLittleEndian));
  const read = await readPart10(file);
  assert.equal(read.transferSyntaxUid, TransferSyntax.ImplicitVRLittleEndian);
  assert.equal(read.datasetOffset, 0);
  assert.ok(read.warnings.some((w) => /no preamble/.test(w)));
  assert.equal(read.dataset.getString('PatientName'), 'Doe^Jane');
  const header = await readPart10Header(file);
  assert.equal(header.sopInstanceUid, '1.2.826.0.1.3680043.2.1143.77');
});

test('wrong magic is a DicomParseError ERR_BAD_MAGIC', async () => {
  const file = join(dir, 'junk.bin');
  writeFileSync(file, Buffer.alloc(300, 0x41));
  await assert.rejects(
    readPart10(file),
    (err: unknown) => err instanceof DicomParseError && err.code === 'ERR_BAD_MAGIC',
  );
});

test('every truncation and every single-byte corruption of a file gives a result or a DicomParseError', async () => {
  const file = join(dir, 'whole.dcm');
  await writePart10(file, sample(), { transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian });
  const bytes = readFileSync(file);
  const cut = join(dir, 'cut.dcm');
  const check = async () => {
    try {
      await readPart10(cut, { bulkDataThreshold: 64 });
    } catch (err) {
      assert.ok(err instanceof DicomParseError, `${String(err)}`);
      assert.match(err.message, /\S/);
    }
  };
  for (let n = 0; n < bytes.length; n += 3) {
    writeFileSync(cut, bytes.subarray(0, n));
    await check();
  }
  for (let i = 128; i < bytes.length - 512; i += 1) {
    const copy = Buffer.from(bytes);
    copy[i] = copy[i]! ^ 0xff;
    writeFileSync(cut, copy);
    await check();
  }
});
