/**
 * Inputs the fuzz targets found, minimised, each pinned to the fix it led to.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { after, describe, test } from 'node:test';
import {
  datasetFromJson,
  datasetToJson,
  DicomParseError,
  encodeDataset,
  encodeFileMetaInformation,
  encodeText,
  fileBulkDataResolver,
  readPart10,
  TransferSyntax,
} from '../../src/data/index.js';
import { loadNodeConfig } from '../../src/node/config.js';

const dir = mkdtempSync(join(tmpdir(), 'dicomnet-fuzz-regressions-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('fuzz regressions', () => {
  test('config: a peer table answers only for configured AE titles (constructor, __proto__)', () => {
    const file = join(dir, 'node.conf');
    writeFileSync(file, '{"aet": "X", "aet": "Y"}');
    const plainConfig = loadNodeConfig(file);
    assert.equal(plainConfig.peers['constructor'], undefined);
    assert.equal(plainConfig.peers['toString'], undefined);
    writeFileSync(
      file,
      '{"peers": {"__proto__": {"host": "evil", "port": 104}, "STORESCP": {"host": "h", "port": 1}}}',
    );
    const config = loadNodeConfig(file);
    assert.deepEqual(Object.keys(config.peers).sort(), ['STORESCP', '__proto__']);
    assert.equal(config.peers['host'], undefined, 'no peer inherited from a "__proto__" entry');
    assert.equal(config.peers['__proto__']?.host, 'evil');
  });

  test('json: a BulkDataURI length beyond 32 bits is refused with DicomParseError, not a RangeError on encode', () => {
    const json = {
      '00000000': { vr: 'AE', BulkDataURI: 'file:///nonexistent/x?offset=1&length=99999999999' },
    };
    // the range is checked by the file resolver before any path is looked at (without a
    // resolver every BulkDataURI is refused)
    const bulkData = fileBulkDataResolver(dir);
    assert.throws(() => datasetFromJson(json, { bulkData }), {
      name: 'DicomParseError',
      code: 'ERR_BAD_JSON',
    });
    assert.throws(() => datasetFromJson(json), { name: 'DicomParseError', code: 'ERR_BULK_URI_REFUSED' });
    assert.throws(
      () => datasetFromJson({ '00100010': { vr: 'OB', BulkDataURI: 'file://%E0%A4%A?offset=0&length=2' } }),
      DicomParseError,
    );
  });

  test('json: InlineBinary must fill whole values of its VR and is padded to even length', () => {
    assert.throws(() => datasetFromJson({ '00000000': { vr: 'FD', InlineBinary: '/+' } }), {
      name: 'DicomParseError',
      message: /InlineBinary of 1 bytes is not a whole number of 8-byte FD values/,
    });
    const ds = datasetFromJson({ '00091001': { vr: 'OB', InlineBinary: '/w==' } });
    assert.deepEqual(ds.getBytes(0x00091001), Buffer.from([0xff, 0x00]));
    assert.equal(encodeDataset(ds, TransferSyntax.ExplicitVRLittleEndian).length, 12 + 2);
  });

  test('json: an SQ attribute with InlineBinary or BulkDataURI is refused', () => {
    assert.throws(() => datasetFromJson({ '00000000': { vr: 'SQ', InlineBinary: '/+A-' } }), {
      name: 'DicomParseError',
      message: /SQ attribute cannot have InlineBinary or BulkDataURI/,
    });
    assert.throws(
      () => datasetFromJson({ '00081110': { vr: 'SQ', BulkDataURI: 'file:///x?offset=0&length=2' } }),
      DicomParseError,
    );
  });

  test('json: numbers outside their VR (SV from an object, US 70000) are refused with DicomParseError', () => {
    const bad = [
      { '00100010': { vr: 'SV', Value: [{}] } },
      { '00100010': { vr: 'UV', Value: [-1] } },
      { '00100010': { vr: 'SV', Value: [1.5] } },
      { '00280010': { vr: 'US', Value: [70000] } },
      { '00280010': { vr: 'SS', Value: [0.5] } },
      // the long run's find: a non-integer OV number reached BigInt() in the encoder (RangeError)
      { '00000000': { vr: 'OV', Value: [-5e-324] } },
      { '00091001': { vr: 'OV', Value: [-1] } },
    ];
    for (const json of bad) assert.throws(() => datasetFromJson(json), DicomParseError, JSON.stringify(json));
    const ok = datasetFromJson({
      '00280010': { vr: 'US', Value: [65535] },
      '00101010': { vr: 'SV', Value: ['-9'] },
    });
    assert.deepEqual(datasetToJson(ok)['00280010'], { vr: 'US', Value: [65535] });
  });

  test('json: non-ASCII text without a character set is stored as UTF-8 and labelled ISO_IR 192', () => {
    const json = { '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Müller^Jörg' }] } };
    const ds = datasetFromJson(json);
    assert.equal(ds.getString('SpecificCharacterSet'), 'ISO_IR 192');
    assert.deepEqual(datasetToJson(ds)['00100010'], json['00100010']);
    // the fuzzer's minimised input: a 0x80 byte, read as Latin-1, grew into mojibake on every pass
    const once = datasetToJson(datasetFromJson({ '00000000': { vr: 'UC', InlineBinary: 'gA==' } }));
    const twice = datasetToJson(datasetFromJson(once));
    assert.deepEqual(twice['00000000'], once['00000000']);
    assert.deepEqual(datasetToJson(datasetFromJson(twice)), twice);
  });

  test('charset: a Specific Character Set term named like an Object method (toString) encodes as UTF-8', () => {
    assert.deepEqual(encodeText('\u00a0', ['toString']), Buffer.from('\u00a0', 'utf8'));
    assert.deepEqual(encodeText('é', ['constructor']), Buffer.from('é', 'utf8'));
  });

  test('decode: a deflated stream that fails to parse releases its source (no descriptor leak)', async () => {
    const { uncaught, fdsBefore, fdsAfter } = await readBadDeflatedFile();
    void uncaught;
    assert.ok(fdsAfter <= fdsBefore, `file descriptors leaked: ${fdsBefore} before, ${fdsAfter} after`);
  });

  test('part10: a deflated file that fails to parse closes its descriptor exactly once', async () => {
    const { uncaught } = await readBadDeflatedFile();
    assert.deepEqual(
      uncaught.map((e) => e.message),
      [],
    );
  });

  test('part10: a deflated data set followed by bytes the inflater never reads still closes the file', async () => {
    // the long run's find: the inflater ends with the deflate stream, the file stream piped into
    // it stayed open (paused) for good, whether the data set then parsed or not
    const element = Buffer.alloc(10);
    element.writeUInt16LE(0x0008, 0);
    element.writeUInt16LE(0x0060, 2);
    element.write('CS', 4, 'latin1');
    element.writeUInt16LE(2, 6);
    element.write('CT', 8, 'latin1');
    const meta = encodeFileMetaInformation({
      mediaStorageSopClassUid: '1.2',
      mediaStorageSopInstanceUid: '1.2.3',
      transferSyntaxUid: TransferSyntax.DeflatedExplicitVRLittleEndian,
    });
    const trailing = Buffer.alloc(300_000, 7);
    const whole = join(dir, 'deflated-trailing.dcm');
    writeFileSync(whole, Buffer.concat([meta, deflateRawSync(element), trailing]));
    const cut = join(dir, 'deflated-cut-trailing.dcm');
    writeFileSync(cut, Buffer.concat([meta, deflateRawSync(element.subarray(0, 8)), trailing]));
    const before = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 5; i++) {
      const file = await readPart10(whole);
      assert.equal(file.dataset.getString(0x00080060), 'CT');
      await assert.rejects(readPart10(cut), { name: 'DicomParseError', code: 'ERR_TRUNCATED' });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(readdirSync('/proc/self/fd').length <= before, 'file descriptors leaked');
  });

  test('builder: a deflated file cut short inside a spilled value closes and deletes the spill file', async () => {
    const head = Buffer.alloc(12);
    head.writeUInt16LE(0x0009, 0);
    head.writeUInt16LE(0x1001, 2);
    head.write('OB', 4, 'latin1');
    head.writeUInt32LE(1 << 20, 8);
    const file = join(dir, 'truncated-bulk.dcm');
    writeFileSync(
      file,
      Buffer.concat([
        encodeFileMetaInformation({
          mediaStorageSopClassUid: '1.2',
          mediaStorageSopInstanceUid: '1.2.3',
          transferSyntaxUid: TransferSyntax.DeflatedExplicitVRLittleEndian,
        }),
        deflateRawSync(Buffer.concat([head, Buffer.alloc(200_000, 7)])),
      ]),
    );
    const spillFds = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).includes('dicomnet-bulk-');
        } catch {
          return false;
        }
      }).length;
    const before = readdirSync('/proc/self/fd').length;
    for (let i = 0; i < 5; i++)
      await assert.rejects(readPart10(file), { name: 'DicomParseError', code: 'ERR_TRUNCATED' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(spillFds(), 0, 'spill files left open');
    assert.ok(readdirSync('/proc/self/fd').length <= before, 'file descriptors leaked');
  });
});

/** Read five times a deflated file whose data set fails at once while megabytes are still to be read. */
async function readBadDeflatedFile(): Promise<{ uncaught: Error[]; fdsBefore: number; fdsAfter: number }> {
  const noise = Buffer.alloc(4 << 20);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
  const file = join(dir, 'bad-deflated.dcm');
  writeFileSync(
    file,
    Buffer.concat([
      encodeFileMetaInformation({
        mediaStorageSopClassUid: '1.2',
        mediaStorageSopInstanceUid: '1.2.3',
        transferSyntaxUid: TransferSyntax.DeflatedExplicitVRLittleEndian,
      }),
      // (0008,0020) DA of odd length 3: fails at once (unknown VR bytes are read on since issue 18)
      deflateRawSync(Buffer.concat([Buffer.from([0x08, 0x00, 0x20, 0x00, 0x44, 0x41, 0x03, 0x00]), noise])),
    ]),
  );
  const uncaught: Error[] = [];
  const onUncaught = (err: Error) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  const fdsBefore = readdirSync('/proc/self/fd').length;
  try {
    for (let i = 0; i < 5; i++)
      await assert.rejects(readPart10(file), { name: 'DicomParseError', code: 'ERR_ODD_LENGTH' });
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    process.off('uncaughtException', onUncaught);
  }
  return { uncaught, fdsBefore, fdsAfter: readdirSync('/proc/self/fd').length };
}
