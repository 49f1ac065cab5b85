import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { loadTlsCredentials } from '../../src/tls/credentials.js';
import { isSuiteAvailable } from '../../src/tls/profiles.js';
import { connectClient, startAcceptor } from '../tls/peers.js';

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => {
    stdout += d;
  });
  err.on('data', (d) => {
    stderr += d;
  });
  const code = await main(args, { stdout: out, stderr: err });
  return { code, stdout, stderr };
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'dicomnet-cli-pki-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('dicomnet pki', () => {
  test('init makes ca.crt and ca.key (0600), prints the fingerprint, and reuses an existing CA', async () => {
    const ca = join(dir, 'ca');
    const first = await cli(['pki', 'init', ca]);
    assert.equal(first.code, 0, first.stderr);
    const fingerprint = new X509Certificate(readFileSync(join(ca, 'ca.crt'))).fingerprint256;
    assert.ok(first.stdout.includes(`CA SHA-256 fingerprint: ${fingerprint}`), first.stdout);
    assert.equal(statSync(join(ca, 'ca.key')).mode & 0o777, 0o600);
    const second = await cli(['pki', 'init', ca]);
    assert.equal(second.code, 0);
    assert.match(second.stdout, /reused existing CA/);
    assert.ok(second.stdout.includes(fingerprint));
  });

  test('issue: server certificate NAME.crt/NAME.key with default SANs and serverAuth', async () => {
    const ca = join(dir, 'ca');
    const out = join(dir, 'out');
    const r = await cli(['pki', 'issue', '--ca', ca, '--cn', 'pacs', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const cert = new X509Certificate(readFileSync(join(out, 'pacs.crt')));
    assert.equal(cert.subject, 'CN=pacs');
    assert.ok(cert.checkIssued(new X509Certificate(readFileSync(join(ca, 'ca.crt')))));
    const san = cert.subjectAltName ?? '';
    assert.match(san, /DNS:localhost/);
    assert.match(san, /IP Address:127\.0\.0\.1/);
    if (hostname() !== 'localhost') assert.ok(san.includes(`DNS:${hostname()}`), san);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(statSync(join(out, 'pacs.key')).mode & 0o777, 0o600);
  });

  test('issue --client --key-type ec --passphrase-file --san: encrypted key, clientAuth', async () => {
    const pw = join(dir, 'pw.txt');
    writeFileSync(pw, 'client-secret\n');
    const out = join(dir, 'out');
    const r = await cli([
      'pki',
      'issue',
      '--ca',
      join(dir, 'ca'),
      '--cn',
      'STORESCU',
      '--out',
      out,
      '--client',
      '--key-type',
      'ec',
      '--passphrase-file',
      pw,
      '--san',
      'DNS:modality.local',
      '--days',
      '30',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes('client-secret'));
    assert.match(readFileSync(join(out, 'STORESCU.key'), 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
    const creds = await loadTlsCredentials({
      key: join(out, 'STORESCU.key'),
      cert: join(out, 'STORESCU.crt'),
      passphrase: 'client-secret',
    });
    assert.equal(creds.keyObject?.asymmetricKeyType, 'ec');
    assert.deepEqual(creds.certificate?.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.equal(creds.certificate?.subjectAltName, 'DNS:modality.local');
    const days =
      (Date.parse(creds.certificate?.validTo ?? '') - Date.parse(creds.certificate?.validFrom ?? '')) /
      86400_000;
    assert.equal(Math.round(days), 30);
  });

  test('issued certificates work for a mutually authenticated handshake', async () => {
    const ca = join(dir, 'ca', 'ca.crt');
    const out = join(dir, 'out');
    const a = await startAcceptor({
      key: join(out, 'pacs.key'),
      cert: join(out, 'pacs.crt'),
      ca,
      requirePeerCertificate: true,
    });
    try {
      const { socket, info } = await connectClient(a.port, {
        key: join(out, 'STORESCU.key'),
        cert: join(out, 'STORESCU.crt'),
        passphrase: 'client-secret',
        ca,
      });
      assert.equal(info.peerCertificate?.commonName, 'pacs');
      const outcome = await a.nextOutcome();
      assert.ok('ok' in outcome);
      assert.equal(outcome.ok.info.peerCertificate?.commonName, 'STORESCU');
      socket.destroy();
    } finally {
      await a.close();
    }
  });

  test('usage errors exit 2: existing files, missing CA, bad SAN', async () => {
    const again = await cli([
      'pki',
      'issue',
      '--ca',
      join(dir, 'ca'),
      '--cn',
      'pacs',
      '--out',
      join(dir, 'out'),
    ]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^dicomnet: .*pacs\.crt already exists; refusing to overwrite it\n$/);
    const noCa = await cli([
      'pki',
      'issue',
      '--ca',
      join(dir, 'nope'),
      '--cn',
      'x',
      '--out',
      join(dir, 'out2'),
    ]);
    assert.equal(noCa.code, 2);
    assert.match(noCa.stderr, /cannot read the CA/);
    const badSan = await cli([
      'pki',
      'issue',
      '--ca',
      join(dir, 'ca'),
      '--cn',
      'y',
      '--out',
      join(dir, 'out3'),
      '--san',
      'FOO:bar',
    ]);
    assert.equal(badSan.code, 2);
    assert.match(badSan.stderr, /subject alternative name type 'FOO'/);
    const missing = await cli(['pki', 'issue', '--cn', 'z']);
    assert.equal(missing.code, 2);
  });
});

describe('dicomnet tls ciphers', () => {
  test('lists every profile with IANA names', async () => {
    const r = await cli(['tls', 'ciphers']);
    assert.equal(r.code, 0, r.stderr);
    for (const p of [
      'bcp195-rfc8996',
      'bcp195-rfc8996-mod',
      'bcp195-nd',
      'bcp195',
      'bcp195-ex',
      'aes',
      'basic',
      'null',
    ])
      assert.match(r.stdout, new RegExp(`^profile ${p}: `, 'm'));
    assert.match(r.stdout, /TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256/);
    assert.match(r.stdout, /TLSv1\.3 {2}TLS_AES_256_GCM_SHA384/);
  });

  test('--profile --json prints one JSON object', async () => {
    const r = await cli(['tls', 'ciphers', '--profile', 'bcp195-nd', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { profile: string; retired: boolean; suites: { iana: string }[] };
    assert.equal(list.profile, 'bcp195-nd');
    assert.equal(list.retired, true);
    assert.ok(list.suites.some((s) => s.iana === 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384'));
  });

  test(
    '--profile basic exits 4 naming the missing suite',
    {
      skip: isSuiteAvailable('DES-CBC3-SHA'),
    },
    async () => {
      const r = await cli(['tls', 'ciphers', '--profile', 'basic']);
      assert.equal(r.code, 4);
      assert.match(r.stdout, /TLS_RSA_WITH_3DES_EDE_CBC_SHA/);
      assert.match(
        r.stderr,
        /^dicomnet: TLS profile 'basic' needs TLS_RSA_WITH_3DES_EDE_CBC_SHA, which this OpenSSL \(.+\) does not provide\n$/,
      );
    },
  );

  test('unknown profile is a usage error', async () => {
    assert.equal((await cli(['tls', 'ciphers', '--profile', 'tls9'])).code, 2);
  });
});
