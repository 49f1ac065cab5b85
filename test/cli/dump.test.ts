import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Dataset, TransferSyntax, writePart10 } from '../../src/data/index.js';
import { runCli } from '../helpers/cli.js';

let dir = '';
let good = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dicomnet-dump-'));
  good = join(dir, 'good.dcm');
  const ds = new Dataset()
    .set('SOPClassUID', '1.2.840.10008.5.1.4.1.1.7')
    .set('SOPInstanceUID', '1.2.3.4')
    .set('PatientName', 'Doe^John')
    .set('Rows', 2)
    .set('PixelData', Buffer.alloc(8), 'OW');
  await writePart10(good, ds, { transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian });
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('dump prints a dcmdump-like listing', async () => {
  const r = await runCli(['dump', good]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\(0010,0010\) PN \[Doe\^John\] +# {3}8, 1 PatientName$/m);
  assert.match(r.stdout, /^\(0028,0010\) US 2 +# {3}2, 1 Rows$/m);
  assert.match(r.stdout, /^# Dicom-Meta-Information-Header$/m);
});

test('dump --json prints exactly one JSON object', async () => {
  const r = await runCli(['dump', '--json', good]);
  assert.equal(r.code, 0, r.stderr);
  const obj = JSON.parse(r.stdout);
  assert.deepEqual(obj['00100010'], { vr: 'PN', Value: [{ Alphabetic: 'Doe^John' }] });
  assert.equal(obj['00020010'], undefined);
});

test('a truncated file: one stderr line naming tag, offset and cause, exit 2', async () => {
  const bytes = readFileSync(good);
  const bad = join(dir, 'truncated.dcm');
  writeFileSync(bad, bytes.subarray(0, bytes.length - 5));
  const r = await runCli(['dump', bad]);
  assert.equal(r.code, 2);
  // issue 18: everything readable is printed first (as dcmdump does), the pixel data is not
  assert.match(r.stdout, /\(0008,0018\) UI \[/);
  assert.doesNotMatch(r.stdout, /\(7fe0,0010\)/);
  assert.match(
    r.stderr,
    /^dicomnet: \(7FE0,0010\) at offset \d+: value length 8 runs past the end of input \(3 bytes left\)\n$/,
  );
  // --json prints one clean object or nothing
  const j = await runCli(['dump', '--json', bad]);
  assert.equal(j.code, 2);
  assert.equal(j.stdout, '');
  assert.match(j.stderr, /^dicomnet: \(7FE0,0010\) at offset \d+: value length 8 runs past the end of input/);
});

test('an element length of 0xFFFFFFF0 is exit 2 with a precise message', async () => {
  const bytes = readFileSync(good);
  const bad = join(dir, 'huge.dcm');
  const copy = Buffer.from(bytes);
  // the pixel data element is last: its 32-bit length sits 12 bytes before the 8 value bytes
  copy.writeUInt32LE(0xfffffff0, copy.length - 8 - 4);
  writeFileSync(bad, copy);
  const r = await runCli(['dump', '--json', bad]);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^dicomnet: \(7FE0,0010\) at offset \d+: value length 4294967280 runs past the end of input/,
  );
});

test('wrong magic and missing files are exit 2', async () => {
  const junk = join(dir, 'junk.txt');
  writeFileSync(junk, 'this is not DICOM at all, just some text that is long enough to be checked'.repeat(4));
  let r = await runCli(['dump', junk]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^dicomnet: not a DICOM file: no "DICM" at offset 128/);
  r = await runCli(['dump', join(dir, 'nope.dcm')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^dicomnet: dump: cannot open .*nope\.dcm: ENOENT\n$/);
});
