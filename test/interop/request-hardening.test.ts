/**
 * Requests that used to hurt `dicomnet serve` (issue 16), sent by real peers: an exponential
 * worklist wildcard (findscu -W), wildcards in retrieve keys (getscu, movescu), a worklist item
 * whose BulkDataURI names the node's private key, and TLS 1.2 renegotiation (openssl s_client).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect } from '../../src/services/client.js';
import { cliEntry } from '../helpers/cli.js';
import { type DcmtkServer, dcmtkEnv, freePort, hasDcmtk, run, startDcmtkServer } from '../helpers/dcmtk.js';
import { makeStudy } from '../helpers/samples.js';
import { type ServeProcess, startServe } from './node-helpers.js';

const skip = hasDcmtk() ? false : 'DCMTK is not installed';

/** The longest LO key (64 characters) made of `*?` ending in a character no value holds. */
const WORST_LO = `${'*?'.repeat(32).slice(0, 63)}#`;

function worklistItems(n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => ({
    '00080050': { vr: 'SH', Value: [`ACC${i}`] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: `Patient^Number${i}^Middle^Title` }] },
    '00100020': { vr: 'LO', Value: [`W${String(i).padStart(7, '0')}-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345`] },
    '00400100': {
      vr: 'SQ',
      Value: [{ '00080060': { vr: 'CS', Value: ['CT'] }, '00400001': { vr: 'AE', Value: ['CT1'] } }],
    },
  }));
}

