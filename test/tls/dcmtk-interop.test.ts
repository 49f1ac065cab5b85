/**
 * TLS-level interop with real DCMTK 3.6.7 peers: our client against `storescp +tls`,
 * `echoscu +tls` against our acceptor, across every profile pairing. Full DICOM over
 * TLS is tested once the upper layer is integrated; here only the handshake counts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SecurityProfileName } from '../../src/tls/types.js';
import { type DcmtkServer, hasDcmtk, run, startDcmtkServer } from '../helpers/dcmtk.js';
import { makeTestPki, TEST_KEY_PASSWORD, type TestPki } from '../helpers/pki.js';
import { connectClient, expectTlsError, startAcceptor, type TestAcceptor } from './peers.js';

const skip = hasDcmtk() ? false : 'DCMTK not installed';

let dir: string;
let pki: TestPki;
const servers: DcmtkServer[] = [];
const acceptors: TestAcceptor[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dicomnet-tls-dcmtk-'));
  pki = await makeTestPki(dir);
});
after(async () => {
  for (const s of servers) await s.stop();
  for (const a of acceptors) await a.close();
  rmSync(dir, { recursive: true, force: true });
});

async function storescp(args: string[]): Promise<DcmtkServer> {
  const s = await startDcmtkServer('storescp', [...args, '-od', dir]);
  servers.push(s);
  return s;
}

async function acceptor(opts: Parameters<typeof startAcceptor>[0]): Promise<TestAcceptor> {
  const a = await startAcceptor(opts);
  acceptors.push(a);
  return a;
}

function echoscu(port: number, args: string[]) {
  return run('echoscu', [...args, '-to', '3', '-ta', '3', 'localhost', String(port)], { timeoutMs: 15_000 });
}

const OURS: SecurityProfileName[] = [
  'bcp195-rfc8996',
  'bcp195-rfc8996-mod',
  'bcp195-nd',
  'bcp195',
  'bcp195-ex',
  'aes',
  'null',
];
const DCMTK_PROFILES = [
  ['+py', 'bcp195-nd'],
  ['+px', 'bcp195'],
  ['+pz', 'bcp195-ex'],
  ['+pa', 'aes'],
  ['+pn', 'null'],
] as const;
type DcmtkProfile = (typeof DCMTK_PROFILES)[number][1];

/**
 * What each pairing negotiates with DCMTK 3.6.7 on this platform (Debian OpenSSL 3.0),
 * measured: `undefined` = no common suite (ERR_TLS_NO_SHARED_CIPHER).
 * DCMTK as server prefers DHE over ECDHE (its strength order), hence DHE with bcp195-ex clients.
 */
const AS_CLIENT: Record<DcmtkProfile, Partial<Record<SecurityProfileName, string>>> = {
  'bcp195-nd': {
    'bcp195-rfc8996': 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    'bcp195-rfc8996-mod': 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    'bcp195-nd': 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    bcp195: 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    'bcp195-ex': 'TLSv1.2 TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
  },
  bcp195: {
    'bcp195-rfc8996': 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    'bcp195-rfc8996-mod': 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    'bcp195-nd': 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    bcp195: 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    'bcp195-ex': 'TLSv1.2 TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
    aes: 'TLSv1.2 TLS_RSA_WITH_AES_128_CBC_SHA',
  },
  'bcp195-ex': {
    'bcp195-rfc8996': 'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
    'bcp195-rfc8996-mod': 'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
    'bcp195-nd': 'TLSv1.2 TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
    bcp195: 'TLSv1.2 TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
    'bcp195-ex': 'TLSv1.2 TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
  },
  aes: {
    bcp195: 'TLSv1.2 TLS_RSA_WITH_AES_128_CBC_SHA',
    aes: 'TLSv1.2 TLS_RSA_WITH_AES_128_CBC_SHA',
  },
  null: { null: 'TLSv1.2 TLS_RSA_WITH_NULL_SHA' },
};

