import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { secureClientConnect } from '../../src/tls/client.js';
import { TlsError } from '../../src/tls/errors.js';
import { isSuiteAvailable } from '../../src/tls/profiles.js';
import type { SecurityProfileName } from '../../src/tls/types.js';
import { makeTestPki, TEST_KEY_PASSWORD, type TestPki } from '../helpers/pki.js';
import {
  connectClient,
  expectTlsError,
  roundTrip,
  startAcceptor,
  type TestAcceptor,
  tcpConnect,
} from './peers.js';

let dir: string;
let pki: TestPki;
const open: TestAcceptor[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dicomnet-tls-hs-'));
  pki = await makeTestPki(dir);
});
after(async () => {
  for (const a of open) await a.close();
  rmSync(dir, { recursive: true, force: true });
});

async function acceptor(
  opts: Parameters<typeof startAcceptor>[0],
  timeoutMs?: number,
): Promise<TestAcceptor> {
  const a = await startAcceptor(opts, timeoutMs);
  open.push(a);
  return a;
}

function serverOpts(profile?: SecurityProfileName) {
  return { key: pki.server.key, cert: pki.server.cert, ca: pki.caCert, profile };
}
function clientOpts(profile?: SecurityProfileName) {
  return { key: pki.client.key, cert: pki.client.cert, ca: pki.caCert, profile };
}

