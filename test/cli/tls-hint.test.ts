import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { type DcmtkServer, hasDcmtk, startDcmtkServer } from '../helpers/dcmtk.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';

const skip = hasDcmtk() ? false : 'DCMTK is not installed';

describe('a plain client on a TLS port is told so (item 5)', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-tls-hint-'));
  let pki: TestPki;
  let storescp: DcmtkServer;

  before(async () => {
    pki = await makeTestPki(mkdtempSync(join(work, 'pki-')));
    storescp = await startDcmtkServer('storescp', [
      ...['+tls', pki.server.key, pki.server.cert, '+cf', pki.caCert, '-od', work],
    ]);
  });
  after(async () => {
    await storescp?.stop();
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
});
