import { DicomnetError, type KindedError } from '../errors.js';
import type { PeerCertificateInfo } from './types.js';

/** Stable codes of {@link TlsError}. */
export type TlsErrorCode =
  | 'ERR_TLS_KEY_PASSWORD'
  | 'ERR_TLS_KEY_MISMATCH'
  | 'ERR_TLS_KEY_FORMAT'
  | 'ERR_TLS_CERT_FORMAT'
  | 'ERR_TLS_CRL_FORMAT'
  | 'ERR_TLS_FILE'
  | 'ERR_TLS_MISSING_CREDENTIALS'
  | 'ERR_TLS_KEY_TOO_SMALL'
  | 'ERR_TLS_PROFILE_VIOLATION'
  | 'ERR_TLS_PROFILE_UNAVAILABLE'
  | 'ERR_TLS_UNKNOWN_CIPHER'
  | 'ERR_TLS_UNTRUSTED_ISSUER'
  | 'ERR_TLS_CERT_EXPIRED'
  | 'ERR_TLS_CERT_NOT_YET_VALID'
  | 'ERR_TLS_HOSTNAME_MISMATCH'
  | 'ERR_TLS_CERT_REVOKED'
  | 'ERR_TLS_CERT_INVALID'
  | 'ERR_TLS_PEER_CERT_REQUIRED'
  | 'ERR_TLS_NO_SHARED_CIPHER'
  | 'ERR_TLS_NOT_TLS'
  | 'ERR_TLS_PLAINTEXT_ON_TLS_PORT'
  | 'ERR_TLS_HANDSHAKE_TIMEOUT'
  | 'ERR_TLS_HANDSHAKE'
  | 'ERR_TLS_PKI';

/** A TLS handshake, certificate, key or profile failure (CLI exit code 4). */
export class TlsError extends DicomnetError implements KindedError {
  readonly kind = 'tls' as const;
  declare readonly code: TlsErrorCode;
  /** The certificate the peer presented, when a verification failure is about it (for the audit trail). */
  peerCertificate?: PeerCertificateInfo;

  constructor(code: TlsErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