describe('SecureLinkInfo per profile (Node client <-> acceptor on 127.0.0.1)', () => {
  const cases: {
    profile: SecurityProfileName;
    server?: 'rsa' | 'ec';
    protocol: string;
    cipherSuite: string;
    encryption: string;
    integrity: string;
    keyExchange: RegExp;
  }[] = [
    {
      profile: 'bcp195-rfc8996',
      protocol: 'TLSv1.3',
      cipherSuite: 'TLS_AES_256_GCM_SHA384',
      encryption: 'AES-256-GCM',
      integrity: 'AEAD',
      keyExchange: /^ECDHE \(X25519\)$/,
    },
    {
      profile: 'bcp195-rfc8996-mod',
      server: 'ec',
      protocol: 'TLSv1.3',
      cipherSuite: 'TLS_AES_256_GCM_SHA384',
      encryption: 'AES-256-GCM',
      integrity: 'AEAD',
      keyExchange: /^ECDHE/,
    },
    {
      profile: 'bcp195-nd',
      protocol: 'TLSv1.3',
      cipherSuite: 'TLS_AES_256_GCM_SHA384',
      encryption: 'AES-256-GCM',
      integrity: 'AEAD',
      keyExchange: /^ECDHE/,
    },
    {
      profile: 'bcp195',
      protocol: 'TLSv1.3',
      cipherSuite: 'TLS_AES_256_GCM_SHA384',
      encryption: 'AES-256-GCM',
      integrity: 'AEAD',
      keyExchange: /^ECDHE/,
    },
    {
      profile: 'bcp195-ex',
      protocol: 'TLSv1.2',
      cipherSuite: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
      encryption: 'AES-256-GCM',
      integrity: 'AEAD',
      keyExchange: /^ECDHE$/,
    },
    {
      profile: 'bcp195-ex',
      server: 'ec',
      protocol: 'TLSv1.2',
      cipherSuite: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
      encryption: 'AES-256-GCM',
      integrity: 'AEAD',
      keyExchange: /^ECDHE$/,
    },
    {
      profile: 'aes',
      protocol: 'TLSv1.2',
      cipherSuite: 'TLS_RSA_WITH_AES_128_CBC_SHA',
      encryption: 'AES-128-CBC',
      integrity: 'SHA1',
      keyExchange: /^RSA$/,
    },
    {
      profile: 'null',
      protocol: 'TLSv1.2',
      cipherSuite: 'TLS_RSA_WITH_NULL_SHA',
      encryption: 'NULL',
      integrity: 'SHA1',
      keyExchange: /^RSA$/,
    },
  ];
  for (const c of cases) {
    test(`${c.profile}${c.server === 'ec' ? ' (ECDSA server)' : ''}: ${c.protocol} ${c.cipherSuite}`, async () => {
      const server = c.server === 'ec' ? pki.ecServer : pki.server;
      const a = await acceptor({
        ...serverOpts(c.profile),
        key: server.key,
        cert: server.cert,
        requirePeerCertificate: true,
      });
      const { socket, info } = await connectClient(a.port, clientOpts(c.profile));
      const outcome = await a.nextOutcome();
      assert.ok('ok' in outcome, 'err' in outcome ? outcome.err.message : '');
      for (const side of [info, outcome.ok.info]) {
        assert.equal(side.protocol, c.protocol);
        assert.equal(side.cipherSuite, c.cipherSuite);
        assert.equal(side.encryption, c.encryption);
        assert.equal(side.integrity, c.integrity);
        assert.equal(side.profile, c.profile);
        assert.equal(side.resumed, false);
      }
      assert.match(info.keyExchange, c.keyExchange);
      assert.equal(info.peerCertificate?.commonName, 'localhost');
      assert.deepEqual(info.peerCertificate?.san, ['DNS:localhost', 'IP Address:127.0.0.1']);
      assert.equal(
        info.peerCertificate?.fingerprint256,
        new X509Certificate(readFileSync(server.cert)).fingerprint256,
      );
      assert.ok(info.peerCertificate?.validTo instanceof Date);
      assert.equal(outcome.ok.info.peerCertificate?.commonName, 'client');
      assert.equal(await roundTrip(socket, 'ping'), 'ping');
      socket.destroy();
    });
  }

  test(
    'basic: ERR_TLS_PROFILE_UNAVAILABLE when this OpenSSL has no 3DES',
    {
      skip: isSuiteAvailable('DES-CBC3-SHA'),
    },
    async () => {
      const err = await expectTlsError(startAcceptor(serverOpts('basic')), 'ERR_TLS_PROFILE_UNAVAILABLE');
      assert.match(
        err.message,
        /^TLS profile 'basic' needs TLS_RSA_WITH_3DES_EDE_CBC_SHA, which this OpenSSL \(3\.[\d.]+\) does not provide$/,
      );
      const socket = await tcpConnect((await acceptor(serverOpts())).port);
      await expectTlsError(
        secureClientConnect(socket, { ...clientOpts('basic'), host: '127.0.0.1' }),
        'ERR_TLS_PROFILE_UNAVAILABLE',
      );
      assert.ok(socket.destroyed);
    },
  );

  test('a TLS 1.2-only client against the default acceptor negotiates ECDHE-RSA AES-256-GCM', async () => {
    const a = await acceptor(serverOpts());
    const { socket, info } = await connectClient(a.port, clientOpts('bcp195-ex'));
    assert.equal(info.protocol, 'TLSv1.2');
    assert.equal(info.cipherSuite, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384');
    socket.destroy();
  });

  test('TLS 1.3 suites are enforced: only -mod accepts a TLS_AES_128_CCM_SHA256-only client', async () => {
    const ccmOnly = (port: number) => {
      const socket = tlsConnect({
        port,
        host: '127.0.0.1',
        servername: 'localhost',
        ca: readFileSync(pki.caCert),
        ciphers: 'TLS_AES_128_CCM_SHA256',
        minVersion: 'TLSv1.3',
      });
      return new Promise<{ suite: string; socket: typeof socket }>((resolve, reject) => {
        socket.once('secureConnect', () => resolve({ suite: socket.getCipher().standardName, socket }));
        socket.once('error', reject);
      });
    };
    const mod = await acceptor(serverOpts('bcp195-rfc8996-mod'));
    const ok = await ccmOnly(mod.port);
    assert.equal(ok.suite, 'TLS_AES_128_CCM_SHA256');
    const outcome = await mod.nextOutcome();
    assert.ok('ok' in outcome, 'err' in outcome ? outcome.err.message : '');
    assert.equal(outcome.ok.info.encryption, 'AES-128-CCM');
    ok.socket.destroy();
    const plain = await acceptor(serverOpts('bcp195-rfc8996'));
    await assert.rejects(ccmOnly(plain.port));
    const refused = await plain.nextOutcome();
    assert.ok('err' in refused);
    assert.equal(refused.err.code, 'ERR_TLS_NO_SHARED_CIPHER');
  });

  test('encrypted client key with password callback', async () => {
    const a = await acceptor({ ...serverOpts(), requirePeerCertificate: true });
    const { socket, info } = await connectClient(a.port, {
      ...clientOpts(),
      key: pki.clientEncryptedKey,
      onPrivateKeyPassword: async () => TEST_KEY_PASSWORD,
    });
    const outcome = await a.nextOutcome();
    assert.ok('ok' in outcome);
    assert.equal(outcome.ok.info.peerCertificate?.commonName, 'client');
    assert.equal(info.protocol, 'TLSv1.3');
    socket.destroy();
  });
});

describe('server certificate failures (client side)', () => {
  test('untrusted CA: ERR_TLS_UNTRUSTED_ISSUER', async () => {
    const a = await acceptor({ key: pki.untrustedServer.key, cert: pki.untrustedServer.cert });
    const err = await expectTlsError(connectClient(a.port, clientOpts()), 'ERR_TLS_UNTRUSTED_ISSUER');
    assert.match(
      err.message,
      /^TLS: server certificate issuer is not trusted \(CN=localhost, issuer CN=untrusted test CA/,
    );
  });

  test('client trusting another CA: ERR_TLS_UNTRUSTED_ISSUER', async () => {
    const a = await acceptor(serverOpts());
    await expectTlsError(
      connectClient(a.port, { ...clientOpts(), ca: pki.untrustedCaCert }),
      'ERR_TLS_UNTRUSTED_ISSUER',
    );
  });

  test('expired: ERR_TLS_CERT_EXPIRED naming notAfter', async () => {
    const a = await acceptor({ key: pki.expiredServer.key, cert: pki.expiredServer.cert });
    const err = await expectTlsError(connectClient(a.port, clientOpts()), 'ERR_TLS_CERT_EXPIRED');
    assert.match(err.message, /^TLS: server certificate has expired \(notAfter \d{4}-\d\d-\d\dT/);
  });

  test('not yet valid: ERR_TLS_CERT_NOT_YET_VALID naming notBefore', async () => {
    const a = await acceptor({ key: pki.notYetValidServer.key, cert: pki.notYetValidServer.cert });
    const err = await expectTlsError(connectClient(a.port, clientOpts()), 'ERR_TLS_CERT_NOT_YET_VALID');
    assert.match(err.message, /notBefore \d{4}-/);
  });

  test('host name mismatch: ERR_TLS_HOSTNAME_MISMATCH; checkServerIdentity:false accepts it', async () => {
    const a = await acceptor({ key: pki.wrongHostServer.key, cert: pki.wrongHostServer.cert });
    for (const host of ['127.0.0.1', 'localhost']) {
      const err = await expectTlsError(
        connectClient(a.port, { ...clientOpts(), host }),
        'ERR_TLS_HOSTNAME_MISMATCH',
      );
      assert.ok(err.message.includes(`'${host}'`) && err.message.includes('wrong.example.org'), err.message);
    }
    const { socket, info } = await connectClient(a.port, { ...clientOpts(), checkServerIdentity: false });
    assert.equal(info.peerCertificate?.commonName, 'wrong.example.org');
    socket.destroy();
    const ok = await connectClient(a.port, { ...clientOpts(), servername: 'wrong.example.org' });
    ok.socket.destroy();
  });

  test('revoked server certificate with the CA CRL loaded: ERR_TLS_CERT_REVOKED', async () => {
    const a = await acceptor({ key: pki.revokedServer.key, cert: pki.revokedServer.cert });
    const err = await expectTlsError(
      connectClient(a.port, { ...clientOpts(), crl: pki.crl }),
      'ERR_TLS_CERT_REVOKED',
    );
    assert.match(
      err.message,
      /^TLS: server certificate has been revoked \(CN=localhost, serial [0-9A-F]+\)$/,
    );
    const ok = await connectClient(a.port, clientOpts());
    ok.socket.destroy();
  });

  test('a CRL for another CA than the issuer: verification fails saying the CRL is missing', async () => {
    const { writeFileSync: write } = await import('node:fs');
    const { createCertificateAuthority, createCrl } = await import('../../src/tls/pki.js');
    const otherCrl = join(dir, 'other.crl');
    write(otherCrl, await createCrl(await createCertificateAuthority({ commonName: 'crl-only CA' }), []));
    const a = await acceptor(serverOpts());
    const err = await expectTlsError(
      connectClient(a.port, { ...clientOpts(), crl: otherCrl }),
      'ERR_TLS_CERT_INVALID',
    );
    assert.match(err.message, /no CRL for the issuer/);
  });

  test('the server certificate matches both localhost and 127.0.0.1', async () => {
    const a = await acceptor(serverOpts());
    for (const host of ['127.0.0.1', 'localhost']) {
      const { socket } = await connectClient(a.port, { ...clientOpts(), host });
      socket.destroy();
    }
  });
});

describe('client certificate failures (acceptor side, requirePeerCertificate + CRL)', () => {
  let a: TestAcceptor;
  before(async () => {
    a = await acceptor({ ...serverOpts(), crl: pki.crl, requirePeerCertificate: true });
  });

  test('valid client certificate is accepted with the CRL loaded', async () => {
    const { socket } = await connectClient(a.port, clientOpts());
    const outcome = await a.nextOutcome();
    assert.ok('ok' in outcome, 'err' in outcome ? outcome.err.message : '');
    socket.destroy();
  });

  const negative: {
    name: string;
    pair: () => { key?: string; cert?: string };
    code: string;
    message: RegExp;
  }[] = [
    {
      name: 'no client certificate',
      pair: () => ({}),
      code: 'ERR_TLS_PEER_CERT_REQUIRED',
      message: /^TLS: client 127\.0\.0\.1:\d+ sent no certificate, but one is required$/,
    },
    {
      name: 'untrusted client certificate',
      pair: () => pki.untrustedClient,
      code: 'ERR_TLS_UNTRUSTED_ISSUER',
      message: /issuer is not trusted \(CN=untrusted-client/,
    },
    {
      name: 'expired client certificate',
      pair: () => pki.expiredClient,
      code: 'ERR_TLS_CERT_EXPIRED',
      message: /certificate has expired \(notAfter/,
    },
    {
      name: 'revoked client certificate',
      pair: () => pki.revokedClient,
      code: 'ERR_TLS_CERT_REVOKED',
      message: /certificate has been revoked \(CN=revoked-client/,
    },
  ];
  for (const n of negative) {
    test(`${n.name}: acceptor rejects with ${n.code}; the client cannot use the link`, async () => {
      const client = connectClient(a.port, { ca: pki.caCert, ...n.pair() });
      const outcome = await a.nextOutcome();
      assert.ok('err' in outcome);
      assert.equal(outcome.err.code, n.code);
      assert.equal(outcome.err.kind, 'tls');
      assert.match(outcome.err.message, n.message);
      // usually a TlsError; if the server's tickets won the race with its close, the link closes at once
      const settled = await client.then(
        (c) => c,
        (err: unknown) => err,
      );
      if (settled instanceof TlsError) {
        if (n.code === 'ERR_TLS_PEER_CERT_REQUIRED') assert.equal(settled.code, 'ERR_TLS_PEER_CERT_REQUIRED');
        return;
      }
      assert.ok(!(settled instanceof Error), String(settled));
      const { socket } = settled as Awaited<typeof client>;
      if (!socket.destroyed) await new Promise((resolve) => socket.once('close', resolve));
    });
  }
});

describe('protocol mismatches', () => {
  test('no shared cipher: both sides ERR_TLS_NO_SHARED_CIPHER', async () => {
    const a = await acceptor(serverOpts('aes'));
    await expectTlsError(connectClient(a.port, clientOpts()), 'ERR_TLS_NO_SHARED_CIPHER');
    const outcome = await a.nextOutcome();
    assert.ok('err' in outcome);
    assert.equal(outcome.err.code, 'ERR_TLS_NO_SHARED_CIPHER');
  });

  test('plaintext A-ASSOCIATE-RQ to the TLS port: ERR_TLS_PLAINTEXT_ON_TLS_PORT', async () => {
    const a = await acceptor(serverOpts());
    const raw = await tcpConnect(a.port);
    const closed = new Promise((resolve) => raw.once('close', resolve));
    raw.on('error', () => {});
    raw.write(Buffer.from([0x01, 0x00, 0x00, 0x00, 0x00, 0xcd, 0x00, 0x01, 0x00, 0x00]));
    const outcome = await a.nextOutcome();
    assert.ok('err' in outcome);
    assert.equal(outcome.err.code, 'ERR_TLS_PLAINTEXT_ON_TLS_PORT');
    assert.match(
      outcome.err.message,
      /^TLS: plaintext DICOM \(A-ASSOCIATE-RQ\) received on the TLS port from 127\.0\.0\.1:\d+$/,
    );
    await closed;
  });

  test('other garbage to the TLS port: ERR_TLS_NOT_TLS', async () => {
    const a = await acceptor(serverOpts());
    const raw = await tcpConnect(a.port);
    raw.on('error', () => {});
    raw.write('GET / HTTP/1.1\r\n\r\n');
    const outcome = await a.nextOutcome();
    assert.ok('err' in outcome);
    assert.equal(outcome.err.code, 'ERR_TLS_NOT_TLS');
    assert.match(outcome.err.message, /first byte 0x47/);
  });

  test('TLS to a plain DICOM port that answers A-ABORT: ERR_TLS_NOT_TLS', async () => {
    const plain = createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.end(Buffer.from('07000000000400000000', 'hex')));
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const port = (plain.address() as { port: number }).port;
    try {
      const err = await expectTlsError(connectClient(port, clientOpts()), 'ERR_TLS_NOT_TLS');
      assert.match(
        err.message,
        /^TLS: peer at 127\.0\.0\.1:\d+ does not speak TLS \(is this a plain DICOM port\?\)/,
      );
    } finally {
      plain.close();
    }
  });

  test('TLS to a plain port that resets silently: ERR_TLS_NOT_TLS', async () => {
    const plain = createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.resetAndDestroy());
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const port = (plain.address() as { port: number }).port;
    try {
      await expectTlsError(connectClient(port, clientOpts()), 'ERR_TLS_NOT_TLS');
    } finally {
      plain.close();
    }
  });

  test('handshake timeout on both sides', async () => {
    const silent = createServer((s) => s.on('error', () => {}));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const err = await expectTlsError(
        connectClient(port, { ...clientOpts(), handshakeTimeoutMs: 300 }),
        'ERR_TLS_HANDSHAKE_TIMEOUT',
      );
      assert.match(err.message, /timed out after 300 ms/);
      assert.ok(Date.now() - started < 2000);
    } finally {
      silent.close();
    }
    const a = await acceptor(serverOpts(), 300);
    const raw = await tcpConnect(a.port);
    raw.on('error', () => {});
    const outcome = await a.nextOutcome();
    assert.ok('err' in outcome);
    assert.equal(outcome.err.code, 'ERR_TLS_HANDSHAKE_TIMEOUT');
    raw.destroy();
    // a client that starts a TLS record and stalls
    const stalling = await tcpConnect(a.port);
    stalling.on('error', () => {});
    stalling.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]));
    const stalled = await a.nextOutcome();
    assert.ok('err' in stalled);
    assert.equal(stalled.err.code, 'ERR_TLS_HANDSHAKE_TIMEOUT');
    assert.match(stalled.err.message, /timed out after 300 ms/);
    stalling.destroy();
  });
});

