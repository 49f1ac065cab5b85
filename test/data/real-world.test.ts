// Real-world data (issue 18): the files modalities actually send, made HERE from the element
// lists of test/data/real-world/make_corpus.py (byte by byte where no conforming writer would
// produce them) and converted with DCMTK's dcmconv; `dicomnet dump --json` is compared element
// by element with dcm2json, and with pydicom for what DCMTK 3.6.7 does not do (a UN of a known
// tag read with its dictionary VR, an item's own character set, a meta header that lies).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { datasetChunks, readPart10, transferSyntaxLayout } from '../../src/data/index.js';
import { runCli } from '../helpers/cli.js';

const PYTHON = '/usr/bin/python3';
const script = fileURLToPath(new URL('../../../test/data/real-world/make_corpus.py', import.meta.url));
const tools = ['dcm2json', 'dcmconv', 'dcmdump'];
const missing = tools.filter((t) => spawnSync(t, ['--version'], { stdio: 'ignore' }).status !== 0);
const pydicom = spawnSync(PYTHON, ['-c', 'import pydicom'], { stdio: 'ignore' }).status === 0;
const skip =
  missing.length > 0 ? `DCMTK tools missing: ${missing.join(', ')}` : pydicom ? false : 'pydicom missing';

/** pydicom's DICOM JSON of a file (its own reading rules: UN of known tags, item character sets). */
const PYDICOM_JSON = `
import json, sys, warnings
warnings.simplefilter("ignore")
import pydicom
print(json.dumps(pydicom.dcmread(sys.argv[1]).to_json_dict(bulk_data_threshold=1e9)))
`;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

