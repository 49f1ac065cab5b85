/** The TLS layer (PS3.15 Annex B secure transport): see DESIGN.md. */
export { type AcceptedSecureConnection, createSecureAcceptor, type SecureAcceptor } from './acceptor.js';
export { certificateMatchesIdentity, peerCertificateInfo } from './certificate.js';
export { ianaName, opensslName, type SuiteParts, suiteParts } from './cipher-suites.js';
export {
  clearTlsSessionCache,
  type SecureClientOptions,
  type SecureConnection,
  secureClientConnect,
} from './client.js';
export { loadTlsCredentials, type TlsCredentials } from './credentials.js';
export { describeSecureLink, formatSecureLink } from './describe.js';
export { TlsError, type TlsErrorCode } from './errors.js';
export {
  type CertificateAuthority,
  createCertificateAuthority,
  createCrl,
  createDevelopmentPki,
  type DevelopmentPki,
  type IssuedCertificate,
  type IssueOptions,
  initCaDirectory,
  issueCertificate,
  issueCertificateFiles,
  type PkiKeyType,
} from './pki.js';
export {
  DEFAULT_PROFILE,
  getSecurityProfile,
  isSuiteAvailable,
  type ListedSuite,
  listProfileCiphers,
  type ProfileCipherList,
  type ResolvedProfile,
  resolveProfile,
  SECURITY_PROFILES,
  type SecurityProfile,
} from './profiles.js';
export type * from './types.js';