describe('concurrency', () => {
  test('30 simultaneous handshakes on one acceptor all complete with the right peer', async () => {
    const a = await acceptor({ ...serverOpts(), requirePeerCertificate: true });
    const clients = await Promise.all(Array.from({ length: 30 }, () => connectClient(a.port, clientOpts())));
    const outcomes = await Promise.all(clients.map(() => a.nextOutcome()));
    for (const o of outcomes) assert.ok('ok' in o && o.ok.info.peerCertificate?.commonName === 'client');
    const echoes = await Promise.all(clients.map((c, i) => roundTrip(c.socket, `msg-${i}`)));
    assert.deepEqual(
      echoes,
      clients.map((_, i) => `msg-${i}`),
    );
    for (const c of clients) c.socket.destroy();
  });
});

describe('session resumption', () => {
  for (const profile of ['bcp195-rfc8996', 'bcp195-ex'] as const) {
    test(`${profile}: the second connection resumes (with mutual authentication)`, async () => {
      const a = await acceptor({ ...serverOpts(), requirePeerCertificate: true });
      const opts = { ...clientOpts(profile), sessionResumption: true };
      const first = await connectClient(a.port, opts);
      assert.equal((await roundTrip(first.socket, 'one')).length, 3);
      assert.equal(first.info.resumed, false);
      first.socket.destroy();
      assert.ok('ok' in (await a.nextOutcome()));
      const second = await connectClient(a.port, opts);
      assert.equal(second.info.resumed, true);
      assert.equal(second.info.protocol, profile === 'bcp195-ex' ? 'TLSv1.2' : 'TLSv1.3');
      assert.equal(second.info.peerCertificate?.commonName, 'localhost');
      const outcome = await a.nextOutcome();
      assert.ok('ok' in outcome);
      assert.equal(outcome.ok.info.resumed, true);
      assert.equal(outcome.ok.info.peerCertificate?.commonName, 'client');
      assert.equal(await roundTrip(second.socket, 'two'), 'two');
      second.socket.destroy();
      const third = await connectClient(a.port, { ...opts, sessionResumption: false });
      assert.equal(third.info.resumed, false);
      third.socket.destroy();
      assert.ok('ok' in (await a.nextOutcome()));
      // after a credential reload (e.g. a new CRL) old sessions are not resumed
      await a.acceptor.reloadCredentials();
      const fourth = await connectClient(a.port, opts);
      assert.equal(fourth.info.resumed, false);
      fourth.socket.destroy();
    });
  }
});

