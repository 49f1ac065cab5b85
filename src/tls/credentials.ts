/**
 * Loading key material: private keys (PEM PKCS#1/PKCS#8/SEC1, encrypted PKCS#8,
 * legacy `Proc-Type: 4,ENCRYPTED` PEM, DER), certificates and chains (PEM or DER),
 * CA files and directories, CRLs and PKCS#12 bundles. Passwords come from
 * `passphrase` or `onPrivateKeyPassword`; nothing ever prompts on a terminal.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { inspect } from 'node:util';
import type { Logger } from '../log.js';
import { TlsError } from './errors.js';
import type { KeyMaterial, PrivateKeyPasswordInfo, TlsOptions } from './types.js';

/** Resolved key material, ready for `tls.createSecureContext`. Secrets are hidden from logs and `inspect`. */
export interface TlsCredentials {
  /** Decrypted private key as unencrypted PKCS#8 PEM (in memory only). */
  key?: string;
  keyObject?: KeyObject;
  /** Certificate chain as PEM, leaf first. */
  cert?: string;
  /** The leaf certificate. */
  certificate?: X509Certificate;
  /** PKCS#12 bundle and its password. */
  pfx?: Buffer;
  pfxPassphrase?: string;
  /** Trust anchors as PEM certificates; undefined = none given. */
  ca?: string[];
  /** CRLs as PEM. */
  crl?: string[];
  /** Where things came from, for messages: file paths or `<inline>`. */
  sources: { key?: string; cert?: string; pfx?: string; ca: string[]; crl: string[] };
}

const PEM_CERT =
  /-----BEGIN (?:X509 |TRUSTED )?CERTIFICATE-----[\s\S]+?-----END (?:X509 |TRUSTED )?CERTIFICATE-----/g;
const PEM_CRL = /-----BEGIN (?:X509 )?CRL-----[\s\S]+?-----END (?:X509 )?CRL-----/g;
const PEM_KEY = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/;

interface LoadedMaterial {
  data: Buffer;
  /** A file path, or `<inline>` for content given directly. */
  source: string;
  file?: string;
}

function isPemText(s: string): boolean {
  return s.trimStart().startsWith('-----BEGIN');
}

