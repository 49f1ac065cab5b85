// Corpus test: DICOM files MADE HERE with DCMTK (dump2dcm, dcmconv, dcmcjpeg, dcmcrle, dcmcjpls,
// img2dcm), then `dicomnet dump --json FILE` must equal `dcm2json FILE` as parsed JSON, pixel data
// aside. Nothing binary is committed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { main } from '../../src/cli/main.js';
import { datasetChunks, readPart10, transferSyntaxLayout } from '../../src/data/index.js';
import { runCli } from '../helpers/cli.js';

const tools = ['dump2dcm', 'dcm2json', 'dcmconv', 'dcmcjpeg', 'dcmcrle', 'dcmcjpls', 'img2dcm'];
const missing = tools.filter((t) => spawnSync(t, ['--version'], { stdio: 'ignore' }).status !== 0);
const skip = missing.length > 0 ? `DCMTK tools missing: ${missing.join(', ')}` : false;

const pixels8 = Array.from({ length: 64 }, (_, i) => ((i * 37) & 0xff).toString(16).padStart(2, '0')).join(
  '\\',
);

const IMAGE = `
(0008,0016) UI [1.2.840.10008.5.1.4.1.1.7]
(0008,0018) UI [1.2.826.0.1.3680043.2.1143.1]
(0008,0020) DA [20240102]
(0008,0030) TM [101010.123]
(0008,0060) CS [OT]
(0010,0010) PN [Doe^John^^Dr.]
(0010,0020) LO [ID-1 ]
(0010,0030) DA (no value available)
(0020,000d) UI [1.2.826.0.1.3680043.2.1143.2]
(0020,000e) UI [1.2.826.0.1.3680043.2.1143.3]
(0020,0013) IS [ 0012]
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US 8
(0028,0011) US 8
(0028,0100) US 8
(0028,0101) US 8
(0028,0102) US 7
(0028,0103) US 0
(0028,1050) DS [0040.0\\-1.5e2]
(7fe0,0010) OB ${pixels8}
`;

const NESTED = `
(0008,0016) UI [1.2.840.10008.5.1.4.1.1.88.11]
(0008,0018) UI [1.2.3.4.5]
(0008,1115) SQ (Sequence with undefined length)
  (fffe,e000) na (Item with undefined length)
    (0008,1140) SQ (Sequence with undefined length)
      (fffe,e000) na (Item with undefined length)
        (0008,1150) UI [1.2]
        (0008,1155) UI [1.3]
        (0040,a730) SQ (Sequence with undefined length)
          (fffe,e000) na (Item with undefined length)
            (0040,a040) CS [TEXT]
            (0040,a160) UT [  leading spaces kept]
          (fffe,e00d) na (ItemDelimitationItem)
        (fffe,e0dd) na (SequenceDelimitationItem)
      (fffe,e00d) na (ItemDelimitationItem)
      (fffe,e000) na (Item with undefined length)
      (fffe,e00d) na (ItemDelimitationItem)
    (fffe,e0dd) na (SequenceDelimitationItem)
    (0020,000e) UI [1.2.3]
  (fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(0008,9215) SQ (Sequence with undefined length)
(fffe,e0dd) na (SequenceDelimitationItem)
(0009,0010) LO [ACME 1.0]
(0009,1001) UN 01\\02\\03\\04
(0009,1002) OB 0a\\0b
(0009,1010) SQ (Sequence with undefined length)
  (fffe,e000) na (Item with undefined length)
    (0009,0010) LO [ACME 1.0]
    (0009,1001) LO [private text]
    (0010,0020) LO [INNER]
  (fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(0010,0020) LO [PID]
(0018,9219) SS -3
(0020,9165) AT (0010,0020)\\(0020,000d)
(0028,0009) AT (0018,1063)
(0040,a30a) DS [1.0\\\\3]
(0008,0008) CS [ORIGINAL\\\\AXIAL]
(0008,1060) PN [a^b^c^d^e\\\\=Ideo]
(0018,1310) US 0\\1\\2\\65535
(0018,9087) FD 0.1\\-0\\3.5e-300
(0018,9089) FD 1\\2.25\\0.333333333333
(0010,9431) FL 0.1\\16777217\\1e-10\\-2.5
(0072,0078) UL 4294967295
(0072,007c) SL -2147483648
(0072,0082) SV -9007199254740993\\42
(0072,0083) UV 18446744073709551615\\7
(0066,0129) OL 1\\2
(0064,0009) OF 1.5\\-2
(0066,0022) OD 1.5
(0072,0081) OV 7
(0040,a120) DT [20200101120000.000000+0100]
(0040,a121) DA [20200101]
(0040,a122) TM [120000]
(0010,1010) AS [042Y]
(0008,0054) AE [STORESCP]
(0008,1080) LO [A\\B\\\\D]
(0018,1020) LO [V1\\V2]
(0040,1001) SH [SHORT]
(0020,4000) LT [line1 \\ not split  ]
(0008,0090) PN (no value available)
(0040,0275) SQ (Sequence with undefined length)
  (fffe,e000) na (Item with undefined length)
  (fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
(0008,0120) UR [http://example.com/a b]
(0040,a043) SQ (Sequence with undefined length)
  (fffe,e000) na (Item with undefined length)
    (0008,0100) SH [113000]
    (0008,0102) SH [DCM]
    (0008,0104) LO [Of Interest]
    (0008,0119) UC [unlimited characters here]
  (fffe,e00d) na (ItemDelimitationItem)
(fffe,e0dd) na (SequenceDelimitationItem)
`;

