import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect } from '../../src/services/client.js';
import { DicomServer } from '../../src/services/server.js';
import { SopClass } from '../../src/services/sop-classes.js';
import { clearTlsSessionCache } from '../../src/tls/client.js';
import type { TlsOptions } from '../../src/tls/types.js';
import { makeTestPki, TEST_KEY_PASSWORD, type TestPki } from '../helpers/pki.js';

describe('a client TLS configuration is loaded once', () => {
  let dir: string;
  let pki: TestPki;
  let server: DicomServer;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dicomnet-tls-client-context-'));
    pki = await makeTestPki(dir);
    server = new DicomServer({
      aet: 'DICOMNET',
      acceptAnyCalledAet: true,
      tls: {
        key: pki.server.key,
        cert: pki.server.cert,
        ca: [pki.caCert],
        requirePeerCertificate: true,
      },
    });
    port = (await server.listen({ port: 0, host: '127.0.0.1' })).port;
  });

  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function echo(tls: TlsOptions): Promise<boolean> {
    const assoc = await connect({
      host: '127.0.0.1',
      port,
      calledAet: 'DICOMNET',
      contexts: [{ abstractSyntax: SopClass.Verification, transferSyntaxes: ['1.2.840.10008.1.2'] }],
      tls,
    });
    await assoc.echo();
    await assoc.release();
    return assoc.secureLink?.resumed ?? false;
  }

  test('repeated associations ask for the key password once and still resume sessions', async () => {
    clearTlsSessionCache();
    let asked = 0;
    const tls: TlsOptions = {
      key: pki.clientEncryptedKey,
      cert: pki.client.cert,
      ca: [pki.caCert],
      onPrivateKeyPassword: async () => {
        asked++;
        return TEST_KEY_PASSWORD;
      },
    };
    const resumed = [];
    for (let i = 0; i < 4; i++) resumed.push(await echo(tls));
    assert.equal(asked, 1, 'the password callback runs once per configuration');
    assert.equal(resumed[0], false);
    assert.deepEqual(resumed.slice(1), [true, true, true]);
  });

  test('a failed load is not kept: a corrected configuration object works on retry', async () => {
    clearTlsSessionCache();
    let answer = 'wrong';
    let asked = 0;
    const tls: TlsOptions = {
      key: pki.clientEncryptedKey,
      cert: pki.client.cert,
      ca: [pki.caCert],
      onPrivateKeyPassword: () => {
        asked++;
        return answer;
      },
    };
    await assert.rejects(echo(tls), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_TLS_KEY_PASSWORD', err.message);
      return true;
    });
    answer = TEST_KEY_PASSWORD;
    await echo(tls);
    await echo(tls);
    assert.equal(asked, 2);
  });

  test('clearTlsSessionCache() forgets loaded configurations', async () => {
    clearTlsSessionCache();
    let asked = 0;
    const tls: TlsOptions = {
      key: pki.clientEncryptedKey,
      cert: pki.client.cert,
      ca: [pki.caCert],
      onPrivateKeyPassword: () => {
        asked++;
        return TEST_KEY_PASSWORD;
      },
    };
    await echo(tls);
    clearTlsSessionCache();
    assert.equal(await echo(tls), false);
    assert.equal(asked, 2);
  });
});
