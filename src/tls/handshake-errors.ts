/**
 * Turning OpenSSL/Node handshake and verification failures into {@link TlsError}s
 * whose messages name the cause.
 */
import type { X509Certificate } from 'node:crypto';
import { TlsError } from './errors.js';

function dn(s: string): string {
  return s
    .split('\n')
    .filter((x) => x !== '')
    .join(', ');
}

function iso(date: string): string {
  const d = new Date(date);
  return Number.isNaN(d.getTime()) ? date : d.toISOString();
}

/**
 * `, issuer SHA-256 …` when the peer sent its issuer (development CAs all share one name: the
 * fingerprint tells which one it is), else the certificate's own fingerprint.
 */
function issuerFingerprint(cert: X509Certificate | undefined): string {
  if (!cert) return '';
  const issuer = cert.issuerCertificate;
  if (issuer && issuer.fingerprint256 !== cert.fingerprint256)
    return `, issuer SHA-256 ${issuer.fingerprint256}`;
  return `, certificate SHA-256 ${cert.fingerprint256}`;
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * Map a certificate verification result (Node's `authorizationError` code, an
 * OpenSSL `X509_V_ERR_*` name without prefix) to a TlsError. `who` is `peer`,
 * `server` or `client`.
 */
export function verificationError(code: string, cert: X509Certificate | undefined, who = 'peer'): TlsError {
  const subject = cert ? dn(cert.subject) : 'unknown subject';
  if (code === 'CERT_HAS_EXPIRED')
    return new TlsError(
      'ERR_TLS_CERT_EXPIRED',
      `TLS: ${who} certificate has expired (notAfter ${cert ? iso(cert.validTo) : '?'}; ${subject})`,
    );
  if (code === 'CERT_NOT_YET_VALID')
    return new TlsError(
      'ERR_TLS_CERT_NOT_YET_VALID',
      `TLS: ${who} certificate is not yet valid (notBefore ${cert ? iso(cert.validFrom) : '?'}; ${subject})`,
    );
  if (UNTRUSTED.has(code))
    return new TlsError(
      'ERR_TLS_UNTRUSTED_ISSUER',
      `TLS: ${who} certificate issuer is not trusted (${subject}, issuer ${cert ? dn(cert.issuer) : '?'}${issuerFingerprint(cert)}; ${code})`,
    );
  if (code === 'CERT_REVOKED')
    return new TlsError(
      'ERR_TLS_CERT_REVOKED',
      `TLS: ${who} certificate has been revoked (${subject}, serial ${cert?.serialNumber ?? '?'})`,
    );
  if (code === 'UNABLE_TO_GET_CRL')
    return new TlsError(
      'ERR_TLS_CERT_INVALID',
      `TLS: no CRL for the issuer of the ${who} certificate (${subject}); give one CRL per CA when CRLs are used`,
    );
  if (code === 'CRL_HAS_EXPIRED' || code === 'CRL_NOT_YET_VALID')
    return new TlsError(
      'ERR_TLS_CERT_INVALID',
      `TLS: the CRL for the ${who} certificate is out of date (${code})`,
    );
  return new TlsError('ERR_TLS_CERT_INVALID', `TLS: ${who} certificate rejected: ${code} (${subject})`);
}

/** Where a handshake ran, for messages. */
export interface HandshakeContext {
  side: 'client' | 'server';
  /** `host:port` of the peer. */
  peer: string;
}

function reasonOf(err: Error & { code?: string; reason?: string }): string {
  return err.reason ?? err.message.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/i, '');
}

/** Map an error emitted during a handshake to a TlsError naming the cause. */
export function handshakeError(err: unknown, ctx: HandshakeContext): TlsError {
  if (err instanceof TlsError) return err;
  const e = (err instanceof Error ? err : new Error(String(err))) as Error & {
    code?: string;
    reason?: string;
  };
  const text = `${e.code ?? ''} ${e.message}`;
  const reason = reasonOf(e);
  if (e.code === 'ERR_TLS_HANDSHAKE_TIMEOUT')
    return new TlsError('ERR_TLS_HANDSHAKE_TIMEOUT', `TLS: handshake with ${ctx.peer} timed out`, {
      cause: err,
    });
  if (
    /WRONG_VERSION_NUMBER|wrong version number|PACKET_LENGTH_TOO_LONG|packet length too long|UNKNOWN_PROTOCOL|HTTP_REQUEST|record layer failure|RECORD_LAYER_FAILURE/i.test(
      text,
    )
  )
    return new TlsError(
      'ERR_TLS_NOT_TLS',
      ctx.side === 'client'
        ? `TLS: peer at ${ctx.peer} does not speak TLS (is this a plain DICOM port?)`
        : `TLS: client ${ctx.peer} does not speak TLS`,
      { cause: err },
    );
  if (
    /CERTIFICATE_REQUIRED|certificate required|PEER_DID_NOT_RETURN_A_CERTIFICATE|peer did not return a certificate/i.test(
      text,
    )
  )
    return new TlsError(
      'ERR_TLS_PEER_CERT_REQUIRED',
      ctx.side === 'client'
        ? 'TLS: server requires a client certificate'
        : `TLS: client ${ctx.peer} sent no certificate, but one is required`,
      { cause: err },
    );
  if (
    /NO_SHARED_CIPHER|no shared cipher|NO_CIPHERS_AVAILABLE|no ciphers available|UNSUPPORTED_PROTOCOL|unsupported protocol|PROTOCOL_VERSION|protocol version|VERSION_TOO_LOW|NO_PROTOCOLS_AVAILABLE|INSUFFICIENT_SECURITY|insufficient security|HANDSHAKE_FAILURE|handshake failure/i.test(
      text,
    )
  )
    return new TlsError(
      'ERR_TLS_NO_SHARED_CIPHER',
      `TLS: no protocol version or cipher suite in common with ${ctx.peer} (OpenSSL: ${reason}); check both sides' --profile`,
      { cause: err },
    );
  if (/ALERT_UNKNOWN_CA|unknown ca|ALERT_BAD_CERTIFICATE|bad certificate|UNSUPPORTED_CERTIFICATE/i.test(text))
    return new TlsError(
      'ERR_TLS_UNTRUSTED_ISSUER',
      `TLS: ${ctx.peer} rejected our certificate (OpenSSL: ${reason}): it does not trust our issuer`,
      { cause: err },
    );
  if (/CERTIFICATE_EXPIRED|certificate expired/i.test(text))
    return new TlsError(
      'ERR_TLS_CERT_EXPIRED',
      `TLS: ${ctx.peer} rejected our certificate as expired (OpenSSL: ${reason})`,
      {
        cause: err,
      },
    );
  if (/CERTIFICATE_REVOKED|certificate revoked/i.test(text))
    return new TlsError(
      'ERR_TLS_CERT_REVOKED',
      `TLS: ${ctx.peer} rejected our certificate as revoked (OpenSSL: ${reason})`,
      {
        cause: err,
      },
    );
  if (e.code === 'ECONNRESET' || e.code === 'EPIPE' || /socket disconnected|socket hang up/i.test(e.message))
    return new TlsError(
      'ERR_TLS_HANDSHAKE',
      ctx.side === 'client'
        ? `TLS: ${ctx.peer} closed the connection during the TLS handshake (it may require, or have rejected, our client certificate; see its log)`
        : `TLS: client ${ctx.peer} closed the connection during the TLS handshake`,
      { cause: err },
    );
  return new TlsError('ERR_TLS_HANDSHAKE', `TLS: handshake with ${ctx.peer} failed: ${reason}`, {
    cause: err,
  });
}