describe('dicomnet serve refuses requests that would hurt it (issue 16)', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-hardening-'));
  const pki = join(work, 'data', 'pki');
  const received = join(work, 'received');
  let serve: ServeProcess;
  let storescp: DcmtkServer;
  let port: number;
  let tlsPort: number;
  let patientId: string;

  before(async () => {
    mkdirSync(received);
    const worklist = join(work, 'worklist');
    mkdirSync(worklist);
    writeFileSync(join(worklist, 'items.json'), JSON.stringify(worklistItems(10_000)));
    storescp = await startDcmtkServer('storescp', ['-aet', 'MOVESCU', '-od', received]);
    const peer = { host: '127.0.0.1', port: storescp.port };
    // the calling AEs are configured peers, so access control lets them find, get and move
    writeFileSync(
      join(work, 'node.json'),
      JSON.stringify({ peers: { WLSCU: peer, GETSCU: peer, MOVESCU: peer, ECHOSCU: peer } }),
    );
    port = await freePort();
    tlsPort = await freePort();
    serve = await startServe(
      [
        '--storage',
        join(work, 'storage'),
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--tls-port',
        String(tlsPort),
        '--worklist',
        worklist,
        '--config',
        join(work, 'node.json'),
      ],
      { cwd: work, waitPort: tlsPort, timeoutMs: 60_000 },
    );
    const study = makeStudy(join(work, 'study'), 3, { pixelBytes: 256, patientId: 'PAT16' });
    patientId = 'PAT16';
    const stored = await run('storescu', [
      '-aec',
      'DICOMNET',
      '127.0.0.1',
      String(port),
      ...study.map((s) => s.path),
    ]);
    assert.equal(stored.code, 0, stored.stdout + stored.stderr);
  });

  after(async () => {
    await serve?.stop('SIGKILL');
    await storescp?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test(
    'findscu -W: the longest *?…# key against 10 000 items answers at once; an echo meanwhile answers quickly',
    { timeout: 180_000 },
    async () => {
      const assoc = await connect({ host: '127.0.0.1', port, callingAet: 'ECHOSCU', calledAet: 'DICOMNET' });
      const started = performance.now();
      const find = run(
        'findscu',
        [
          '-W',
          '-aet',
          'WLSCU',
          '-aec',
          'DICOMNET',
          '-k',
          `PatientID=${WORST_LO}`,
          '-k',
          'PatientName',
          '127.0.0.1',
          String(port),
        ],
        { timeoutMs: 120_000 },
      );
      let done = false;
      void find.finally(() => {
        done = true;
      });
      let slowestEcho = 0;
      let echoes = 0;
      while (!done) {
        const t = performance.now();
        await assoc.echo();
        slowestEcho = Math.max(slowestEcho, performance.now() - t);
        echoes++;
      }
      const r = await find;
      const elapsed = performance.now() - started;
      await assoc.release();
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /Pending/);
      // generous bounds for a loaded machine: the backtracking regex needed years for this key
      assert.ok(elapsed < 20_000, `findscu took ${elapsed.toFixed(0)} ms`);
      assert.ok(
        slowestEcho < 1000,
        `an echo during the find took ${slowestEcho.toFixed(0)} ms (${echoes} echoes)`,
      );
    },
  );

  test('a key longer than its VR allows answers 0xC000 naming the key, not its value', async () => {
    const value = 'Q'.repeat(65);
    const r = await run('findscu', [
      '-W',
      '-d',
      '-aet',
      'WLSCU',
      '-aec',
      'DICOMNET',
      '-k',
      `PatientID=${value}`,
      '127.0.0.1',
      String(port),
    ]);
    const out = r.stdout + r.stderr;
    assert.doesNotMatch(out, /Pending/);
    assert.match(out, /UnableToProcess|0xc000/i, out);
    assert.match(
      out,
      /\(0000,0902\) LO \[query key PatientID \(LO\)/,
      `the Error Comment names the key: ${out}`,
    );
    const logged = serve.stderr();
    assert.match(logged, /query key PatientID \(LO\): a value of 65 characters/);
    assert.doesNotMatch(logged, new RegExp(value), 'the value (PHI) is never logged');
  });

  test('getscu and movescu with a wildcard in a retrieve key get 0xA900 with an Error Comment; nothing is sent', async () => {
    const getDir = join(work, 'get');
    mkdirSync(getDir);
    for (const pid of ['*?', 'PAT*', 'PAT1?']) {
      const get = await run('getscu', [
        '-d',
        '-aet',
        'GETSCU',
        '-aec',
        'DICOMNET',
        '-od',
        getDir,
        '-k',
        'QueryRetrieveLevel=PATIENT',
        '-k',
        `PatientID=${pid}`,
        '127.0.0.1',
        String(port),
      ]);
      const out = get.stdout + get.stderr;
      assert.match(out, /DataSetDoesNotMatchSOPClass|0xa900/i, out);
      assert.match(
        out,
        /\(0000,0902\) LO \[retrieve key PatientID: wildcards are not allowed/,
        `the Error Comment says why: ${out}`,
      );
      const move = await run('movescu', [
        '-v',
        '-aet',
        'MOVESCU',
        '-aec',
        'DICOMNET',
        '-aem',
        'MOVESCU',
        '-k',
        'QueryRetrieveLevel=PATIENT',
        '-k',
        `PatientID=${pid}`,
        '127.0.0.1',
        String(port),
      ]);
      const moved = move.stdout + move.stderr;
      assert.match(moved, /DataSetDoesNotMatchSOPClass|0xa900/i, moved);
    }
    assert.deepEqual(readdirSync(getDir), [], 'C-GET sent nothing');
    assert.deepEqual(readdirSync(received), [], 'C-MOVE sent nothing');
    // the exact Patient ID still retrieves
    const get = await run('getscu', [
      '-aet',
      'GETSCU',
      '-aec',
      'DICOMNET',
      '-od',
      getDir,
      '-k',
      'QueryRetrieveLevel=PATIENT',
      '-k',
      `PatientID=${patientId}`,
      '127.0.0.1',
      String(port),
    ]);
    assert.equal(get.code, 0, get.stdout + get.stderr);
    assert.equal(readdirSync(getDir).length, 3);
  });

  test('openssl s_client -tls1_2: a renegotiation (R) is refused and the node keeps serving TLS', async () => {
    const tlsArgs = [
      's_client',
      '-tls1_2',
      '-connect',
      `127.0.0.1:${tlsPort}`,
      '-cert',
      join(pki, 'client.crt'),
      '-key',
      join(pki, 'client.key'),
      '-CAfile',
      join(pki, 'ca.crt'),
    ];
    // s_client reads its commands from stdin: R asks for a renegotiation; keep stdin open a moment
    const child = spawn('openssl', tlsArgs, { env: dcmtkEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!out.includes('Verify return code') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.match(out, /Verify return code: 0 \(ok\)/, out);
    child.stdin.write('R\n');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    // the node refuses the renegotiation and the connection ends: s_client exits by itself
    await exited;
    clearTimeout(timer);
    assert.match(out, /RENEGOTIATING/);
    assert.match(out, /no renegotiation|alert|errno/i, out);
    // and the node still answers TLS handshakes and plain echoes
    const again = await run('openssl', [...tlsArgs], { input: '', timeoutMs: 30_000 });
    assert.match(again.stdout + again.stderr, /Verify return code: 0 \(ok\)/);
    const echo = await run('echoscu', ['-aet', 'ECHOSCU', '-aec', 'DICOMNET', '127.0.0.1', String(port)]);
    assert.equal(echo.code, 0, echo.stdout + echo.stderr);
  });

  test('a worklist item whose BulkDataURI names the private key stops the start, naming the file', async () => {
    const dir = join(work, 'leaky-worklist');
    mkdirSync(dir);
    const uri = `file://${join(pki, 'server.key')}?offset=0&length=1704`;
    writeFileSync(
      join(dir, 'leak.json'),
      JSON.stringify({ '00100020': { vr: 'LO', Value: ['X'] }, '00420011': { vr: 'OB', BulkDataURI: uri } }),
    );
    const r = await run(
      process.execPath,
      [
        cliEntry,
        'serve',
        '--storage',
        join(work, 'storage2'),
        '--host',
        '127.0.0.1',
        '--port',
        String(await freePort()),
        '--tls-port',
        'off',
        '--worklist',
        dir,
      ],
      { cwd: work, timeoutMs: 60_000 },
    );
    assert.notEqual(r.code, 0);
    const out = r.stdout + r.stderr;
    assert.match(out, /leak\.json/);
    assert.match(out, /00420011 has a BulkDataURI/);
    assert.doesNotMatch(out, /PRIVATE KEY/);
  });
});
