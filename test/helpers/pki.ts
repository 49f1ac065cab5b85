/**
 * Test PKI: a CA plus server/client certificates and the variants negative tests need,
 * written as PEM files into a directory. Made fresh per test run (a few hundred ms).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCertificateAuthority, createCrl, issueCertificate } from '../../src/tls/pki.js';

/** Password of {@link TestPki.clientEncryptedKey} (also in {@link TestPki.clientPasswordFile}). */
export const TEST_KEY_PASSWORD = 'dicomnet-test-password';

/** A certificate/key pair on disk. */
export interface TestPair {
  cert: string;
  key: string;
}

/** Paths of everything {@link makeTestPki} writes. */
export interface TestPki {
  dir: string;
  /** The trusted CA certificate (PEM) and its key. */
  caCert: string;
  caKey: string;
  /** Server: CN=localhost, SAN DNS:localhost, IP:127.0.0.1, EKU serverAuth, RSA 2048. */
  server: TestPair;
  /** Client: CN=client (also SAN DNS:client, URI:urn:dicomnet:client), EKU clientAuth, RSA 2048. */
  client: TestPair;
  /** The client key encrypted (PKCS#8, AES-256-CBC) with {@link TEST_KEY_PASSWORD}; same certificate as `client`. */
  clientEncryptedKey: string;
  /** A file holding {@link TEST_KEY_PASSWORD} and a newline. */
  clientPasswordFile: string;
  /** Server cert that expired yesterday. */
  expiredServer: TestPair;
  /** Server cert valid from tomorrow. */
  notYetValidServer: TestPair;
  /** Server cert for `wrong.example.org` only (no localhost/127.0.0.1). */
  wrongHostServer: TestPair;
  /** Server with an ECDSA P-256 key (SAN localhost, 127.0.0.1). */
  ecServer: TestPair;
  /** A second CA nobody trusts, and a server and client cert it issued. */
  untrustedCaCert: string;
  untrustedServer: TestPair;
  untrustedClient: TestPair;
  /** A client cert revoked by {@link TestPki.crl}. */
  revokedClient: TestPair;
  /** A server cert (SAN localhost, 127.0.0.1) revoked by {@link TestPki.crl}. */
  revokedServer: TestPair;
  /** CRL of the trusted CA revoking `revokedClient` and `revokedServer` (PEM). */
  crl: string;
  /** Expired client cert. */
  expiredClient: TestPair;
}

/** Extra choices for {@link makeTestPki}. */
export interface TestPkiOptions {
  /** Key type of the main server and client certificates (default rsa). */
  keyType?: 'rsa' | 'ec';
}

const DAY = 86400_000;

/** Make a CA + server + client certificates and the negative-test variants in `dir` (must exist). */
export async function makeTestPki(dir: string, opts: TestPkiOptions = {}): Promise<TestPki> {
  const keyType = opts.keyType ?? 'rsa';
  const [ca, other] = await Promise.all([
    createCertificateAuthority({ commonName: 'dicomnet test CA' }),
    createCertificateAuthority({ commonName: 'untrusted test CA' }),
  ]);
  const now = Date.now();
  const serverSan = ['DNS:localhost', 'IP:127.0.0.1'];
  const [
    server,
    client,
    expiredServer,
    notYetValidServer,
    wrongHostServer,
    ecServer,
    untrustedServer,
    untrustedClient,
    revokedClient,
    expiredClient,
    revokedServer,
  ] = await Promise.all([
    issueCertificate(ca, { commonName: 'localhost', san: serverSan, keyType }),
    issueCertificate(ca, {
      commonName: 'client',
      client: true,
      san: ['DNS:client', 'URI:urn:dicomnet:client'],
      keyType,
    }),
    issueCertificate(ca, {
      commonName: 'localhost',
      san: serverSan,
      notBefore: new Date(now - 30 * DAY),
      notAfter: new Date(now - DAY),
    }),
    issueCertificate(ca, {
      commonName: 'localhost',
      san: serverSan,
      notBefore: new Date(now + DAY),
      notAfter: new Date(now + 30 * DAY),
    }),
    issueCertificate(ca, { commonName: 'wrong.example.org', san: ['DNS:wrong.example.org'] }),
    issueCertificate(ca, { commonName: 'localhost', san: serverSan, keyType: 'ec' }),
    issueCertificate(other, { commonName: 'localhost', san: serverSan }),
    issueCertificate(other, { commonName: 'untrusted-client', client: true }),
    issueCertificate(ca, { commonName: 'revoked-client', client: true }),
    issueCertificate(ca, {
      commonName: 'expired-client',
      client: true,
      notBefore: new Date(now - 30 * DAY),
      notAfter: new Date(now - DAY),
    }),
    issueCertificate(ca, { commonName: 'localhost', san: serverSan }),
  ]);
  const crl = await createCrl(ca, [revokedClient.certificatePem, revokedServer.certificatePem]);
  const { createPrivateKey } = await import('node:crypto');
  const clientEncrypted = createPrivateKey(client.keyPem).export({
    type: 'pkcs8',
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase: TEST_KEY_PASSWORD,
  }) as string;

  const write = async (name: string, text: string) => {
    const path = join(dir, name);
    await writeFile(path, text, { mode: 0o600 });
    return path;
  };
  const pair = async (
    name: string,
    issued: { certificatePem: string; keyPem: string },
  ): Promise<TestPair> => ({
    cert: await write(`${name}.crt`, issued.certificatePem),
    key: await write(`${name}.key`, issued.keyPem),
  });
  return {
    dir,
    caCert: await write('ca.crt', ca.certificatePem),
    caKey: await write('ca.key', ca.keyPem),
    server: await pair('server', server),
    client: await pair('client', client),
    clientEncryptedKey: await write('client-encrypted.key', clientEncrypted),
    clientPasswordFile: await write('client-password.txt', `${TEST_KEY_PASSWORD}\n`),
    expiredServer: await pair('expired-server', expiredServer),
    notYetValidServer: await pair('not-yet-valid-server', notYetValidServer),
    wrongHostServer: await pair('wrong-host-server', wrongHostServer),
    ecServer: await pair('ec-server', ecServer),
    untrustedCaCert: await write('untrusted-ca.crt', other.certificatePem),
    untrustedServer: await pair('untrusted-server', untrustedServer),
    untrustedClient: await pair('untrusted-client', untrustedClient),
    revokedClient: await pair('revoked-client', revokedClient),
    revokedServer: await pair('revoked-server', revokedServer),
    crl: await write('ca.crl', crl),
    expiredClient: await pair('expired-client', expiredClient),
  };
}
