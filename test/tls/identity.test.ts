import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  certificateMatchesIdentity,
  peerCertificateInfo,
  splitSubjectAltName,
} from '../../src/tls/certificate.js';
import { formatSecureLink } from '../../src/tls/describe.js';
import { loadTlsCredentials } from '../../src/tls/credentials.js';
import { createCertificateAuthority, createDevelopmentPki, issueCertificate } from '../../src/tls/pki.js';
import type { PeerCertificateInfo } from '../../src/tls/types.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function cert(commonName: string | undefined, san: string[]): PeerCertificateInfo {
  return {
    subject: commonName ? `CN=${commonName}` : 'O=x',
    issuer: 'CN=ca',
    san,
    validFrom: new Date(0),
    validTo: new Date(0),
    fingerprint256: '00',
    serialNumber: '01',
    ...(commonName ? { commonName } : {}),
  };
}

describe('certificateMatchesIdentity', () => {
  test('CN equals an entry (case-sensitive, as AE titles are)', () => {
    assert.equal(certificateMatchesIdentity(cert('STORESCU', []), ['STORESCU']), true);
    assert.equal(certificateMatchesIdentity(cert('STORESCU', []), ['storescu']), false);
    assert.equal(certificateMatchesIdentity(cert(undefined, []), ['STORESCU']), false);
  });

  test('DNS SANs case-insensitively, with single-label left-most wildcards only', () => {
    const c = cert('x', ['DNS:pacs.example.org', 'DNS:*.modality.example.org']);
    assert.equal(certificateMatchesIdentity(c, ['PACS.example.org']), true);
    assert.equal(certificateMatchesIdentity(c, ['ct1.modality.example.org']), true);
    assert.equal(certificateMatchesIdentity(c, ['modality.example.org']), false);
    assert.equal(certificateMatchesIdentity(c, ['a.b.modality.example.org']), false);
    assert.equal(certificateMatchesIdentity(cert('x', ['DNS:*.org']), ['example.org']), false);
  });

  test('IP and URI SANs', () => {
    const c = cert('x', ['IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', 'URI:urn:dicomnet:client']);
    assert.equal(certificateMatchesIdentity(c, ['127.0.0.1']), true);
    assert.equal(certificateMatchesIdentity(c, ['urn:dicomnet:client']), true);
    assert.equal(certificateMatchesIdentity(c, ['127.0.0.2', 'urn:other']), false);
    assert.equal(certificateMatchesIdentity(cert('x', ['DNS:127.0.0.1']), ['127.0.0.1']), false);
  });

  test('splitSubjectAltName handles quoted values', () => {
    assert.deepEqual(splitSubjectAltName('DNS:a, IP Address:1.2.3.4, DNS:"b,c"'), [
      'DNS:a',
      'IP Address:1.2.3.4',
      'DNS:b,c',
    ]);
    assert.deepEqual(splitSubjectAltName(undefined), []);
  });
});

describe('development PKI', () => {
  test('issued certificates carry the SANs, EKU and key type asked for', async () => {
    const ca = await createCertificateAuthority();
    const server = await issueCertificate(ca, {
      commonName: 'pacs',
      san: ['DNS:pacs.local', 'IP:10.0.0.1', 'URI:urn:x'],
    });
    const info = peerCertificateInfo(new X509Certificate(server.certificatePem));
    assert.equal(info.commonName, 'pacs');
    assert.deepEqual(info.san, ['DNS:pacs.local', 'IP Address:10.0.0.1', 'URI:urn:x']);
    assert.equal(info.issuer, 'CN=dicomnet development CA');
    assert.ok(new X509Certificate(server.certificatePem).checkIssued(new X509Certificate(ca.certificatePem)));
    const client = await issueCertificate(ca, {
      commonName: 'c',
      client: true,
      keyType: 'ec',
      passphrase: 'pw12',
    });
    assert.match(client.keyPem, /BEGIN ENCRYPTED PRIVATE KEY/);
    const x = new X509Certificate(client.certificatePem);
    assert.equal(x.publicKey.asymmetricKeyType, 'ec');
    assert.ok(x.keyUsage?.includes('1.3.6.1.5.5.7.3.2'));
    await assert.rejects(issueCertificate(ca, { commonName: 'x', san: ['EMAIL:a@b'] }), /not supported/);
  });

  test('createDevelopmentPki makes ca/server/client once and reuses them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomnet-devpki-'));
    dirs.push(dir);
    const pkiDir = join(dir, 'pki');
    const first = await createDevelopmentPki(pkiDir);
    assert.equal(first.created, true);
    for (const p of [
      first.caCertificate,
      first.serverCertificate,
      first.serverKey,
      first.clientCertificate,
      first.clientKey,
    ])
      assert.ok(existsSync(p), p);
    assert.equal(statSync(first.serverKey).mode & 0o777, 0o600);
    assert.equal(statSync(first.caKey).mode & 0o777, 0o600);
    const server = new X509Certificate(readFileSync(first.serverCertificate));
    assert.match(server.subjectAltName ?? '', /DNS:localhost, IP Address:127\.0\.0\.1/);
    assert.equal(
      first.caFingerprint256,
      new X509Certificate(readFileSync(first.caCertificate)).fingerprint256,
    );
    const before = readFileSync(first.serverCertificate, 'utf8');
    const second = await createDevelopmentPki(pkiDir);
    assert.equal(second.created, false);
    assert.equal(readFileSync(second.serverCertificate, 'utf8'), before);
    assert.equal(second.caFingerprint256, first.caFingerprint256);
    const creds = await loadTlsCredentials({
      key: second.clientKey,
      cert: second.clientCertificate,
      ca: second.caCertificate,
    });
    assert.equal(creds.certificate?.subject, 'CN=client');
    rmSync(second.clientKey);
    await assert.rejects(createDevelopmentPki(pkiDir), /holds only one of .*client\.crt/);
  });
});

test('formatSecureLink is one line naming protocol, suite, algorithms and peer', () => {
  const line = formatSecureLink({
    protocol: 'TLSv1.2',
    cipherSuite: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
    encryption: 'AES-128-GCM',
    integrity: 'AEAD',
    keyExchange: 'ECDHE',
    profile: 'bcp195-rfc8996',
    resumed: true,
    peerCertificate: cert('server', []),
  });
  assert.equal(line.includes('\n'), false);
  assert.match(
    line,
    /^TLSv1\.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 \(AES-128-GCM, AEAD, ECDHE\) profile bcp195-rfc8996, resumed, peer CN=server/,
  );
});
