/** Building OpenSSL secure contexts from resolved credentials and a resolved profile. */
import { constants } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { TlsCredentials } from './credentials.js';
import { TlsError } from './errors.js';
import type { ResolvedProfile } from './profiles.js';

/** Options for Node's secure contexts. */
export type ContextOptions = SecureContextOptions;

/** Options for `tls.createSecureContext` / `tls.Server#setSecureContext`. */
export function secureContextOptions(creds: TlsCredentials, resolved: ResolvedProfile): ContextOptions {
  const options: ContextOptions = {
    // Node has no `ciphersuites` option: TLS 1.3 suites (TLS_*) go into `ciphers` and it splits them
    ciphers: [resolved.ciphersuites, resolved.ciphers].filter((s) => s !== '').join(':'),
    minVersion: resolved.minVersion,
    maxVersion: resolved.maxVersion,
    honorCipherOrder: true,
    // DHE suites (bcp195-nd, bcp195) need DH parameters; 'auto' picks well-known groups
    dhparam: 'auto',
    // TLS 1.2 renegotiation, either side: each one costs the server a full handshake, and our
    // acceptor builds its TLSSocket itself, so Node's own renegotiation limit never applies.
    // DICOM peers have no need for it; TLS 1.3 has none.
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
  };
  if (creds.key && creds.cert) {
    options.key = creds.key;
    options.cert = creds.cert;
  }
  if (creds.pfx) {
    options.pfx = creds.pfx;
    options.passphrase = creds.pfxPassphrase;
  }
  if (creds.ca) options.ca = creds.ca;
  if (creds.crl) options.crl = creds.crl;
  return options;
}

/** Create a secure context (`extra`: e.g. server session settings); OpenSSL failures become a TlsError naming the inputs. */
export function buildSecureContext(
  creds: TlsCredentials,
  resolved: ResolvedProfile,
  extra: ContextOptions = {},
): SecureContext {
  try {
    return createSecureContext({ ...secureContextOptions(creds, resolved), ...extra });
  } catch (err) {
    const message = (err as Error).message;
    const what = /crl/i.test(message)
      ? `CRL ${creds.sources.crl.join(', ')}`
      : /ca|x509|cert/i.test(message)
        ? `certificates (${[creds.sources.cert, ...creds.sources.ca].filter(Boolean).join(', ')})`
        : 'TLS settings';
    throw new TlsError(
      /crl/i.test(message) ? 'ERR_TLS_CRL_FORMAT' : 'ERR_TLS_HANDSHAKE',
      `TLS: cannot use ${what}: ${message}`,
      {
        cause: err,
      },
    );
  }
}
