import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DicomServer } from '../../src/services/server.js';
import { runCli } from '../helpers/cli.js';
import { type DcmtkServer, freePort, hasDcmtk, run, startDcmtkServer } from '../helpers/dcmtk.js';

const skip = hasDcmtk() ? false : 'DCMTK is not installed';

describe('C-ECHO interop with DCMTK (plain TCP)', { skip }, () => {
  let storescp: DcmtkServer;
  let server: DicomServer;
  let serverPort: number;

  before(async () => {
    const out = mkdtempSync(join(tmpdir(), 'dicomnet-echo-'));
    storescp = await startDcmtkServer('storescp', ['-aet', 'STORESCP', '-od', out]);
    server = new DicomServer({ aet: 'DICOMNET' });
    serverPort = (await server.listen({ port: 0, host: '127.0.0.1' })).port;
  });

  after(async () => {
    await storescp?.stop();
    await server?.close();
  });

  test('dicomnet echo -> storescp', async () => {
    const r = await runCli(['echo', '127.0.0.1', String(storescp.port), '--aec', 'STORESCP']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /C-ECHO DICOMNET -> STORESCP@127\.0\.0\.1:\d+ succeeded/);
  });

  test('echoscu -> dicomnet server', async () => {
    const r = await run('echoscu', ['-aec', 'DICOMNET', '127.0.0.1', String(serverPort)]);
    assert.equal(r.code, 0, r.stderr);
  });

  test('echoscu with an unknown called AE title is rejected (reason 7)', async () => {
    const r = await run('echoscu', ['-aec', 'WRONG', '127.0.0.1', String(serverPort)]);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /Called AE Title Not Recognized/i);
  });

  test('dicomnet echo with a wrong called AE title names the rejection, exit 3', async () => {
    const r = await runCli(['echo', '127.0.0.1', String(serverPort), '--aec', 'WRONG']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /association rejected: called AE title not recognized \(reason 7\)/);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line names the cause');
  });

  test('dicomnet echo to a closed port: connection refused, exit 3', async () => {
    const port = await freePort();
    const r = await runCli(['echo', '127.0.0.1', String(port)]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /connection refused/i);
  });

  test('the server keeps serving after a rejection', async () => {
    const r = await run('echoscu', ['-aec', 'DICOMNET', '127.0.0.1', String(serverPort)]);
    assert.equal(r.code, 0, r.stderr);
  });
});
