import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DicomServer } from '../../src/services/server.js';
import { runCli } from '../helpers/cli.js';
import { type DcmtkServer, hasDcmtk, run, startDcmtkServer } from '../helpers/dcmtk.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';

const skip = hasDcmtk() ? false : 'DCMTK is not installed';

describe('a plain client on a TLS port is told so (item 5)', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-tls-hint-'));
  let pki: TestPki;
  let storescp: DcmtkServer;
  let server: DicomServer;
  let nodePort: number;

  before(async () => {
    pki = await makeTestPki(mkdtempSync(join(work, 'pki-')));
    storescp = await startDcmtkServer('storescp', [
      ...['+tls', pki.server.key, pki.server.cert, '+cf', pki.caCert, '-od', work],
    ]);
    server = new DicomServer({
      aet: 'DICOMNET',
      acceptAnyCalledAet: true,
      tls: { key: pki.server.key, cert: pki.server.cert, ca: [pki.caCert] },
    });
    nodePort = (await server.listen({ port: 0, host: '127.0.0.1' })).port;
  });
  after(async () => {
    await storescp?.stop();
    await server?.close();
  });

  test('dicomnet echo without --tls to storescp +tls: the error says the port may expect TLS', async () => {
    const r = await runCli(['echo', '127.0.0.1', String(storescp.port)]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      /^dicomnet: .* right after our A-ASSOCIATE-RQ: the port may expect TLS \(try --tls/m,
    );
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
  });

  test('a plaintext A-ASSOCIATE-RQ on our TLS port is answered with a plaintext A-ASSOCIATE-RJ: echoscu sees a rejection, dicomnet echo a hint', async () => {
    const dcmtk = await run('echoscu', ['-aec', 'DICOMNET', '127.0.0.1', String(nodePort)]);
    assert.notEqual(dcmtk.code, 0);
    assert.match(dcmtk.stdout + dcmtk.stderr, /Association Rejected/i);
    const ours = await runCli(['echo', '127.0.0.1', String(nodePort)]);
    assert.equal(ours.code, 3, ours.stderr);
    assert.match(ours.stderr, /^dicomnet: association rejected: .*; if this is a TLS port, try --tls/m);
    // the node still serves TLS
    const tls = await runCli(['echo', '--ca', pki.caCert, '127.0.0.1', String(nodePort)]);
    assert.equal(tls.code, 0, tls.stderr);
  });
});
