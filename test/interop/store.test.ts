import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Status } from '../../src/dimse/index.js';
import { DicomServer } from '../../src/services/server.js';
import { runCli } from '../helpers/cli.js';
import { type DcmtkServer, hasDcmtk, run, startDcmtkServer } from '../helpers/dcmtk.js';
import { makeInstance, makeStudy } from '../helpers/samples.js';

const skip = hasDcmtk() ? false : 'DCMTK is not installed';

/** The data set as DCMTK sees it (dcm2json leaves out the meta header). */
async function json(file: string): Promise<unknown> {
  const r = await run('dcm2json', [file]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function filesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .map((f) => join(dir, f))
    .sort();
}

describe('C-STORE interop with DCMTK (plain TCP)', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-store-'));
  const received = join(work, 'received');
  let server: DicomServer;
  let serverPort: number;
  const peers: DcmtkServer[] = [];

  before(async () => {
    mkdirSync(received, { recursive: true });
    server = new DicomServer({
      aet: 'DICOMNET',
      maxPduLength: 1 << 20,
      maxOperations: 8,
      tempDir: join(work, 'incoming'),
      handlers: {
        store: ({ file, sopInstanceUid }) => {
          renameSync(file, join(received, `${sopInstanceUid}.dcm`));
          return Status.Success;
        },
      },
    });
    serverPort = (await server.listen({ port: 0, host: '127.0.0.1' })).port;
  });

  after(async () => {
    for (const p of peers) await p.stop();
    await server?.close();
  });

  test('dicomnet store -> storescp: every transfer syntax arrives with identical data sets', async () => {
    const src = join(work, 'src-ts');
    const files = (['explicit', 'implicit', 'big', 'deflated'] as const).map(
      (ts, i) => makeInstance(src, { transferSyntax: ts, instanceNumber: i + 1 }).path,
    );
    const out = join(work, 'storescp-ts');
    mkdirSync(out);
    const storescp = await startDcmtkServer('storescp', ['-aet', 'STORESCP', '+xa', '-od', out]);
    peers.push(storescp);
    const r = await runCli(['store', '127.0.0.1', String(storescp.port), '--aec', 'STORESCP', src]);
    assert.equal(r.code, 0, r.stderr);
    const got = filesIn(out);
    assert.equal(got.length, files.length);
    const sent = new Map<string, unknown>();
    for (const f of files) {
      const j = (await json(f)) as Record<string, { Value?: string[] }>;
      sent.set(j['00080018']?.Value?.[0] as string, j);
    }
    for (const f of got) {
      const j = (await json(f)) as Record<string, { Value?: string[] }>;
      assert.deepEqual(j, sent.get(j['00080018']?.Value?.[0] as string));
    }
  });

  test('dicomnet store with max PDU 1 MiB -> storescp --max-pdu 4096', async () => {
    const src = join(work, 'src-pdu');
    const files = makeStudy(src, 3, { pixelBytes: 300_000 });
    const out = join(work, 'storescp-pdu');
    mkdirSync(out);
    const storescp = await startDcmtkServer('storescp', [
      '-aet',
      'STORESCP',
      '--max-pdu',
      '4096',
      '-od',
      out,
    ]);
    peers.push(storescp);
    const r = await runCli([
      'store',
      '127.0.0.1',
      String(storescp.port),
      '--aec',
      'STORESCP',
      '--max-pdu',
      '1048576',
      src,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(filesIn(out).length, files.length);
  });

  test('storescu --max-pdu 4096 -> dicomnet server (max PDU 1 MiB): received data sets equal the sent ones', async () => {
    const src = join(work, 'src-scu');
    const files = makeStudy(src, 4, { pixelBytes: 100_000 });
    const r = await run('storescu', [
      '--max-pdu',
      '4096',
      '-aec',
      'DICOMNET',
      '127.0.0.1',
      String(serverPort),
      ...files.map((f) => f.path),
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const f of files) {
      assert.deepEqual(await json(join(received, `${f.sopInstanceUid}.dcm`)), await json(f.path));
    }
  });

  test('storescu +sd (a directory) -> dicomnet server', async () => {
    const src = join(work, 'src-dir');
    const files = makeStudy(src, 10, { pixelBytes: 20_000 });
    const r = await run('storescu', ['-aec', 'DICOMNET', '+sd', '127.0.0.1', String(serverPort), src]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const f of files)
      assert.deepEqual(await json(join(received, `${f.sopInstanceUid}.dcm`)), await json(f.path));
  });

  test('dicomnet store --async-ops 8 -> dicomnet server (asynchronous operations window)', async () => {
    const src = join(work, 'src-async');
    const files = makeStudy(src, 20, { pixelBytes: 10_000 });
    const r = await runCli([
      'store',
      '127.0.0.1',
      String(serverPort),
      '--aec',
      'DICOMNET',
      '--async-ops',
      '8',
      src,
    ]);
    assert.equal(r.code, 0, r.stderr);
    for (const f of files)
      assert.deepEqual(await json(join(received, `${f.sopInstanceUid}.dcm`)), await json(f.path));
  });

  test('no common transfer syntax: a JPEG file to a storescp that accepts only uncompressed fails with the cause, exit 1', async () => {
    const src = join(work, 'src-jpeg');
    const plain = makeInstance(join(work, 'src-jpeg-plain'), { pixelBytes: 8192 });
    mkdirSync(src);
    const jpeg = join(src, 'jpeg.dcm');
    const c = await run('dcmcjpeg', [plain.path, jpeg]);
    assert.equal(c.code, 0, c.stderr);
    const out = join(work, 'storescp-jpeg');
    mkdirSync(out);
    const storescp = await startDcmtkServer('storescp', ['-aet', 'STORESCP', '-od', out]);
    peers.push(storescp);
    const r = await runCli(['store', '127.0.0.1', String(storescp.port), '--aec', 'STORESCP', jpeg]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /does not decompress|no accepted presentation context/);
    assert.equal(filesIn(out).length, 0);
  });

  test('a file that is not DICOM is a usage error (exit 2)', async () => {
    const r = await runCli([
      'store',
      '127.0.0.1',
      String(serverPort),
      '--aec',
      'DICOMNET',
      join(import.meta.dirname, 'store.test.js'),
    ]);
    assert.equal(r.code, 2, r.stderr);
  });
});