function readMaterial(material: KeyMaterial, what: string): LoadedMaterial {
  if (Buffer.isBuffer(material)) return { data: material, source: `<inline ${what}>` };
  if (isPemText(material)) return { data: Buffer.from(material), source: `<inline ${what}>` };
  try {
    return { data: readFileSync(material), source: material, file: material };
  } catch (err) {
    throw new TlsError(
      'ERR_TLS_FILE',
      `TLS: cannot read ${what} file ${material}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

function looksPem(data: Buffer): boolean {
  return data.toString('latin1', 0, Math.min(data.length, 4096)).includes('-----BEGIN');
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Parse one or more certificates (PEM, possibly many, or one DER) into PEM blocks. */
function parseCertificates(m: LoadedMaterial, what: string): X509Certificate[] {
  try {
    if (looksPem(m.data)) {
      const blocks = m.data.toString('latin1').match(PEM_CERT) ?? [];
      if (blocks.length === 0) throw new Error('no PEM CERTIFICATE block');
      return blocks.map((b) => new X509Certificate(b.replace(/(X509 |TRUSTED )CERTIFICATE/g, 'CERTIFICATE')));
    }
    return [new X509Certificate(m.data)];
  } catch (err) {
    throw new TlsError(
      'ERR_TLS_CERT_FORMAT',
      `TLS: ${what} ${m.source} is not a PEM or DER certificate: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

function parseCrls(m: LoadedMaterial): string[] {
  if (looksPem(m.data)) {
    const blocks = m.data.toString('latin1').match(PEM_CRL) ?? [];
    if (blocks.length === 0)
      throw new TlsError('ERR_TLS_CRL_FORMAT', `TLS: CRL ${m.source} holds no PEM 'X509 CRL' block`);
    return blocks.map((b) => b.replace(/(BEGIN|END) CRL-----/g, '$1 X509 CRL-----'));
  }
  // DER: a SEQUENCE; OpenSSL checks the rest when the context is built
  if (m.data[0] !== 0x30)
    throw new TlsError('ERR_TLS_CRL_FORMAT', `TLS: CRL ${m.source} is neither PEM nor DER`);
  return [toPem('X509 CRL', m.data)];
}

function asList<T>(v: T | T[] | undefined): T[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** Read every certificate in a directory (files that do not parse as certificates are skipped). */
function readCaDirectory(dir: string, log?: Logger): { certs: X509Certificate[]; files: string[] } {
  const certs: X509Certificate[] = [];
  const files: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    try {
      if (!statSync(path).isFile()) continue;
      const found = parseCertificates(
        { data: readFileSync(path), source: path, file: path },
        'CA certificate',
      );
      certs.push(...found);
      files.push(path);
    } catch {
      log?.debug({ file: path }, 'TLS: skipping non-certificate file in CA directory');
    }
  }
  return { certs, files };
}

function loadCa(ca: TlsOptions['ca'], log?: Logger): { pems: string[]; sources: string[] } | undefined {
  if (ca === undefined) return undefined;
  const pems: string[] = [];
  const sources: string[] = [];
  for (const item of asList(ca)) {
    if (typeof item === 'string' && !isPemText(item)) {
      let isDir = false;
      try {
        isDir = statSync(item).isDirectory();
      } catch (err) {
        throw new TlsError(
          'ERR_TLS_FILE',
          `TLS: cannot read CA certificate file ${item}: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      if (isDir) {
        const { certs, files } = readCaDirectory(item, log);
        if (certs.length === 0)
          throw new TlsError('ERR_TLS_CERT_FORMAT', `TLS: CA directory ${item} holds no certificate files`);
        pems.push(...certs.map((c) => c.toString()));
        sources.push(...files);
        continue;
      }
    }
    const m = readMaterial(item, 'CA certificate');
    pems.push(...parseCertificates(m, 'CA certificate').map((c) => c.toString()));
    sources.push(m.source);
  }
  return { pems, sources };
}

/** DER encrypted PKCS#8 (`EncryptedPrivateKeyInfo`): PBES2 or a PKCS#12 PBE algorithm OID near the start. */
function looksEncryptedDer(data: Buffer): boolean {
  const head = data.subarray(0, 40);
  const pbes2 = Buffer.from('06092a864886f70d01050d', 'hex');
  const pkcs12Pbe = Buffer.from('2a864886f70d010c01', 'hex');
  return head.includes(pbes2) || head.includes(pkcs12Pbe);
}

function isPasswordError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    /BAD_DECRYPT|MISSING_PASSPHRASE|bad decrypt|mac verify|maybe wrong password|INTERRUPTED_OR_CANCELLED/i.test(
      `${e.code ?? ''} ${e.message ?? ''}`,
    ) || /unsupported/i.test(e.message ?? '')
  );
}

async function askPassword(opts: TlsOptions, info: PrivateKeyPasswordInfo, source: string): Promise<string> {
  if (opts.passphrase !== undefined) return opts.passphrase;
  if (!opts.onPrivateKeyPassword)
    throw new TlsError(
      'ERR_TLS_KEY_PASSWORD',
      `TLS: ${info.kind === 'pfx' ? 'PKCS#12 bundle' : 'private key'} ${source} is encrypted and no password was given (passphrase or onPrivateKeyPassword)`,
    );
  try {
    const password = await opts.onPrivateKeyPassword(info);
    if (typeof password !== 'string') throw new TypeError('onPrivateKeyPassword must return a string');
    return password;
  } catch (err) {
    throw new TlsError(
      'ERR_TLS_KEY_PASSWORD',
      `TLS: no password for ${source}: onPrivateKeyPassword failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

async function loadPrivateKey(opts: TlsOptions, m: LoadedMaterial): Promise<KeyObject> {
  const info: PrivateKeyPasswordInfo = m.file ? { file: m.file, kind: 'key' } : { kind: 'key' };
  const wrongPassword = (err: unknown) =>
    new TlsError('ERR_TLS_KEY_PASSWORD', `TLS: wrong password for private key ${m.source}`, { cause: err });
  if (looksPem(m.data)) {
    const text = m.data.toString('latin1');
    const block = PEM_KEY.exec(text)?.[0];
    if (!block) throw new TlsError('ERR_TLS_KEY_FORMAT', `TLS: ${m.source} holds no PEM private key`);
    const encrypted = block.includes('ENCRYPTED PRIVATE KEY') || /Proc-Type:\s*4,ENCRYPTED/.test(block);
    if (!encrypted) {
      try {
        return createPrivateKey({ key: block, format: 'pem' });
      } catch (err) {
        throw new TlsError(
          'ERR_TLS_KEY_FORMAT',
          `TLS: cannot read private key ${m.source}: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
    }
    const passphrase = await askPassword(opts, info, m.source);
    try {
      return createPrivateKey({ key: block, format: 'pem', passphrase });
    } catch (err) {
      // a wrong password on legacy PEM can also surface as garbage ASN.1
      throw wrongPassword(err);
    }
  }
  if (looksEncryptedDer(m.data)) {
    const passphrase = await askPassword(opts, info, m.source);
    try {
      return createPrivateKey({ key: m.data, format: 'der', type: 'pkcs8', passphrase });
    } catch (err) {
      throw wrongPassword(err);
    }
  }
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      return createPrivateKey({ key: m.data, format: 'der', type });
    } catch {
      // try the next DER structure
    }
  }
  throw new TlsError(
    'ERR_TLS_KEY_FORMAT',
    `TLS: ${m.source} is not a PEM or DER private key (PKCS#1, PKCS#8 or SEC1)`,
  );
}

async function loadPfx(opts: TlsOptions, m: LoadedMaterial): Promise<string> {
  const tryOpen = (passphrase: string): unknown => {
    try {
      createSecureContext({ pfx: m.data, passphrase });
      return undefined;
    } catch (err) {
      return err;
    }
  };
  const notPfx = (err: unknown) =>
    new TlsError(
      'ERR_TLS_KEY_FORMAT',
      `TLS: cannot read PKCS#12 bundle ${m.source}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  if (opts.passphrase === undefined) {
    const err = tryOpen('');
    if (err === undefined) return '';
    if (!isPasswordError(err)) throw notPfx(err);
  }
  const info: PrivateKeyPasswordInfo = m.file ? { file: m.file, kind: 'pfx' } : { kind: 'pfx' };
  const passphrase = await askPassword(opts, info, m.source);
  const err = tryOpen(passphrase);
  if (err === undefined) return passphrase;
  if (isPasswordError(err))
    throw new TlsError('ERR_TLS_KEY_PASSWORD', `TLS: wrong password for PKCS#12 bundle ${m.source}`, {
      cause: err,
    });
  throw notPfx(err);
}

function hideSecrets(creds: TlsCredentials): TlsCredentials {
  const redacted = () => ({
    ...creds,
    key: creds.key ? '[redacted]' : undefined,
    keyObject: creds.keyObject ? '[redacted]' : undefined,
    pfx: creds.pfx ? '[redacted]' : undefined,
    pfxPassphrase: creds.pfxPassphrase !== undefined ? '[redacted]' : undefined,
  });
  Object.defineProperty(creds, 'toJSON', { value: redacted, enumerable: false });
  Object.defineProperty(creds, inspect.custom, { value: () => redacted(), enumerable: false });
  return creds;
}

/**
 * Resolve {@link TlsOptions} key material: read files (a string is a path unless it
 * starts with `-----BEGIN`), convert DER to PEM, expand CA directories, decrypt
 * encrypted keys with `passphrase` / `onPrivateKeyPassword` and check that key and
 * certificate belong together.
 *
 * @throws TlsError `ERR_TLS_KEY_PASSWORD` (missing or wrong password, naming the file),
 *   `ERR_TLS_KEY_MISMATCH` (naming both files), `ERR_TLS_FILE`, `ERR_TLS_KEY_FORMAT`,
 *   `ERR_TLS_CERT_FORMAT`, `ERR_TLS_CRL_FORMAT`.
 */
export async function loadTlsCredentials(opts: TlsOptions, log?: Logger): Promise<TlsCredentials> {
  const creds: TlsCredentials = { sources: { ca: [], crl: [] } };
  if (opts.pfx !== undefined) {
    const m = readMaterial(opts.pfx, 'PKCS#12');
    creds.pfx = m.data;
    creds.pfxPassphrase = await loadPfx(opts, m);
    creds.sources.pfx = m.source;
  }
  const certMaterial = asList(opts.cert);
  if (certMaterial.length > 0) {
    const chain: X509Certificate[] = [];
    const sources: string[] = [];
    for (const item of certMaterial) {
      const m = readMaterial(item, 'certificate');
      chain.push(...parseCertificates(m, 'certificate'));
      sources.push(m.source);
    }
    creds.certificate = chain[0];
    creds.cert = chain.map((c) => c.toString()).join('');
    creds.sources.cert = sources.join(', ');
  }
  if (opts.key !== undefined) {
    const m = readMaterial(opts.key, 'private key');
    creds.keyObject = await loadPrivateKey(opts, m);
    creds.key = creds.keyObject.export({ type: 'pkcs8', format: 'pem' }) as string;
    creds.sources.key = m.source;
  }
  if (creds.keyObject && !creds.certificate)
    throw new TlsError(
      'ERR_TLS_MISSING_CREDENTIALS',
      `TLS: private key ${creds.sources.key} given without a certificate`,
    );
  if (creds.certificate && !creds.keyObject)
    throw new TlsError(
      'ERR_TLS_MISSING_CREDENTIALS',
      `TLS: certificate ${creds.sources.cert} given without a private key`,
    );
  if (creds.certificate && creds.keyObject && !creds.certificate.checkPrivateKey(creds.keyObject))
    throw new TlsError(
      'ERR_TLS_KEY_MISMATCH',
      `TLS: private key ${creds.sources.key} does not match certificate ${creds.sources.cert}`,
    );
  const ca = loadCa(opts.ca, log);
  if (ca) {
    creds.ca = ca.pems;
    creds.sources.ca = ca.sources;
  }
  const crlItems = asList(opts.crl);
  if (crlItems.length > 0) {
    creds.crl = [];
    for (const item of crlItems) {
      const m = readMaterial(item, 'CRL');
      creds.crl.push(...parseCrls(m));
      creds.sources.crl.push(m.source);
    }
  }
  log?.debug(
    {
      key: creds.sources.key,
      cert: creds.sources.cert,
      pfx: creds.sources.pfx,
      ca: creds.sources.ca,
      crl: creds.sources.crl,
    },
    'TLS: credentials loaded',
  );
  return hideSecrets(creds);
}
