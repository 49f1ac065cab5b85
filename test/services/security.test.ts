/**
 * DicomServer security features (issue 5): AE title ↔ certificate identity binding,
 * and hot reload of the TLS credentials (explicit and watched) — running
 * associations keep their link, new ones see the new certificate.
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/log.js';
import { AssociationRejectedError } from '../../src/network/errors.js';
import { connect } from '../../src/services/client.js';
import { checkAeTitleBinding } from '../../src/services/ae-binding.js';
import type { DicomServer, ServerRejection } from '../../src/services/server.js';
import type { PeerCertificateInfo, SecureLinkInfo, TlsOptions } from '../../src/tls/types.js';
import { runCli } from '../helpers/cli.js';
import { hasDcmtk, run } from '../helpers/dcmtk.js';
import {
  clientTls,
  dcmtkTlsEcho,
  dicomnetEcho,
  ECHO_CONTEXTS,
  eventually,
  makeServicePki,
  overwrite,
  type ServicePki,
  scratch,
  startServer,
} from './helpers.js';

const skipDcmtk = hasDcmtk() ? false : 'DCMTK is not installed';

function link(cert?: Partial<PeerCertificateInfo>): SecureLinkInfo {
  return {
    protocol: 'TLSv1.3',
    cipherSuite: 'TLS_AES_256_GCM_SHA384',
    encryption: 'AES-256-GCM',
    integrity: 'AEAD',
    keyExchange: 'ECDHE (X25519)',
    profile: 'bcp195-rfc8996',
    resumed: false,
    peerCertificate: cert
      ? {
          subject: `CN=${cert.commonName}`,
          issuer: 'CN=ca',
          san: [],
          validFrom: new Date(),
          validTo: new Date(),
          fingerprint256: '00',
          serialNumber: '01',
          ...cert,
        }
      : undefined,
  };
}

describe('checkAeTitleBinding', () => {
  const bindings = { MODALITY1: ['MODALITY1'], WS: ['ws.example.org', '10.0.0.7'] };

  test('unbound titles pass unless only bound titles are accepted', () => {
    assert.deepEqual(checkAeTitleBinding(bindings, 'OTHER', undefined), { ok: true });
    const v = checkAeTitleBinding(bindings, 'OTHER', undefined, true);
    assert.equal(v.ok, false);
    assert.match(v.ok ? '' : v.reason, /'OTHER' is not bound/);
  });

  test('a bound title needs TLS, a peer certificate and a matching identity', () => {
    const plain = checkAeTitleBinding(bindings, 'MODALITY1', undefined);
    assert.match(plain.ok ? '' : plain.reason, /came over plain TCP/);
    const noCert = checkAeTitleBinding(bindings, 'MODALITY1', link());
    assert.match(noCert.ok ? '' : noCert.reason, /sent no certificate/);
    const wrong = checkAeTitleBinding(bindings, 'MODALITY1', link({ commonName: 'modality1' }));
    assert.match(wrong.ok ? '' : wrong.reason, /\[MODALITY1\] but the peer certificate is CN=modality1/);
    assert.deepEqual(checkAeTitleBinding(bindings, 'MODALITY1', link({ commonName: 'MODALITY1' })), {
      ok: true,
    });
    const bySan = link({ commonName: 'x', san: ['DNS:WS.example.org'] });
    assert.deepEqual(checkAeTitleBinding(bindings, 'WS', bySan), { ok: true });
    const byIp = link({ commonName: 'x', san: ['IP Address:10.0.0.7'] });
    assert.deepEqual(checkAeTitleBinding(bindings, 'WS', byIp), { ok: true });
  });

  test('inherited object keys are not bindings', () => {
    assert.deepEqual(checkAeTitleBinding(bindings, 'constructor', undefined), { ok: true });
  });
});

describe('AE title ↔ certificate binding on a DicomServer', () => {
  let pki: ServicePki;
  let server: DicomServer;
  let port: number;
  let tlsPort: number;
  const logLines: string[] = [];
  const rejections: ServerRejection[] = [];

  before(async () => {
    pki = await makeServicePki(scratch('bind-pki'), ['MODALITY1', 'OTHER']);
    const logger = createLogger({
      level: 'warn',
      destination: {
        write: (line: string) => {
          logLines.push(line);
        },
      },
    });
    ({ server, port } = await startServer(
      {
        logger,
        tls: { key: pki.server.key, cert: pki.server.cert, ca: [pki.ca] },
        aeTitleBindings: { MODALITY1: ['MODALITY1'], WS: ['modality1.example.org'] },
      },
      { secure: false },
    ));
    tlsPort = (await server.listen({ port: 0, host: '127.0.0.1', secure: true })).port;
    server.on('associationRejected', (r: ServerRejection) => rejections.push(r));
  });

  after(async () => {
    await server?.close();
  });

  async function rejected(p: Promise<unknown>): Promise<AssociationRejectedError> {
    const err = await p.then(
      () => assert.fail('the association should have been rejected'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AssociationRejectedError, String(err));
    assert.deepEqual([err.result, err.source, err.reason], [1, 1, 3]);
    return err;
  }

  test('the bound AE title with the matching certificate (CN) is accepted', async () => {
    await dicomnetEcho(tlsPort, { tls: clientTls(pki, 'MODALITY1'), callingAet: 'MODALITY1' });
  });

  test('a SAN DNS name binds too', async () => {
    await dicomnetEcho(tlsPort, { tls: clientTls(pki, 'MODALITY1'), callingAet: 'WS' });
  });

  test('the bound AE title with another certificate is rejected (reason 3) and the log says why', async () => {
    logLines.length = 0;
    await rejected(dicomnetEcho(tlsPort, { tls: clientTls(pki, 'OTHER'), callingAet: 'MODALITY1' }));
    const last = rejections[rejections.length - 1];
    assert.equal(last?.callingAet, 'MODALITY1');
    assert.match(
      last?.message ?? '',
      /bound to certificate identity \[MODALITY1\] but the peer certificate is CN=OTHER/,
    );
    assert.ok(
      logLines.some((l) => /rejected: calling AE title 'MODALITY1' is bound .* CN=OTHER/.test(l)),
      logLines.join(''),
    );
  });

  test('the bound AE title over plain TCP is rejected (reason 3)', async () => {
    await rejected(dicomnetEcho(port, { callingAet: 'MODALITY1' }));
    assert.match(rejections[rejections.length - 1]?.message ?? '', /came over plain TCP/);
  });

  test('an unbound AE title is accepted on both ports', async () => {
    await dicomnetEcho(port, { callingAet: 'ANYONE' });
    await dicomnetEcho(tlsPort, { tls: clientTls(pki, 'OTHER'), callingAet: 'ANYONE' });
  });

  test('dicomnet echo CLI: the rejection is one line, exit 3', async () => {
    const c = pki.clients.OTHER as { key: string; cert: string };
    const r = await runCli([
      'echo',
      '127.0.0.1',
      String(tlsPort),
      '--aet',
      'MODALITY1',
      '--aec',
      'DICOMNET',
      '--tls',
      '--key',
      c.key,
      '--cert',
      c.cert,
      '--ca',
      pki.ca,
    ]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /calling AE title not recognized \(reason 3\)/);
  });

  test(
    'DCMTK echoscu +tls: bound title with the right certificate passes, with another is rejected',
    {
      skip: skipDcmtk,
    },
    async () => {
      const m = pki.clients.MODALITY1 as { key: string; cert: string };
      const o = pki.clients.OTHER as { key: string; cert: string };
      const args = (c: { key: string; cert: string }) => [
        '+tls',
        c.key,
        c.cert,
        '+cf',
        pki.ca,
        '-aet',
        'MODALITY1',
        '-aec',
        'DICOMNET',
        '127.0.0.1',
        String(tlsPort),
      ];
      const ok = await run('echoscu', args(m));
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      const bad = await run('echoscu', args(o));
      assert.notEqual(bad.code, 0);
      assert.match(bad.stdout + bad.stderr, /Calling AE Title Not Recognized/i);
    },
  );

  test('requireBoundAeTitles: unbound titles are rejected too', async () => {
    const strict = await startServer({
      tls: { key: pki.server.key, cert: pki.server.cert, ca: [pki.ca] },
      aeTitleBindings: { MODALITY1: ['MODALITY1'] },
      requireBoundAeTitles: true,
    });
    try {
      await rejected(dicomnetEcho(strict.port, { tls: clientTls(pki, 'OTHER'), callingAet: 'ANYONE' }));
      await dicomnetEcho(strict.port, { tls: clientTls(pki, 'MODALITY1'), callingAet: 'MODALITY1' });
    } finally {
      await strict.server.close();
    }
  });
});

describe('hot reload of the server credentials', () => {
  let pki: ServicePki;
  let dir: string;
  let tls: TlsOptions;

  before(async () => {
    dir = scratch('reload');
    pki = await makeServicePki(dir, ['GOODSCU']);
    copyFileSync(pki.server.key, join(dir, 'live.key'));
    copyFileSync(pki.server.cert, join(dir, 'live.crt'));
    // no session resumption: a resumed session would not show the server certificate again
    tls = { ...clientTls(pki, 'GOODSCU'), sessionResumption: false };
  });

  async function serverFingerprint(port: number): Promise<string> {
    const assoc = await connect({
      host: '127.0.0.1',
      port,
      calledAet: 'DICOMNET',
      contexts: ECHO_CONTEXTS,
      tls,
    });
    const fp = assoc.secureLink?.peerCertificate?.fingerprint256 ?? '';
    await assoc.echo();
    await assoc.release();
    return fp;
  }

  async function fingerprintOf(cert: string): Promise<string> {
    const { X509Certificate } = await import('node:crypto');
    const { readFileSync } = await import('node:fs');
    return new X509Certificate(readFileSync(cert)).fingerprint256;
  }

  for (const mode of ['reloadCredentials()', 'watchCredentials'] as const) {
    test(`${mode}: new associations get the new certificate, a running one carries on`, async () => {
      copyFileSync(pki.server.key, join(dir, 'live.key'));
      copyFileSync(pki.server.cert, join(dir, 'live.crt'));
      const { server, port } = await startServer(
        {
          tls: { key: join(dir, 'live.key'), cert: join(dir, 'live.crt'), ca: [pki.ca] },
          watchCredentials: mode === 'watchCredentials' ? { debounceMs: 50 } : false,
        },
        { secure: true },
      );
      try {
        const [oldFp, newFp] = await Promise.all([
          fingerprintOf(pki.server.cert),
          fingerprintOf(pki.server2.cert),
        ]);
        const running = await connect({
          host: '127.0.0.1',
          port,
          calledAet: 'DICOMNET',
          contexts: ECHO_CONTEXTS,
          tls,
        });
        assert.equal(running.secureLink?.peerCertificate?.fingerprint256, oldFp);
        await overwrite(join(dir, 'live.key'), pki.server2.key);
        await overwrite(join(dir, 'live.crt'), pki.server2.cert);
        if (mode === 'reloadCredentials()') {
          await server.reloadCredentials();
          assert.equal(await serverFingerprint(port), newFp);
        } else {
          let seen = oldFp;
          const deadline = Date.now() + 5000;
          while (seen !== newFp && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 100));
            seen = await serverFingerprint(port);
          }
          assert.equal(seen, newFp, 'the watcher reloaded the new certificate');
        }
        await running.echo();
        assert.equal(running.secureLink?.peerCertificate?.fingerprint256, oldFp);
        await running.release();
        if (hasDcmtk()) await dcmtkTlsEcho(pki, 'GOODSCU', port);
      } finally {
        await server.close();
      }
    });
  }

  test('a broken new key is refused by reloadCredentials() and the old certificate stays', async () => {
    copyFileSync(pki.server.key, join(dir, 'live.key'));
    copyFileSync(pki.server.cert, join(dir, 'live.crt'));
    const { server, port } = await startServer(
      { tls: { key: join(dir, 'live.key'), cert: join(dir, 'live.crt'), ca: [pki.ca] } },
      { secure: true },
    );
    try {
      await overwrite(join(dir, 'live.key'), pki.server2.key); // key no longer matches the certificate
      await assert.rejects(server.reloadCredentials());
      assert.equal(await serverFingerprint(port), await fingerprintOf(pki.server.cert));
      await eventually(() => server.activeAssociations === 0, 'associations closed');
    } finally {
      await server.close();
    }
  });
});
