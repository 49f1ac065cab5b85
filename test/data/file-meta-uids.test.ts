import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import {
  Dataset,
  encodeDataset,
  encodeFileMetaInformation,
  readPart10Header,
  TransferSyntax,
} from '../../src/data/index.js';
import { fileMetaUids, part10HeaderFromBytes } from '../../src/data/part10.js';
import { Tags } from '../../src/data/tag.js';
import { storableHeader } from '../../src/services/store-scu.js';

const dir = mkdtempSync(join(tmpdir(), 'dicomnet-meta-uids-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const uid = fc
  .array(fc.integer({ min: 0, max: 99999 }), { minLength: 2, maxLength: 8 })
  .map((parts) => parts.join('.'));
const transferSyntax = fc.constantFrom(...Object.values(TransferSyntax));
const DATASET = encodeDataset(
  new Dataset().set('PatientName', 'Doe^Jane').set('Rows', 4),
  TransferSyntax.ExplicitVRLittleEndian,
);

/** What the general reader says of the same bytes, in fileMetaUids' shape. */
function general(b: Buffer) {
  const h = part10HeaderFromBytes(b, b.length);
  return {
    transferSyntaxUid: h.transferSyntaxUid,
    sopClassUid: h.sopClassUid,
    sopInstanceUid: h.sopInstanceUid,
    datasetOffset: h.datasetOffset,
  };
}

/** Preamble, DICM and a group 0002 encoded from `meta` (explicit VR little endian). */
function withMeta(meta: Dataset): Buffer {
  return Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    encodeDataset(meta, TransferSyntax.ExplicitVRLittleEndian),
    DATASET,
  ]);
}

test('fileMetaUids reads what the general reader reads from the file meta dicomnet writes', () => {
  fc.assert(
    fc.property(uid, uid, transferSyntax, fc.option(fc.constantFrom('STORESCU', 'A', 'MODALITY_01')), (cls, inst, ts, ae) => {
      const b = Buffer.concat([
        encodeFileMetaInformation({
          mediaStorageSopClassUid: cls,
          mediaStorageSopInstanceUid: inst,
          transferSyntaxUid: ts,
          ...(ae ? { sourceApplicationEntityTitle: ae } : {}),
        }),
        DATASET,
      ]);
      const quick = fileMetaUids(b, b.length);
      assert.deepEqual(quick, general(b));
      assert.deepEqual(quick, { transferSyntaxUid: ts, sopClassUid: cls, sopInstanceUid: inst, datasetOffset: b.length - DATASET.length });
    }),
    { numRuns: 300 },
  );
});

test('where fileMetaUids answers for an odd group 0002, it agrees with the general reader', () => {
  // any subset of the three UIDs, values that may be multi-valued or empty, extra elements
  const value = fc.oneof(uid, fc.constant(''), fc.tuple(uid, uid).map(([a, b]) => `${a}\\${b}`));
  fc.assert(
    fc.property(
      fc.option(value),
      fc.option(value),
      fc.option(value),
      fc.option(fc.constantFrom('DCMTK_367', 'X')),
      (cls, inst, ts, version) => {
        const meta = new Dataset();
        meta.set(Tags.FileMetaInformationVersion, Buffer.from([0, 1]), 'OB');
        if (cls !== null) meta.set(Tags.MediaStorageSOPClassUID, cls, 'UI');
        if (inst !== null) meta.set(Tags.MediaStorageSOPInstanceUID, inst, 'UI');
        if (ts !== null) meta.set(Tags.TransferSyntaxUID, ts, 'UI');
        if (version !== null) meta.set(Tags.ImplementationVersionName, version, 'SH');
        const b = withMeta(meta);
        const quick = fileMetaUids(b, b.length);
        if (quick) assert.deepEqual(quick, general(b));
        const usual = [cls, inst, ts].every((v) => v !== null && v !== '' && !v.includes('\\'));
        assert.equal(quick !== undefined, usual);
      },
    ),
    { numRuns: 300 },
  );
});

test('fileMetaUids leaves unusual files to the general reader', () => {
  const b = Buffer.concat([
    encodeFileMetaInformation({
      mediaStorageSopClassUid: '1.2.3',
      mediaStorageSopInstanceUid: '1.2.3.4',
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
    }),
    DATASET,
  ]);
  assert.ok(fileMetaUids(b, b.length), 'the usual file');
  // no preamble: DICM at offset 0
  assert.equal(fileMetaUids(b.subarray(128), b.length - 128), undefined);
  // the group is cut off by the end of the probe, or runs past the end of the file
  assert.equal(fileMetaUids(b.subarray(0, 200), b.length), undefined);
  assert.equal(fileMetaUids(b, 200), undefined);
  // group 0002 in implicit VR (seen from old writers)
  const meta = new Dataset()
    .set(Tags.MediaStorageSOPClassUID, '1.2.3', 'UI')
    .set(Tags.MediaStorageSOPInstanceUID, '1.2.3.4', 'UI')
    .set(Tags.TransferSyntaxUID, TransferSyntax.ImplicitVRLittleEndian, 'UI');
  const implicit = Buffer.concat([
    Buffer.alloc(128),
    Buffer.from('DICM', 'latin1'),
    encodeDataset(meta, TransferSyntax.ImplicitVRLittleEndian),
    DATASET,
  ]);
  assert.equal(fileMetaUids(implicit, implicit.length), undefined);
  assert.equal(general(implicit).sopInstanceUid, '1.2.3.4');
});

test('storableHeader takes the quick path for usual files and the general one for the rest', async () => {
  const usual = join(dir, 'usual.dcm');
  writeFileSync(
    usual,
    Buffer.concat([
      encodeFileMetaInformation({
        mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
        mediaStorageSopInstanceUid: '1.2.826.0.1.3680043.2.1143.5',
        transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      }),
      DATASET,
    ]),
  );
  const h = await readPart10Header(usual);
  assert.deepEqual(await storableHeader(usual), {
    sopClassUid: h.sopClassUid,
    sopInstanceUid: h.sopInstanceUid,
    transferSyntaxUid: h.transferSyntaxUid,
    datasetOffset: h.datasetOffset,
  });
  // no meta at all: the UIDs come from the data set, as before
  const bare = join(dir, 'bare.dcm');
  writeFileSync(
    bare,
    encodeDataset(
      new Dataset().set('SOPClassUID', '1.2.840.10008.5.1.4.1.1.7').set('SOPInstanceUID', '1.2.3.99'),
      TransferSyntax.ImplicitVRLittleEndian,
    ),
  );
  const got = await storableHeader(bare);
  assert.equal(got.sopClassUid, '1.2.840.10008.5.1.4.1.1.7');
  assert.equal(got.sopInstanceUid, '1.2.3.99');
  assert.equal(got.transferSyntaxUid, TransferSyntax.ImplicitVRLittleEndian);
});
