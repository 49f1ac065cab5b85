import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { loadTlsCredentials } from '../../src/tls/credentials.js';
import { TlsError } from '../../src/tls/errors.js';
import type { PrivateKeyPasswordInfo } from '../../src/tls/types.js';
import { makeTestPki, TEST_KEY_PASSWORD, type TestPki } from '../helpers/pki.js';
import { connectClient, startAcceptor } from './peers.js';

let dir: string;
let pki: TestPki;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dicomnet-tls-creds-'));
  pki = await makeTestPki(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<TlsError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof TlsError, `expected TlsError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.kind, 'tls');
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe('private keys', () => {
  test('PEM PKCS#8 key and PEM certificate from files', async () => {
    const creds = await loadTlsCredentials({ key: pki.server.key, cert: pki.server.cert });
    assert.equal(creds.keyObject?.asymmetricKeyType, 'rsa');
    assert.equal(creds.certificate?.subject, 'CN=localhost');
    assert.match(creds.key ?? '', /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(creds.sources.key, pki.server.key);
  });

  test('PEM PKCS#1 (BEGIN RSA PRIVATE KEY)', async () => {
    const pkcs1 = createPrivateKey(readFileSync(pki.server.key)).export({ type: 'pkcs1', format: 'pem' });
    const key = write('pkcs1.key', pkcs1);
    assert.match(readFileSync(key, 'utf8'), /BEGIN RSA PRIVATE KEY/);
    const creds = await loadTlsCredentials({ key, cert: pki.server.cert });
    assert.equal(creds.keyObject?.asymmetricKeyType, 'rsa');
  });

  test('PEM SEC1 EC key (BEGIN EC PRIVATE KEY)', async () => {
    const sec1 = createPrivateKey(readFileSync(pki.ecServer.key)).export({ type: 'sec1', format: 'pem' });
    const creds = await loadTlsCredentials({ key: write('sec1.key', sec1), cert: pki.ecServer.cert });
    assert.equal(creds.keyObject?.asymmetricKeyType, 'ec');
  });

  test('encrypted PKCS#8 with passphrase', async () => {
    const creds = await loadTlsCredentials({
      key: pki.clientEncryptedKey,
      cert: pki.client.cert,
      passphrase: TEST_KEY_PASSWORD,
    });
    assert.equal(creds.certificate?.subject, 'CN=client');
  });

  test('encrypted PKCS#8: wrong password is ERR_TLS_KEY_PASSWORD naming the file, fast', async () => {
    const started = Date.now();
    const err = await rejectsWith(
      loadTlsCredentials({ key: pki.clientEncryptedKey, cert: pki.client.cert, passphrase: 'wrong' }),
      'ERR_TLS_KEY_PASSWORD',
    );
    assert.ok(err.message.includes(pki.clientEncryptedKey));
    assert.ok(!err.message.includes('wrong'.repeat(2)));
    assert.ok(Date.now() - started < 2000);
  });

  test('encrypted key without any password source is ERR_TLS_KEY_PASSWORD (never a prompt)', async () => {
    const err = await rejectsWith(
      loadTlsCredentials({ key: pki.clientEncryptedKey, cert: pki.client.cert }),
      'ERR_TLS_KEY_PASSWORD',
      /encrypted and no password was given/,
    );
    assert.ok(err.message.includes(pki.clientEncryptedKey));
  });

  test('onPrivateKeyPassword: sync callback gets file and kind', async () => {
    const seen: PrivateKeyPasswordInfo[] = [];
    const creds = await loadTlsCredentials({
      key: pki.clientEncryptedKey,
      cert: pki.client.cert,
      onPrivateKeyPassword: (info) => {
        seen.push(info);
        return TEST_KEY_PASSWORD;
      },
    });
    assert.ok(creds.keyObject);
    assert.deepEqual(seen, [{ file: pki.clientEncryptedKey, kind: 'key' }]);
  });

  test('onPrivateKeyPassword: async callback; wrong answer is a typed error', async () => {
    const creds = await loadTlsCredentials({
      key: pki.clientEncryptedKey,
      cert: pki.client.cert,
      onPrivateKeyPassword: async () => TEST_KEY_PASSWORD,
    });
    assert.ok(creds.keyObject);
    await rejectsWith(
      loadTlsCredentials({
        key: pki.clientEncryptedKey,
        cert: pki.client.cert,
        onPrivateKeyPassword: async () => 'nope',
      }),
      'ERR_TLS_KEY_PASSWORD',
      /wrong password/,
    );
  });

  test('onPrivateKeyPassword that throws is ERR_TLS_KEY_PASSWORD', async () => {
    await rejectsWith(
      loadTlsCredentials({
        key: pki.clientEncryptedKey,
        cert: pki.client.cert,
        onPrivateKeyPassword: () => {
          throw new Error('vault unavailable');
        },
      }),
      'ERR_TLS_KEY_PASSWORD',
      /vault unavailable/,
    );
  });

  test('legacy encrypted PEM (Proc-Type: 4,ENCRYPTED)', async () => {
    const legacy = createPrivateKey(readFileSync(pki.client.key)).export({
      type: 'pkcs1',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'legacy-pw',
    });
    const key = write('legacy.key', legacy);
    assert.match(readFileSync(key, 'utf8'), /Proc-Type: 4,ENCRYPTED/);
    const creds = await loadTlsCredentials({ key, cert: pki.client.cert, passphrase: 'legacy-pw' });
    assert.ok(creds.keyObject);
    await rejectsWith(
      loadTlsCredentials({ key, cert: pki.client.cert, passphrase: 'bad' }),
      'ERR_TLS_KEY_PASSWORD',
      /legacy\.key/,
    );
  });

  test('DER keys (PKCS#8, PKCS#1, encrypted PKCS#8) and DER certificate', async () => {
    const keyObject = createPrivateKey(readFileSync(pki.server.key));
    const certDer = write('server.der.crt', new X509Certificate(readFileSync(pki.server.cert)).raw);
    for (const [name, der, passphrase] of [
      ['pkcs8.der', keyObject.export({ type: 'pkcs8', format: 'der' }), undefined],
      ['pkcs1.der', keyObject.export({ type: 'pkcs1', format: 'der' }), undefined],
      [
        'enc.der',
        keyObject.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: 'der-pw' }),
        'der-pw',
      ],
    ] as const) {
      const creds = await loadTlsCredentials({ key: write(name, der), cert: certDer, passphrase });
      assert.equal(creds.certificate?.subject, 'CN=localhost', name);
      assert.match(creds.cert ?? '', /^-----BEGIN CERTIFICATE-----/);
    }
    await rejectsWith(
      loadTlsCredentials({
        key: join(dir, 'enc.der'),
        cert: certDer,
        passphrase: 'bad',
      }),
      'ERR_TLS_KEY_PASSWORD',
    );
  });

  test('inline PEM strings and Buffers', async () => {
    const creds = await loadTlsCredentials({
      key: readFileSync(pki.server.key, 'utf8'),
      cert: readFileSync(pki.server.cert),
      ca: readFileSync(pki.caCert, 'utf8'),
    });
    assert.equal(creds.sources.key, '<inline private key>');
    assert.equal(creds.ca?.length, 1);
  });

  test('key that does not belong to the certificate is ERR_TLS_KEY_MISMATCH naming both files', async () => {
    const err = await rejectsWith(
      loadTlsCredentials({ key: pki.client.key, cert: pki.server.cert }),
      'ERR_TLS_KEY_MISMATCH',
    );
    assert.ok(err.message.includes(pki.client.key) && err.message.includes(pki.server.cert), err.message);
  });

  test('missing file is ERR_TLS_FILE; garbage key is ERR_TLS_KEY_FORMAT', async () => {
    await rejectsWith(
      loadTlsCredentials({ key: join(dir, 'nope.key'), cert: pki.server.cert }),
      'ERR_TLS_FILE',
      /nope\.key/,
    );
    await rejectsWith(
      loadTlsCredentials({ key: write('garbage.key', Buffer.from([1, 2, 3, 4])), cert: pki.server.cert }),
      'ERR_TLS_KEY_FORMAT',
    );
  });

  test('secrets never show in JSON or inspect output', async () => {
    const creds = await loadTlsCredentials({
      key: pki.clientEncryptedKey,
      cert: pki.client.cert,
      passphrase: TEST_KEY_PASSWORD,
    });
    for (const text of [JSON.stringify(creds), inspect(creds, { depth: 5 })]) {
      assert.ok(!text.includes('PRIVATE KEY'), text.slice(0, 200));
      assert.ok(!text.includes(TEST_KEY_PASSWORD));
    }
  });
});

describe('certificates, chains, CAs, CRLs', () => {
  test('a chain file (leaf + CA) and an array of certificates', async () => {
    const chainFile = write(
      'chain.pem',
      readFileSync(pki.server.cert, 'utf8') + readFileSync(pki.caCert, 'utf8'),
    );
    const a = await loadTlsCredentials({ key: pki.server.key, cert: chainFile });
    const b = await loadTlsCredentials({ key: pki.server.key, cert: [pki.server.cert, pki.caCert] });
    for (const creds of [a, b]) {
      assert.equal(creds.certificate?.subject, 'CN=localhost');
      assert.equal(creds.cert?.match(/BEGIN CERTIFICATE/g)?.length, 2);
    }
  });

  test('ca may name a directory: every certificate file in it is loaded, others skipped', async () => {
    const caDir = join(dir, 'cadir');
    mkdirSync(caDir);
    writeFileSync(join(caDir, 'a.pem'), readFileSync(pki.caCert));
    writeFileSync(join(caDir, 'b.der'), new X509Certificate(readFileSync(pki.untrustedCaCert)).raw);
    writeFileSync(join(caDir, 'README'), 'not a certificate');
    const creds = await loadTlsCredentials({ ca: caDir });
    assert.equal(creds.ca?.length, 2);
    assert.equal(creds.sources.ca.length, 2);
    await rejectsWith(loadTlsCredentials({ ca: join(dir, 'missing-dir') }), 'ERR_TLS_FILE');
  });

  test('ca: a non-certificate file is ERR_TLS_CERT_FORMAT', async () => {
    await rejectsWith(loadTlsCredentials({ ca: pki.server.key }), 'ERR_TLS_CERT_FORMAT', /server\.key/);
  });

  test('CRL in PEM and DER', async () => {
    const pem = readFileSync(pki.crl, 'utf8');
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const a = await loadTlsCredentials({ ca: pki.caCert, crl: pki.crl });
    const b = await loadTlsCredentials({ ca: pki.caCert, crl: write('ca.crl.der', der) });
    assert.equal(a.crl?.[0]?.trim(), b.crl?.[0]?.trim());
    await rejectsWith(loadTlsCredentials({ crl: write('bad.crl', 'hello') }), 'ERR_TLS_CRL_FORMAT');
  });
});

const hasOpensslCli = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

describe(
  'PKCS#12',
  {
    skip: hasOpensslCli ? false : 'openssl CLI not installed: cannot create a PKCS#12 fixture',
  },
  () => {
    let p12: string;
    let p12NoPass: string;
    before(() => {
      // test fixture only: Node cannot write PKCS#12
      p12 = join(dir, 'client.p12');
      p12NoPass = join(dir, 'client-nopass.p12');
      for (const [out, pass] of [
        [p12, 'p12-pw'],
        [p12NoPass, ''],
      ] as const) {
        const r = spawnSync('openssl', [
          'pkcs12',
          '-export',
          '-out',
          out,
          '-inkey',
          pki.client.key,
          '-in',
          pki.client.cert,
          '-certfile',
          pki.caCert,
          '-passout',
          `pass:${pass}`,
        ]);
        assert.equal(r.status, 0, r.stderr.toString());
      }
    });

    test('encrypted bundle opens with passphrase or callback (kind pfx)', async () => {
      const a = await loadTlsCredentials({ pfx: p12, passphrase: 'p12-pw' });
      assert.ok(a.pfx);
      const seen: PrivateKeyPasswordInfo[] = [];
      const b = await loadTlsCredentials({
        pfx: p12,
        onPrivateKeyPassword: async (info) => {
          seen.push(info);
          return 'p12-pw';
        },
      });
      assert.ok(b.pfx);
      assert.deepEqual(seen, [{ file: p12, kind: 'pfx' }]);
    });

    test('wrong password is ERR_TLS_KEY_PASSWORD naming the bundle', async () => {
      await rejectsWith(
        loadTlsCredentials({ pfx: p12, passphrase: 'bad' }),
        'ERR_TLS_KEY_PASSWORD',
        /client\.p12/,
      );
      await rejectsWith(loadTlsCredentials({ pfx: p12 }), 'ERR_TLS_KEY_PASSWORD', /no password was given/);
    });

    test('a PKCS#12 client authenticates to an acceptor', async () => {
      const a = await startAcceptor({
        key: pki.server.key,
        cert: pki.server.cert,
        ca: pki.caCert,
        requirePeerCertificate: true,
      });
      try {
        const { socket, info } = await connectClient(a.port, {
          pfx: p12,
          passphrase: 'p12-pw',
          ca: pki.caCert,
        });
        assert.equal(info.peerCertificate?.commonName, 'localhost');
        const outcome = await a.nextOutcome();
        assert.ok('ok' in outcome, 'err' in outcome ? outcome.err.message : '');
        assert.equal(outcome.ok.info.peerCertificate?.commonName, 'client');
        socket.destroy();
      } finally {
        await a.close();
      }
    });

    test('bundle with an empty password needs no callback', async () => {
      const creds = await loadTlsCredentials({
        pfx: p12NoPass,
        onPrivateKeyPassword: () => assert.fail('should not ask'),
      });
      assert.ok(creds.pfx);
    });
  },
);