/** Our acceptor (row) with echoscu (column): our server order picks ECDHE. */
const AS_SERVER: Record<DcmtkProfile, Partial<Record<SecurityProfileName, string>>> = {
  'bcp195-nd': {
    'bcp195-rfc8996': 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    'bcp195-rfc8996-mod': 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    'bcp195-nd': 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    bcp195: 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    'bcp195-ex': 'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  },
  bcp195: {
    'bcp195-rfc8996': 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    'bcp195-rfc8996-mod': 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    'bcp195-nd': 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    bcp195: 'TLSv1.3 TLS_AES_256_GCM_SHA384',
    'bcp195-ex': 'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
    aes: 'TLSv1.2 TLS_RSA_WITH_AES_128_CBC_SHA',
  },
  'bcp195-ex': {
    'bcp195-rfc8996': 'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
    'bcp195-rfc8996-mod': 'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
    'bcp195-nd': 'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
    bcp195: 'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
    'bcp195-ex': 'TLSv1.2 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  },
  aes: {
    bcp195: 'TLSv1.2 TLS_RSA_WITH_AES_128_CBC_SHA',
    aes: 'TLSv1.2 TLS_RSA_WITH_AES_128_CBC_SHA',
  },
  null: { null: 'TLSv1.2 TLS_RSA_WITH_NULL_SHA' },
};

const clientCreds = () => ({ key: pki.client.key, cert: pki.client.cert, ca: pki.caCert, host: 'localhost' });
const serverCreds = () => ({ key: pki.server.key, cert: pki.server.cert, ca: pki.caCert });

describe('our client -> DCMTK storescp +tls (mutual authentication)', { skip }, () => {
  for (const [flag, theirs] of DCMTK_PROFILES) {
    test(`storescp ${flag} (${theirs}) against each of our profiles`, async (t) => {
      const scp = await storescp(['+tls', pki.server.key, pki.server.cert, '+cf', pki.caCert, flag]);
      const table: string[] = [];
      for (const ours of OURS) {
        const want = AS_CLIENT[theirs][ours];
        const attempt = connectClient(scp.port, { ...clientCreds(), profile: ours });
        if (want) {
          const { socket, info } = await attempt;
          assert.equal(`${info.protocol} ${info.cipherSuite}`, want, `ours ${ours} vs DCMTK ${theirs}`);
          assert.equal(info.peerCertificate?.commonName, 'localhost');
          socket.destroy();
        } else {
          await expectTlsError(attempt, 'ERR_TLS_NO_SHARED_CIPHER');
        }
        table.push(`${ours}: ${want ?? 'no shared cipher'}`);
      }
      await scp.stop();
      t.diagnostic(`DCMTK ${theirs} server: ${table.join('; ')}`);
    });
  }

  test('encrypted client key: password from a file and from the callback; encrypted server key (+pw)', async () => {
    const serverKey = join(dir, 'server-encrypted.key');
    const { createPrivateKey } = await import('node:crypto');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      serverKey,
      createPrivateKey(readFileSync(pki.server.key)).export({
        type: 'pkcs8',
        format: 'pem',
        cipher: 'aes-256-cbc',
        passphrase: 'server-pw',
      }),
    );
    const scp = await storescp(['+tls', serverKey, pki.server.cert, '+pw', 'server-pw', '+cf', pki.caCert]);
    const fromFile = readFileSync(pki.clientPasswordFile, 'utf8').split(/\r?\n/)[0];
    const a = await connectClient(scp.port, {
      ...clientCreds(),
      key: pki.clientEncryptedKey,
      passphrase: fromFile,
    });
    assert.equal(a.info.protocol, 'TLSv1.3');
    a.socket.destroy();
    const b = await connectClient(scp.port, {
      ...clientCreds(),
      key: pki.clientEncryptedKey,
      onPrivateKeyPassword: async ({ file }) => {
        assert.equal(file, pki.clientEncryptedKey);
        return TEST_KEY_PASSWORD;
      },
    });
    b.socket.destroy();
    await scp.stop();
  });

  test('no client certificate: ERR_TLS_PEER_CERT_REQUIRED; storescp -ic accepts it', async () => {
    const strict = await storescp(['+tls', pki.server.key, pki.server.cert, '+cf', pki.caCert]);
    const err = await expectTlsError(
      connectClient(strict.port, { ca: pki.caCert, host: 'localhost' }),
      'ERR_TLS_PEER_CERT_REQUIRED',
    );
    assert.equal(err.message, 'TLS: server requires a client certificate');
    await strict.stop();
    const lax = await storescp(['+tls', pki.server.key, pki.server.cert, '+cf', pki.caCert, '-ic']);
    const { socket } = await connectClient(lax.port, { ca: pki.caCert, host: 'localhost' });
    socket.destroy();
    await lax.stop();
  });

  test('storescp that does not trust our issuer: ERR_TLS_UNTRUSTED_ISSUER', async () => {
    const scp = await storescp(['+tls', pki.server.key, pki.server.cert, '+cf', pki.untrustedCaCert]);
    const err = await expectTlsError(connectClient(scp.port, clientCreds()), 'ERR_TLS_UNTRUSTED_ISSUER');
    assert.match(err.message, /rejected our certificate/);
    await scp.stop();
  });

  test('TLS to a plain storescp port: ERR_TLS_NOT_TLS', async () => {
    const scp = await storescp([]);
    const err = await expectTlsError(connectClient(scp.port, clientCreds()), 'ERR_TLS_NOT_TLS');
    assert.match(err.message, /does not speak TLS \(is this a plain DICOM port\?\)/);
    await scp.stop();
  });
});

describe('DCMTK echoscu +tls -> our acceptor', { skip }, () => {
  for (const ours of OURS) {
    test(`our ${ours} acceptor against each echoscu profile`, async () => {
      const a = await acceptor({ ...serverCreds(), profile: ours, requirePeerCertificate: true });
      for (const [flag, theirs] of DCMTK_PROFILES) {
        const done = echoscu(a.port, ['+tls', pki.client.key, pki.client.cert, '+cf', pki.caCert, flag]);
        const outcome = await a.nextOutcome();
        const want = AS_SERVER[theirs][ours];
        if (want) {
          assert.ok('ok' in outcome, 'err' in outcome ? `${ours} vs ${theirs}: ${outcome.err.message}` : '');
          const { info, socket } = outcome.ok;
          assert.equal(`${info.protocol} ${info.cipherSuite}`, want, `ours ${ours} vs DCMTK ${theirs}`);
          assert.equal(info.peerCertificate?.commonName, 'client');
          assert.equal(info.peerCertificate?.issuer, 'CN=dicomnet test CA');
          socket.destroy();
        } else {
          assert.ok('err' in outcome);
          assert.equal(outcome.err.code, 'ERR_TLS_NO_SHARED_CIPHER', `${ours} vs ${theirs}`);
        }
        await done;
      }
    });
  }

  test('echoscu with an encrypted key (+pw) and the CRL-revoked / untrusted client certificates', async () => {
    const a = await acceptor({ ...serverCreds(), crl: pki.crl, requirePeerCertificate: true });
    const cases = [
      { args: ['+tls', pki.clientEncryptedKey, pki.client.cert, '+pw', TEST_KEY_PASSWORD], code: undefined },
      { args: ['+tls', pki.revokedClient.key, pki.revokedClient.cert], code: 'ERR_TLS_CERT_REVOKED' },
      { args: ['+tls', pki.untrustedClient.key, pki.untrustedClient.cert], code: 'ERR_TLS_UNTRUSTED_ISSUER' },
      { args: ['+tls', pki.expiredClient.key, pki.expiredClient.cert], code: 'ERR_TLS_CERT_EXPIRED' },
    ];
    for (const c of cases) {
      const done = echoscu(a.port, [...c.args, '+cf', pki.caCert]);
      const outcome = await a.nextOutcome();
      if (c.code === undefined) {
        assert.ok('ok' in outcome, 'err' in outcome ? outcome.err.message : '');
        assert.equal(outcome.ok.info.peerCertificate?.commonName, 'client');
        outcome.ok.socket.destroy();
      } else {
        assert.ok('err' in outcome);
        assert.equal(outcome.err.code, c.code);
      }
      await done;
    }
  });

  test('plain echoscu to the TLS port: ERR_TLS_PLAINTEXT_ON_TLS_PORT', async () => {
    const a = await acceptor(serverCreds());
    const done = echoscu(a.port, []);
    const outcome = await a.nextOutcome();
    assert.ok('err' in outcome);
    assert.equal(outcome.err.code, 'ERR_TLS_PLAINTEXT_ON_TLS_PORT');
    assert.match(outcome.err.message, /from 127\.0\.0\.1:\d+$/);
    const result = await done;
    assert.notEqual(result.code, 0);
  });
});