let dir = '';

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Deep equality of parsed JSON; numbers equal within 1e-15 relative (dcm2json prints %.17g). */
function sameJson(a: Json, b: Json, path: string): void {
  if (typeof a === 'number' && typeof b === 'number') {
    const tol = Math.max(Math.abs(a), Math.abs(b)) * 1e-15;
    assert.ok(Math.abs(a - b) <= tol, `${path}: ${a} != ${b}`);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, `${path}: array length`);
    for (let i = 0; i < a.length; i++) sameJson(a[i]!, b[i]!, `${path}[${i}]`);
    return;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${path}: keys`);
    for (const k of Object.keys(a)) sameJson(a[k]!, b[k]!, `${path}.${k}`);
    return;
  }
  assert.deepEqual(a, b, path);
}

async function ours(file: string): Promise<{ json: { [k: string]: Json }; stderr: string }> {
  const r = await runCli(['dump', '--json', join(dir, file)]);
  assert.equal(r.code, 0, `dicomnet dump --json ${file}: ${r.stderr}`);
  return { json: JSON.parse(r.stdout) as { [k: string]: Json }, stderr: r.stderr };
}

async function dcm2json(file: string): Promise<{ [k: string]: Json }> {
  return JSON.parse(await must('dcm2json', [file])) as { [k: string]: Json };
}

async function pydicomJson(file: string): Promise<{ [k: string]: Json }> {
  return JSON.parse(await must(PYTHON, ['-c', PYDICOM_JSON, file])) as { [k: string]: Json };
}

/**
 * Compare with dcm2json element by element; the attributes in `byPydicom` with pydicom
 * instead (DCMTK 3.6.7 leaves them as read), `skipped` with neither (the reason beside each).
 */
async function compare(
  file: string,
  byPydicom: string[] = [],
  skipped: string[] = [],
): Promise<{ [k: string]: Json }> {
  const { json: a } = await ours(file);
  const b = await dcm2json(file);
  const p = byPydicom.length > 0 ? await pydicomJson(file) : {};
  for (const k of [...byPydicom, ...skipped]) delete b[k];
  const rest = { ...a };
  for (const k of byPydicom) {
    sameJson(a[k]!, p[k]!, `${file} ${k} (pydicom)`);
    delete rest[k];
  }
  for (const k of skipped) delete rest[k];
  sameJson(rest, b, `${file} (dcm2json)`);
  return a;
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'dicomnet-real-world-'));
  await must(PYTHON, [script, dir]);
  // DCMTK's own conversions of some of them (it writes private elements with private.dic's VRs)
  await must('dcmconv', ['+te', 'private-implicit.dcm', 'private-explicit.dcm']);
  await must('dcmconv', ['+te', 'xs-signed-implicit.dcm', 'xs-signed-explicit.dcm']);
  await must('dcmconv', ['+tb', 'xs-signed-implicit.dcm', 'xs-signed-big.dcm']);
  await must('dcmconv', ['+ti', 'un-sequence-big.dcm', 'un-sequence-implicit.dcm']);
  await must('dcmconv', ['+tb', 'charset-items.dcm', 'charset-items-big.dcm']);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('family 1: a UN of undefined length is a sequence; a UN of a known tag has its dictionary VR', {
  skip,
}, async () => {
  // DCMTK keeps defined-length UN values of known tags as UN; pydicom reads them with the
  // dictionary VR (issue 18 asks for that), a defined-length UN sequence included
  const a = await compare('un-sequence.dcm', ['00100010', '00100020', '00189087', '00280010', '00400275']);
  assert.equal((a['00081115'] as { vr: string }).vr, 'SQ');
  assert.equal((a['00091010'] as { vr: string }).vr, 'SQ');
  assert.deepEqual(a['00280010'], { vr: 'US', Value: [512] });
  await compare('un-sequence-big.dcm');
  await compare('un-sequence-implicit.dcm');
});

test('family 1: what was read as UN is written back as it came, byte for byte', { skip }, async () => {
  for (const f of ['un-sequence.dcm', 'un-sequence-big.dcm', 'charset-items.dcm', 'private-implicit.dcm']) {
    const path = join(dir, f);
    const file = await readPart10(path);
    const layout = transferSyntaxLayout(file.transferSyntaxUid);
    const again = Buffer.concat([...datasetChunks(file.dataset, layout)]);
    assert.ok(again.equals(readFileSync(path).subarray(file.datasetOffset)), `${f}: re-encoding differs`);
  }
});

test('family 2: an item own Specific Character Set applies to it and below, then the enclosing one resumes', {
  skip,
}, async () => {
  // dcm2json 3.6.7 decodes every item with the data set's set; pydicom as PS3.5 7.5 says
  const a = await compare('charset-items.dcm', ['00101002']);
  const items = (a['00101002'] as { Value: { [k: string]: { Value: Json[] } }[] }).Value;
  assert.deepEqual(items[0]!['00080005']!.Value, ['ISO 2022 IR 13', 'ISO 2022 IR 87']);
  assert.deepEqual(items[0]!['00100010']!.Value, [
    { Alphabetic: 'ﾔﾏﾀﾞ^ﾀﾛｳ', Ideographic: '山田^太郎', Phonetic: 'やまだ^たろう' },
  ]);
  assert.deepEqual(items[2]!['00100010']!.Value, [{ Alphabetic: 'Müller^Jürgen' }]);
  assert.deepEqual((a['00104000'] as { Value: Json[] }).Value, ['Après la séquence']);
  const big = await ours('charset-items-big.dcm');
  sameJson(big.json, a, 'charset-items-big.dcm');
});

test('family 3: bytes that are not a VR read on with a 2-byte length and a warning; a lying meta header', {
  skip,
}, async () => {
  await compare('bad-vr.dcm');
  const { stderr } = await ours('bad-vr.dcm');
  assert.match(stderr, /\(0010,0020\) at offset \d+: non-standard VR bytes 20 20/);
  assert.match(stderr, /\(0010,0030\) at offset \d+: non-standard VR bytes 00 00/);
  // DCMTK 3.6.7 cannot read these at all; pydicom detects the real encoding, as dicomnet does
  for (const f of ['meta-lies-explicit.dcm', 'meta-lies-implicit.dcm']) {
    const r = await ours(f);
    sameJson(r.json, await pydicomJson(f), `${f} (pydicom)`);
    assert.match(r.stderr, /file meta information says transfer syntax .* read as/);
  }
});

test('family 4: US or SS by Pixel Representation, OW for pixel data, overlays and LUT data', {
  skip,
}, async () => {
  const a = await compare('xs-signed-implicit.dcm');
  assert.deepEqual(a['00280106'], { vr: 'SS', Value: [-5] });
  assert.deepEqual(a['00280120'], { vr: 'SS', Value: [-2000] });
  await compare('xs-signed-explicit.dcm');
  await compare('xs-signed-big.dcm');
  await compare('xs-unsigned8-implicit.dcm');
});

test('family 5 and 6: binary values keep every byte; DICOM JSON as dcm2json writes it', { skip }, async () => {
  const a = await compare('bytes.dcm');
  assert.deepEqual(a['00091002'], { vr: 'OB', InlineBinary: 'TmVzdGVkIFNRAA==' });
  assert.deepEqual(a['00091001'], { vr: 'UN', InlineBinary: 'TmVzdGVkIFNRAA==' });
  // dcm2json prints the largest double with 17 digits that overflow (Infinity): pydicom's there
  const j = await compare('json-rules.dcm', ['00189087']);
  assert.equal(j['00080000'], undefined);
  assert.deepEqual(j['00080090'], { vr: 'PN' });
  assert.deepEqual(j['00101030'], { vr: 'DS' });
  assert.deepEqual((j['00109431'] as { Value: number[] }).Value, [0.100000001, 3.40282347e38, 1.40129846e-45, -2.5]);
});

test('family 7: a truncated file dumps what was read, then one error line naming tag and offset', {
  skip,
}, async () => {
  const whole = readFileSync(join(dir, 'truncated-whole.dcm'));
  const cuts: [number, RegExp][] = [
    [whole.length - 10, /^dicomnet: \(0010,4000\) at offset \d+: value length 32 runs past the end of input \(22 bytes left\)\n$/],
    [whole.length - 36, /^dicomnet: truncated element header at offset \d+ \(4 bytes left\)\n$/],
  ];
  for (const [at, message] of cuts) {
    const file = join(dir, `cut-${at}.dcm`);
    writeFileSync(file, whole.subarray(0, at));
    const r = await runCli(['dump', file]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /\(0010,0010\) PN \[Cut\^Short\]/);
    assert.match(r.stderr, message);
    const j = await runCli(['dump', '--json', file]);
    assert.equal(j.code, 2);
    assert.equal(j.stdout, '');
  }
  // dcmdump names the same element
  const dcmdump = await run('dcmdump', [`cut-${whole.length - 10}.dcm`]);
  assert.match(dcmdump.stderr, /\(0010,4000\) larger \(32\) than remaining bytes/);
});

test('family 8: private elements of well-known creators get the private dictionary VRs and names', {
  skip,
}, async () => {
  const a = await compare('private-implicit.dcm');
  assert.deepEqual(a['00191002'], { vr: 'SL', Value: [880] });
  assert.deepEqual(a['00291101'], { vr: 'UN', InlineBinary: 'AQIDBA==' });
  await compare('private-explicit.dcm');
  const text = await runCli(['dump', join(dir, 'private-implicit.dcm')]);
  const theirs = await must('dcmdump', ['private-implicit.dcm']);
  for (const name of ['NumberOfCellsInDetector', 'CSAImageHeaderType', 'BitmapOfPrescanOptions']) {
    assert.match(theirs, new RegExp(name));
    assert.match(text.stdout, new RegExp(name));
  }
});

test('family 9: dump --validate lists per element what breaks PS3.5, as dciodvfy finds it', {
  skip: skip || (spawnSync('dciodvfy', [], { stdio: 'ignore' }).error ? 'dciodvfy missing' : false),
}, async () => {
  const r = await runCli(['dump', '--validate', join(dir, 'invalid-values.dcm')]);
  assert.equal(r.code, 0, r.stderr);
  const ours = new Set([...r.stdout.matchAll(/^\(([0-9A-F]{4}),([0-9A-F]{4})\) /gm)].map((m) => `${m[1]}${m[2]}`));
  // dciodvfy's encoding checks: "Value invalid for this VR - (0xgggg,0xeeee)" and VM per keyword
  const d = await run('dciodvfy', ['invalid-values.dcm']);
  const theirs = new Set(
    [...d.stderr.matchAll(/Value invalid for this VR - \(0x([0-9a-f]{4}),0x([0-9a-f]{4})\)/g)].map(
      (m) => `${m[1]}${m[2]}`.toUpperCase(),
    ),
  );
  const vm = { Rows: '00280010', PixelSpacing: '00280030' } as const;
  for (const [keyword, tag] of Object.entries(vm)) {
    assert.match(d.stderr, new RegExp(`Bad attribute Value Multiplicity \\d+ \\(\\d+ Required by Dictionary\\) Element=<${keyword}>`));
    theirs.add(tag);
  }
  assert.deepEqual([...ours].sort(), [...theirs].sort());
  assert.match(r.stdout, /^\(0008,1030\) LO: the value has 70 characters, more than 64 for LO/m);
  assert.doesNotMatch(r.stdout, /AAAA|Doe/, 'values (PHI) are never printed');
  // the files dicomnet reads without complaint validate clean
  for (const f of ['charset-items.dcm', 'xs-signed-implicit.dcm', 'private-implicit.dcm']) {
    const clean = await runCli(['dump', '--validate', join(dir, f)]);
    assert.equal(clean.stdout, 'no encoding problems found\n', f);
  }
});
