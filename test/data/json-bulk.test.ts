import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  Dataset,
  datasetFromJson,
  datasetToJson,
  encodeDataset,
  fileBulkDataResolver,
  fileBulkDataUri,
  readPart10,
  TransferSyntax,
  writePart10,
} from '../../src/data/index.js';

const root = mkdtempSync(join(tmpdir(), 'dicomnet-json-bulk-'));
after(() => rmSync(root, { recursive: true, force: true }));
const base = join(root, 'base');
mkdirSync(base);
const secret = join(root, 'secret.key');
writeFileSync(secret, 'PRIVATE KEY BYTES!');
const uriOf = (file: string, length = 18) => fileBulkDataUri({ kind: 'bulk', file, offset: 0, length });

test('datasetFromJson refuses every BulkDataURI unless a resolver is given, whatever the scheme', () => {
  for (const uri of [uriOf(secret), 'file:///etc/passwd', 'http://example.org/bulk/1', 'x']) {
    assert.throws(
      () => datasetFromJson({ '00420011': { vr: 'OB', BulkDataURI: uri } }),
      { name: 'DicomParseError', code: 'ERR_BULK_URI_REFUSED', message: /00420011.*BulkDataURI refused/ },
      uri,
    );
  }
  // nested in a sequence item too
  assert.throws(
    () =>
      datasetFromJson({
        '00400100': { vr: 'SQ', Value: [{ '00420011': { vr: 'OB', BulkDataURI: uriOf(secret) } }] },
      }),
    { code: 'ERR_BULK_URI_REFUSED' },
  );
});

test('fileBulkDataResolver resolves file:// ranges inside its directory and nothing outside it', async () => {
  // a Part 10 file whose pixel data is left in the file: its JSON names it by a file:// range
  const file = join(base, 'image.dcm');
  const ds = new Dataset();
  ds.set('SOPClassUID', '1.2.840.10008.5.1.4.1.1.7');
  ds.set('SOPInstanceUID', '1.2.3.4');
  ds.set('PixelData', Buffer.alloc(2048, 7), 'OB');
  await writePart10(file, ds, { transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian });
  const read = await readPart10(file, { bulkDataThreshold: 256 });
  const json = datasetToJson(read.dataset);
  assert.match(json['7FE00010']?.BulkDataURI ?? '', /^file:\/\//);
  const back = datasetFromJson(json, { bulkData: fileBulkDataResolver(base) });
  assert.ok(
    encodeDataset(back, TransferSyntax.ExplicitVRLittleEndian).equals(
      encodeDataset(read.dataset, TransferSyntax.ExplicitVRLittleEndian),
    ),
  );

  const bulkData = fileBulkDataResolver(base);
  symlinkSync(secret, join(base, 'link.key'));
  const refused = [
    uriOf(secret),
    uriOf(join(base, '..', 'secret.key')),
    uriOf(join(base, 'link.key')),
    uriOf(join(base, 'missing.bin')),
    uriOf(base),
    'http://example.org/bulk/1',
  ];
  for (const uri of refused)
    assert.throws(
      () => datasetFromJson({ '00420011': { vr: 'OB', BulkDataURI: uri } }, { bulkData }),
      { name: 'DicomParseError', code: 'ERR_BULK_URI_REFUSED' },
      uri,
    );
});