describe('hot reload', () => {
  let reloadDir: string;
  let paths: { key: string; cert: string };
  const swap = (pair: { key: string; cert: string }) => {
    copyFileSync(pair.key, paths.key);
    copyFileSync(pair.cert, paths.cert);
  };
  before(() => {
    reloadDir = mkdtempSync(join(dir, 'reload-'));
    paths = { key: join(reloadDir, 'server.key'), cert: join(reloadDir, 'server.crt') };
    swap(pki.server);
  });

  test('reloadCredentials: new handshakes see the new certificate; running connections keep working', async () => {
    const a = await acceptor({ ...paths, ca: pki.caCert });
    const old = await connectClient(a.port, clientOpts());
    assert.equal(
      old.info.peerCertificate?.fingerprint256,
      new X509Certificate(readFileSync(pki.server.cert)).fingerprint256,
    );
    swap(pki.ecServer);
    await a.acceptor.reloadCredentials();
    const fresh = await connectClient(a.port, clientOpts());
    assert.equal(
      fresh.info.peerCertificate?.fingerprint256,
      new X509Certificate(readFileSync(pki.ecServer.cert)).fingerprint256,
    );
    assert.equal(await roundTrip(old.socket, 'still here'), 'still here');
    old.socket.destroy();
    fresh.socket.destroy();
    swap(pki.server);
  });

  test('reloadCredentials with broken files rejects and keeps the old certificate', async () => {
    const a = await acceptor({ ...paths, ca: pki.caCert });
    writeFileSync(paths.cert, 'garbage');
    await assert.rejects(a.acceptor.reloadCredentials(), (err: unknown) => err instanceof TlsError);
    const c = await connectClient(a.port, clientOpts());
    assert.equal(
      c.info.peerCertificate?.fingerprint256,
      new X509Certificate(readFileSync(pki.server.cert)).fingerprint256,
    );
    c.socket.destroy();
    swap(pki.server);
  });

  test('watchCredentials reloads after the files are replaced by rename (debounced)', async () => {
    const a = await acceptor({ ...paths, ca: pki.caCert });
    const stop = a.acceptor.watchCredentials({ debounceMs: 50 });
    try {
      // as certbot-style renewals do: write aside, then rename over the old files
      for (const [from, to] of [
        [pki.ecServer.key, paths.key],
        [pki.ecServer.cert, paths.cert],
      ] as const) {
        copyFileSync(from, `${to}.new`);
        renameSync(`${to}.new`, to);
      }
      const want = new X509Certificate(readFileSync(pki.ecServer.cert)).fingerprint256;
      const deadline = Date.now() + 5000;
      let seen = '';
      while (Date.now() < deadline) {
        const c = await connectClient(a.port, clientOpts());
        seen = c.info.peerCertificate?.fingerprint256 ?? '';
        c.socket.destroy();
        if (seen === want) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(seen, want);
    } finally {
      stop();
      swap(pki.server);
    }
  });
});
