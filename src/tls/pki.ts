/**
 * A small development PKI: a CA, server and client certificates and CRLs, made with
 * @peculiar/x509 on Node's WebCrypto. Meant for test rigs and first starts, not for
 * production trust.
 */
import 'reflect-metadata';
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { TlsError } from './errors.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** Key algorithm of a generated key pair. */
export type PkiKeyType = 'rsa' | 'ec';

/** A certification authority: its certificate and signing key, in memory. */
export interface CertificateAuthority {
  certificatePem: string;
  keyPem: string;
}

/** What to put into an issued certificate. */
export interface IssueOptions {
  /** Subject common name. */
  commonName: string;
  /** Client certificate (EKU clientAuth) instead of server (EKU serverAuth). */
  client?: boolean;
  /** Subject alternative names as `DNS:name`, `IP:address` or `URI:uri`. */
  san?: string[];
  /** Validity in days from `notBefore` (default 825). */
  days?: number;
  /** Start of validity (default: one hour ago, to tolerate clock skew). */
  notBefore?: Date;
  /** End of validity (overrides `days`). */
  notAfter?: Date;
  /** RSA 2048 (default) or ECDSA P-256. */
  keyType?: PkiKeyType;
  /** Encrypt the private key (PKCS#8, AES-256-CBC) with this password. */
  passphrase?: string;
}

/** An issued certificate and its private key as PEM text. */
export interface IssuedCertificate {
  certificatePem: string;
  keyPem: string;
  /** Hexadecimal serial number. */
  serialNumber: string;
}

const RSA_ALGORITHM = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};
const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

function generateKeys(keyType: PkiKeyType): Promise<CryptoKeyPair> {
  const algorithm = keyType === 'ec' ? EC_ALGORITHM : RSA_ALGORITHM;
  return webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function exportKeyPem(key: CryptoKey, passphrase?: string): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const keyObject = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  if (passphrase !== undefined)
    return keyObject.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }) as string;
  return keyObject.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** Import a PEM private key (unencrypted) into WebCrypto for signing. */
