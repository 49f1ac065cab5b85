// The client learns why an acceptor refused its certificate: a TLS alert, not just a closed socket.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { hasDcmtk, run } from '../helpers/dcmtk.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { makeInstance } from '../helpers/samples.js';
import { connectClient, expectTlsError, startAcceptor, type TestAcceptor } from './peers.js';

let dir: string;
let pki: TestPki;
let a: TestAcceptor;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dicomnet-tls-alerts-'));
  pki = await makeTestPki(dir);
  a = await startAcceptor({
    key: pki.server.key,
    cert: pki.server.cert,
    ca: pki.caCert,
    crl: pki.crl,
    requirePeerCertificate: true,
  });
});
after(async () => {
  await a?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The error a plain Node TLS client gets (the alert OpenSSL read), or 'connected'. */
function nodeClientOutcome(version: 'TLSv1.2' | 'TLSv1.3', pair?: { key: string; cert: string }) {
  return new Promise<string>((resolve) => {
    const s = tlsConnect({
      port: a.port,
      host: '127.0.0.1',
      servername: 'localhost',
      ca: readPem(pki.caCert),
      ...(pair ? { key: readPem(pair.key), cert: readPem(pair.cert) } : {}),
      minVersion: version,
      maxVersion: version,
    });
    s.on('error', (err: Error & { code?: string }) => resolve(err.code ?? err.message));
    // TLS 1.2: the client's handshake ends only with the server's Finished, which a refusal never sends
    s.on('secureConnect', () => (version === 'TLSv1.2' ? resolve('connected') : undefined));
    s.on('close', () => resolve('closed'));
  });
}

function readPem(path: string): string {
  return readFileSync(path, 'utf8');
}

describe('TLS 1.2: a refused client certificate gets the matching alert', () => {
  const cases = [
    { name: 'untrusted issuer', pair: () => pki.untrustedClient, alert: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' },
    {
      name: 'revoked (CRL)',
      pair: () => pki.revokedClient,
      alert: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
    },
    {
      name: 'expired',
      pair: () => pki.expiredClient,
      alert: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
    },
  ];
  for (const c of cases) {
    test(`${c.name}: OpenSSL on the client reads ${c.alert}`, async () => {
      assert.equal(await nodeClientOutcome('TLSv1.2', c.pair()), c.alert);
      const outcome = await a.nextOutcome();
      assert.ok('err' in outcome);
    });
  }

  test('no certificate: OpenSSL refuses the handshake with handshake_failure', async () => {
    assert.equal(await nodeClientOutcome('TLSv1.2'), 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
    const outcome = await a.nextOutcome();
    assert.ok('err' in outcome);
    assert.equal(outcome.err.code, 'ERR_TLS_PEER_CERT_REQUIRED');
  });

  test('the dicomnet client names the cause (bcp195-ex: TLS 1.2)', async () => {
    const opts = { ca: pki.caCert, profile: 'bcp195-ex' as const };
    const untrusted = await expectTlsError(
      connectClient(a.port, { ...opts, ...pki.untrustedClient }),
      'ERR_TLS_UNTRUSTED_ISSUER',
    );
    assert.match(untrusted.message, /rejected our certificate .*unknown ca/);
    await a.nextOutcome();
    await expectTlsError(connectClient(a.port, { ...opts, ...pki.revokedClient }), 'ERR_TLS_CERT_REVOKED');
    await a.nextOutcome();
    await expectTlsError(connectClient(a.port, { ...opts, ...pki.expiredClient }), 'ERR_TLS_CERT_EXPIRED');
    await a.nextOutcome();
    // and a good client is still served
    const { socket } = await connectClient(a.port, { ...opts, ...pki.client });
    const outcome = await a.nextOutcome();
    assert.ok('ok' in outcome, 'err' in outcome ? outcome.err.message : '');
    socket.destroy();
  });
});

describe('TLS 1.3: a missing certificate is refused by OpenSSL with certificate_required', () => {
  test('plain Node client reads the alert', async () => {
    assert.equal(await nodeClientOutcome('TLSv1.3'), 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    const outcome = await a.nextOutcome();
    assert.ok('err' in outcome);
    assert.equal(outcome.err.code, 'ERR_TLS_PEER_CERT_REQUIRED');
  });

  test('the dicomnet client gets ERR_TLS_PEER_CERT_REQUIRED from the alert', async () => {
    const err = await expectTlsError(connectClient(a.port, { ca: pki.caCert }), 'ERR_TLS_PEER_CERT_REQUIRED');
    assert.match(err.message, /server requires a client certificate/);
    await a.nextOutcome();
  });
});

describe(
  'DCMTK 3.6.7 clients read the alert',
  { skip: hasDcmtk() ? false : 'DCMTK is not installed' },
  () => {
    // 3.6.7's default profile negotiates TLS 1.3, where no alert can follow a completed handshake:
    // --profile-bcp195-ex (TLS 1.2) shows the named alerts
    const cases = [
      {
        tool: 'echoscu',
        name: 'untrusted issuer',
        pair: () => pki.untrustedClient,
        alert: /alert unknown ca/,
      },
      {
        tool: 'storescu',
        name: 'revoked',
        pair: () => pki.revokedClient,
        alert: /alert certificate revoked/,
      },
      { tool: 'echoscu', name: 'expired', pair: () => pki.expiredClient, alert: /alert certificate expired/ },
    ];
    for (const c of cases) {
      test(`${c.tool} +tls --profile-bcp195-ex, ${c.name}: ${c.alert.source}`, async () => {
        const pair = c.pair();
        const r = await run(c.tool, [
          '--profile-bcp195-ex',
          '+tls',
          pair.key,
          pair.cert,
          '+cf',
          pki.caCert,
          '127.0.0.1',
          String(a.port),
          ...(c.tool === 'storescu' ? [makeInstance(join(dir, 'instances'), { pixelBytes: 64 }).path] : []),
        ]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr + r.stdout, c.alert);
        const outcome = await a.nextOutcome();
        assert.ok('err' in outcome);
      });
    }
  },
);