/** [name, specific character set, PN value bytes] for character set files. */
const CHARSETS: [string, string, Buffer][] = [
  [
    'latin1',
    'ISO_IR 100',
    Buffer.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72, 0x5e, 0x48, 0xe9, 0x6c, 0xe8, 0x6e, 0x65]),
  ],
  ['cyrillic', 'ISO_IR 144', Buffer.from([0xbb, 0xee, 0xda, 0x63, 0x65, 0xdc, 0xd1, 0x79, 0x70, 0xd3])],
  ['thai', 'ISO_IR 166', Buffer.from([0xb9, 0xd2, 0xc2, 0x5e, 0xca, 0xd4, 0xb7, 0xb8, 0xd4])],
  ['utf8', 'ISO_IR 192', Buffer.from('Wang^XiaoDong=王^小東=', 'utf8')],
  [
    'gb18030',
    'GB18030',
    Buffer.from([
      0x57, 0x61, 0x6e, 0x67, 0x5e, 0x58, 0x69, 0x61, 0x6f, 0x44, 0x6f, 0x6e, 0x67, 0x3d, 0xcd, 0xf5, 0x5e,
      0xd0, 0xa1, 0xb6, 0xab, 0x3d,
    ]),
  ],
  ['gbk', 'GBK', Buffer.from([0x57, 0x61, 0x6e, 0x67, 0x3d, 0xcd, 0xf5, 0x5e, 0xd0, 0xa1, 0xb6, 0xab])],
  [
    'korean-2022',
    '\\ISO 2022 IR 149',
    Buffer.from([
      0x48, 0x6f, 0x6e, 0x67, 0x5e, 0x47, 0x69, 0x6c, 0x64, 0x6f, 0x6e, 0x67, 0x3d, 0x1b, 0x24, 0x29, 0x43,
      0xfb, 0xf3, 0x5e, 0x1b, 0x24, 0x29, 0x43, 0xd1, 0xce, 0xd4, 0xd7, 0x3d, 0x1b, 0x24, 0x29, 0x43, 0xc8,
      0xab, 0x5e, 0x1b, 0x24, 0x29, 0x43, 0xb1, 0xe6, 0xb5, 0xbf,
    ]),
  ],
  [
    'greek-2022',
    'ISO 2022 IR 100\\ISO 2022 IR 126',
    Buffer.concat([Buffer.from('Dion^'), Buffer.from([0x1b, 0x2d, 0x46, 0xc4, 0xe9, 0xef, 0xed])]),
  ],
];