async function importSigningKey(
  keyPem: string,
): Promise<{ key: CryptoKey; algorithm: typeof RSA_ALGORITHM | typeof EC_ALGORITHM }> {
  const keyObject = createPrivateKey(keyPem);
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  const algorithm = keyObject.asymmetricKeyType === 'ec' ? EC_ALGORITHM : RSA_ALGORITHM;
  const key = await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
  return { key, algorithm };
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  // a positive INTEGER: clear the top bit
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function escapeDn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

function sanNames(san: string[]): x509.JsonGeneralName[] {
  return san.map((entry) => {
    const colon = entry.indexOf(':');
    const type = entry.slice(0, colon).toUpperCase();
    const value = entry.slice(colon + 1);
    if (colon < 1 || value === '')
      throw new TlsError(
        'ERR_TLS_PKI',
        `subject alternative name '${entry}' must look like DNS:name, IP:address or URI:uri`,
      );
    if (type === 'DNS') return { type: 'dns', value };
    if (type === 'IP') return { type: 'ip', value };
    if (type === 'URI') return { type: 'url', value };
    throw new TlsError(
      'ERR_TLS_PKI',
      `subject alternative name type '${type}' is not supported (use DNS, IP or URI)`,
    );
  });
}

/** Create a self-signed CA certificate and key (10 years, RSA 2048 or P-256). */
export async function createCertificateAuthority(
  options: { commonName?: string; keyType?: PkiKeyType; days?: number; notBefore?: Date } = {},
): Promise<CertificateAuthority> {
  const keys = await generateKeys(options.keyType ?? 'rsa');
  const notBefore = options.notBefore ?? new Date(Date.now() - 3600_000);
  const notAfter = new Date(notBefore.getTime() + (options.days ?? 3650) * 86400_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${escapeDn(options.commonName ?? 'dicomnet development CA')}`,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: options.keyType === 'ec' ? EC_ALGORITHM : RSA_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificatePem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

/** Issue a server (default) or client certificate signed by `ca`. */
export async function issueCertificate(
  ca: CertificateAuthority,
  options: IssueOptions,
): Promise<IssuedCertificate> {
  const caCert = new x509.X509Certificate(ca.certificatePem);
  const signer = await importSigningKey(ca.keyPem);
  const keys = await generateKeys(options.keyType ?? 'rsa');
  const notBefore = options.notBefore ?? new Date(Date.now() - 3600_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + (options.days ?? 825) * 86400_000);
  const serialNumber = randomSerial();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      options.keyType === 'ec'
        ? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement
        : x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension([
      options.client ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth,
    ]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (options.san && options.san.length > 0)
    extensions.push(new x509.SubjectAlternativeNameExtension(sanNames(options.san)));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: `CN=${escapeDn(options.commonName)}`,
    issuer: caCert.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: signer.key,
    signingAlgorithm: signer.algorithm,
    extensions,
  });
  return {
    certificatePem: cert.toString('pem'),
    keyPem: await exportKeyPem(keys.privateKey, options.passphrase),
    serialNumber,
  };
}

/** Create a CRL signed by `ca` that revokes the given certificates (PEM) or serial numbers (hex). */
export async function createCrl(
  ca: CertificateAuthority,
  revoked: string[],
  options: { days?: number } = {},
): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certificatePem);
  const signer = await importSigningKey(ca.keyPem);
  const thisUpdate = new Date(Date.now() - 3600_000);
  const crl = await x509.X509CrlGenerator.create({
    issuer: caCert.subject,
    thisUpdate,
    nextUpdate: new Date(thisUpdate.getTime() + (options.days ?? 30) * 86400_000),
    entries: revoked.map((item) => ({
      serialNumber: item.includes('-----BEGIN') ? new X509Certificate(item).serialNumber.toLowerCase() : item,
      revocationDate: thisUpdate,
    })),
    signingKey: signer.key,
    signingAlgorithm: signer.algorithm,
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey)],
  });
  // OpenSSL reads only the `X509 CRL` PEM label
  return crl.toString('pem').replace(/(BEGIN|END) CRL-----/g, '$1 X509 CRL-----');
}

/** SHA-256 fingerprint of a PEM certificate, colon-separated hex. */
export function certificateFingerprint256(certificatePem: string): string {
  return new X509Certificate(certificatePem).fingerprint256;
}

/** Default SANs of a server certificate: localhost, 127.0.0.1 and this host's name. */
export function defaultServerSans(): string[] {
  const sans = ['DNS:localhost', 'IP:127.0.0.1'];
  const host = hostname();
  if (host && host !== 'localhost') sans.push(`DNS:${host}`);
  return sans;
}

async function writeSecret(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

/** Paths of a CA directory made by {@link initCaDirectory}. */
export interface CaDirectory {
  dir: string;
  certificate: string;
  key: string;
  fingerprint256: string;
  /** False when the CA already existed and was reused. */
  created: boolean;
}

/**
 * Make (or reuse) a development CA in `dir`: `ca.crt` and `ca.key` (mode 0600).
 * Never overwrites: an existing `ca.crt` + `ca.key` pair is reused.
 */
export async function initCaDirectory(
  dir: string,
  options: { keyType?: PkiKeyType } = {},
): Promise<CaDirectory> {
  const certificate = join(dir, 'ca.crt');
  const key = join(dir, 'ca.key');
  const hasCert = existsSync(certificate);
  const hasKey = existsSync(key);
  if (hasCert !== hasKey)
    throw new TlsError('ERR_TLS_PKI', `${dir} holds only one of ca.crt and ca.key; refusing to overwrite it`);
  if (hasCert) {
    const pem = await readFile(certificate, 'utf8');
    return { dir, certificate, key, fingerprint256: certificateFingerprint256(pem), created: false };
  }
  await mkdir(dir, { recursive: true });
  const ca = await createCertificateAuthority({ keyType: options.keyType });
  await writeSecret(key, ca.keyPem);
  await writeFile(certificate, ca.certificatePem);
  return {
    dir,
    certificate,
    key,
    fingerprint256: certificateFingerprint256(ca.certificatePem),
    created: true,
  };
}

/** Read `ca.crt` and `ca.key` from a CA directory. */
export async function readCaDirectory(dir: string): Promise<CertificateAuthority> {
  try {
    return {
      certificatePem: await readFile(join(dir, 'ca.crt'), 'utf8'),
      keyPem: await readFile(join(dir, 'ca.key'), 'utf8'),
    };
  } catch (err) {
    throw new TlsError(
      'ERR_TLS_PKI',
      `cannot read the CA in ${dir} (ca.crt, ca.key): ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** Paths of an issued certificate on disk. */
export interface IssuedFiles {
  certificate: string;
  key: string;
  serialNumber: string;
}

/**
 * Issue a certificate with the CA in `caDir` and write `NAME.crt` and `NAME.key`
 * (mode 0600) into `outDir`, NAME being `fileName` or the common name. Refuses to overwrite.
 */
export async function issueCertificateFiles(
  caDir: string,
  outDir: string,
  options: IssueOptions & { fileName?: string },
): Promise<IssuedFiles> {
  const name = options.fileName ?? options.commonName.replace(/[^A-Za-z0-9._-]/g, '_');
  const certificate = join(outDir, `${name}.crt`);
  const key = join(outDir, `${name}.key`);
  for (const path of [certificate, key])
    if (existsSync(path))
      throw new TlsError('ERR_TLS_PKI', `${path} already exists; refusing to overwrite it`);
  const ca = await readCaDirectory(caDir);
  const issued = await issueCertificate(ca, options);
  await mkdir(outDir, { recursive: true });
  await writeSecret(key, issued.keyPem);
  await writeFile(certificate, issued.certificatePem);
  return { certificate, key, serialNumber: issued.serialNumber };
}

/** What {@link createDevelopmentPki} made or found. */
export interface DevelopmentPki {
  dir: string;
  caCertificate: string;
  caKey: string;
  serverCertificate: string;
  serverKey: string;
  clientCertificate: string;
  clientKey: string;
  /** SHA-256 fingerprint of the CA certificate. */
  caFingerprint256: string;
  /** False when everything already existed and was reused. */
  created: boolean;
}

/**
 * Make a development PKI in `dir` on first use: `ca.crt`/`ca.key`, `server.crt`/`server.key`
 * (SAN localhost, 127.0.0.1 and the host name) and `client.crt`/`client.key`.
 * Idempotent: existing files are reused, never overwritten.
 */
export async function createDevelopmentPki(dir: string): Promise<DevelopmentPki> {
  const ca = await initCaDirectory(dir);
  let created = ca.created;
  const paths = {
    serverCertificate: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCertificate: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
  };
  const pairs: { cert: string; key: string; issue: IssueOptions & { fileName: string } }[] = [
    {
      cert: paths.serverCertificate,
      key: paths.serverKey,
      issue: { commonName: 'server', fileName: 'server', san: defaultServerSans() },
    },
    {
      cert: paths.clientCertificate,
      key: paths.clientKey,
      issue: { commonName: 'client', fileName: 'client', client: true },
    },
  ];
  for (const pair of pairs) {
    const hasCert = existsSync(pair.cert);
    if (hasCert !== existsSync(pair.key))
      throw new TlsError(
        'ERR_TLS_PKI',
        `${dir} holds only one of ${pair.cert} and ${pair.key}; remove it or restore its partner (never overwritten)`,
      );
    if (hasCert) continue;
    await issueCertificateFiles(dir, dir, pair.issue);
    created = true;
  }
  return {
    dir,
    caCertificate: ca.certificate,
    caKey: ca.key,
    ...paths,
    caFingerprint256: ca.fingerprint256,
    created,
  };
}