function charsetDump(cs: string, pn: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(
      `(0008,0005) CS [${cs}]\n(0008,0016) UI [1.2.840.10008.5.1.4.1.1.7]\n(0008,0018) UI [1.2.3.9]\n(0010,0010) PN [`,
    ),
    pn,
    Buffer.from(']\n(0010,4000) LT [Text: '),
    pn,
    Buffer.from(']\n(0032,1060) LO ['),
    pn.subarray(0, Math.min(pn.length, 12)).filter((b) => b !== 0x3d && b !== 0x5e && b !== 0x1b),
    Buffer.from(']\n'),
  ]);
}

/** A 24-bit BMP of w×h pixels (for img2dcm). */
function bmp(w: number, h: number): Buffer {
  const row = Math.ceil((w * 3) / 4) * 4;
  const size = 54 + row * h;
  const b = Buffer.alloc(size);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(size, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(row * h, 34);
  for (let y = 0; y < h; y++) for (let x = 0; x < w * 3; x++) b[54 + y * row + x] = (x * 7 + y * 3) & 0xff;
  return b;
}

let dir = '';
const files: string[] = [];
/** dcm2json refuses encapsulated pixel data: it reads a copy without (7FE0,0010) instead. */
const referenceFor = new Map<string, string>();

/** Run a tool with stdin closed (no EPIPE when it exits before reading), collecting its output. */
function run(
  cmd: string,
  args: string[],
  options: { cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function must(cmd: string, args: string[]): Promise<void> {
  const r = await run(cmd, args, { cwd: dir });
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^[EF]: /m, `${cmd} ${args.join(' ')} reported errors: ${r.stderr}`);
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'dicomnet-corpus-'));
  const bases: string[] = [];
  writeFileSync(join(dir, 'image.dump'), IMAGE);
  writeFileSync(join(dir, 'nested.dump'), NESTED);
  for (const [name, cs, pn] of CHARSETS) writeFileSync(join(dir, `cs-${name}.dump`), charsetDump(cs, pn));
  for (const name of ['image', 'nested', ...CHARSETS.map((c) => `cs-${c[0]}`)]) {
    await must('dump2dcm', ['-q', '+te', `${name}.dump`, `${name}.dcm`]);
    bases.push(`${name}.dcm`);
  }
  const jobs: Promise<void>[] = [];
  for (const base of bases) {
    const stem = base.replace(/\.dcm$/, '');
    jobs.push(must('dcmconv', ['+ti', base, `${stem}-implicit.dcm`]));
    jobs.push(must('dcmconv', ['+tb', base, `${stem}-big.dcm`]));
    jobs.push(must('dcmconv', ['+td', base, `${stem}-deflated.dcm`]));
    jobs.push(must('dcmconv', ['+te', '-e', base, `${stem}-undefined-lengths.dcm`]));
    jobs.push(must('dcmconv', ['+te', '+e', base, `${stem}-explicit-lengths.dcm`]));
    jobs.push(must('dcmconv', ['+ti', '-F', base, `${stem}-bare-implicit.dcm`]));
    jobs.push(must('dcmconv', ['+te', '-F', base, `${stem}-bare-explicit.dcm`]));
    files.push(
      base,
      `${stem}-implicit.dcm`,
      `${stem}-big.dcm`,
      `${stem}-deflated.dcm`,
      `${stem}-undefined-lengths.dcm`,
      `${stem}-explicit-lengths.dcm`,
      `${stem}-bare-implicit.dcm`,
      `${stem}-bare-explicit.dcm`,
    );
  }
  // encapsulated pixel data: JPEG baseline, JPEG lossless, RLE, JPEG-LS (lossless, near-lossless)
  jobs.push(must('dcmcjpeg', ['+eb', 'image.dcm', 'image-jpeg-baseline.dcm']));
  jobs.push(must('dcmcjpeg', ['+e1', 'image.dcm', 'image-jpeg-lossless.dcm']));
  jobs.push(must('dcmcrle', ['image.dcm', 'image-rle.dcm']));
  jobs.push(must('dcmcjpls', ['+el', 'image.dcm', 'image-jpegls.dcm']));
  jobs.push(must('dcmcjpls', ['+en', 'image.dcm', 'image-jpegls-near.dcm']));
  files.push(
    'image-jpeg-baseline.dcm',
    'image-jpeg-lossless.dcm',
    'image-rle.dcm',
    'image-jpegls.dcm',
    'image-jpegls-near.dcm',
  );
  // a 1.6 MB secondary capture from a BMP: pixel data above the dump bulk threshold
  writeFileSync(join(dir, 'big.bmp'), bmp(740, 740));
  jobs.push(must('img2dcm', ['-i', 'BMP', 'big.bmp', 'img2dcm-bmp.dcm']));
  files.push('img2dcm-bmp.dcm');
  await Promise.all(jobs);
  // a private sequence read back as UN of undefined length (CP-246) after implicit -> explicit
  await must('dcmconv', ['+ti', '-e', 'nested.dcm', 'nested-implicit-undefined.dcm']);
  await must('dcmconv', ['+te', '-e', 'nested-implicit-undefined.dcm', 'nested-un-cp246.dcm']);
  files.push('nested-implicit-undefined.dcm', 'nested-un-cp246.dcm');
  for (const f of files.filter((name) => /jpeg|rle|jpegls/.test(name))) {
    const copy = f.replace(/\.dcm$/, '-nopixel.dcm');
    await must('cp', [f, copy]);
    await must('dcmodify', ['-nb', '-q', '-ea', '(7fe0,0010)', copy]);
    referenceFor.set(f, copy);
  }
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `dicomnet ARGS` run in this process (the same CLI entry, without a process start per file). */
async function dumpInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const stdoutSink = new Writable({
    write(chunk, _enc, done) {
      stdout += chunk;
      done();
    },
  });
  const stderrSink = new Writable({
    write(chunk, _enc, done) {
      stderr += chunk;
      done();
    },
  });
  const code = await main(args, { stdout: stdoutSink, stderr: stderrSink });
  return { code, stdout, stderr };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Deep equality of parsed JSON; numbers equal within 1e-15 relative (DCMTK prints FD with %.17g rounding). */
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

test('dicomnet dump --json equals dcm2json on every DCMTK-made file (pixel data aside)', {
  skip,
}, async () => {
  assert.ok(files.length >= 80, `corpus has ${files.length} files`);
  const queue = [...files];
  const worker = async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      const path = join(dir, f);
      const [ours, theirs] = await Promise.all([
        dumpInProcess(['dump', '--json', path]),
        run('dcm2json', [join(dir, referenceFor.get(f) ?? f)]),
      ]);
      assert.equal(theirs.code, 0, `dcm2json ${f}: ${theirs.stderr}`);
      assert.equal(ours.code, 0, `dicomnet dump --json ${f}: ${ours.stderr}`);
      const a = JSON.parse(ours.stdout) as { [k: string]: Json };
      const b = JSON.parse(theirs.stdout) as { [k: string]: Json };
      if (b['7FE00010'] !== undefined || referenceFor.has(f))
        assert.ok(a['7FE00010'], `${f}: pixel data missing`);
      delete a['7FE00010'];
      delete b['7FE00010'];
      sameJson(a, b, f);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
});

test('every DCMTK-made file re-encodes byte for byte from what was read (bulk values as file ranges)', {
  skip,
}, async () => {
  for (const f of files) {
    const path = join(dir, f);
    const file = await readPart10(path, { bulkDataThreshold: 16 });
    const original = readFileSync(path).subarray(file.datasetOffset);
    const layout = transferSyntaxLayout(file.transferSyntaxUid);
    const expected = layout.deflated ? inflateRawSync(original) : original;
    const again = Buffer.concat([...datasetChunks(file.dataset, layout)]);
    assert.ok(
      again.equals(expected),
      `${f}: re-encoding differs (${again.length} vs ${expected.length} bytes)`,
    );
  }
});

test('dicomnet dump (text) lists every file without error', { skip }, async () => {
  for (const f of ['nested.dcm', 'image-rle.dcm', 'cs-korean-2022-big.dcm', 'image-bare-implicit.dcm']) {
    const r = await runCli(['dump', join(dir, f)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\(0008,0018\) UI \[/);
  }
});
