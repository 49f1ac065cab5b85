/**
 * Public types of the TLS layer (PS3.15 Annex B secure transport). These are the
 * contract the network layer and the API are written against.
 */

/** PS3.15 Annex B secure transport connection profiles (see DESIGN.md). */
export type SecurityProfileName =
  'bcp195-rfc8996' | 'bcp195-rfc8996-mod' | 'bcp195-nd' | 'bcp195' | 'bcp195-ex' | 'aes' | 'basic' | 'null';

/** Key material: a file path, PEM text (string starting with `-----BEGIN`) or raw bytes (PEM or DER). */
export type KeyMaterial = string | Buffer;

/** Passed to {@link TlsOptions.onPrivateKeyPassword}: which key needs a password (LDicomNet `OnPrivateKeyPassword`). */
export interface PrivateKeyPasswordInfo {
  /** The file the encrypted key or PKCS#12 bundle came from, when it came from a file. */
  file?: string;
  /** `key` for an encrypted PEM/DER private key, `pfx` for a PKCS#12 bundle. */
  kind: 'key' | 'pfx';
}

/** TLS settings of a requestor (client) or acceptor (server). Absent = plain TCP. */
export interface TlsOptions {
  /** Private key (PEM PKCS#1/PKCS#8/encrypted PKCS#8/legacy encrypted PEM, or DER). */
  key?: KeyMaterial;
  /** Certificate, or chain (leaf first). */
  cert?: KeyMaterial | KeyMaterial[];
  /** PKCS#12 bundle holding key and certificate chain. */
  pfx?: KeyMaterial;
  /** Password of an encrypted key or PKCS#12 bundle. Never logged. */
  passphrase?: string;
  /** Asked when a key is encrypted and no `passphrase` was given (sync or async). */
  onPrivateKeyPassword?: (info: PrivateKeyPasswordInfo) => string | Promise<string>;
  /** Trust anchors: CA certificate files, directories of them, or PEM/DER content. */
  ca?: KeyMaterial | KeyMaterial[];
  /** Certificate revocation lists (PEM or DER). */
  crl?: KeyMaterial | KeyMaterial[];
  /** Acceptor: require and verify a client certificate (mutual authentication). */
  requirePeerCertificate?: boolean;
  /** Security profile; default `bcp195-rfc8996`. Retired profiles log a warning. */
  profile?: SecurityProfileName;
  /** Extra OpenSSL cipher list on top of the profile, checked against its rules. */
  ciphers?: string;
  /** Lowest TLS version, within the profile's range. */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Requestor: expected server name for SNI and verification (default: the host connected to). */
  servername?: string;
  /** Requestor: verify the server's host name/IP against its certificate (default true; false warns). */
  checkServerIdentity?: boolean;
  /** Requestor: reuse TLS sessions for fast re-association (default true). */
  sessionResumption?: boolean;
}

/** The peer certificate as seen after the handshake. */
export interface PeerCertificateInfo {
  subject: string;
  issuer: string;
  /** Subject alternative names, e.g. `DNS:localhost`, `IP Address:127.0.0.1`. */
  san: string[];
  validFrom: Date;
  validTo: Date;
  /** SHA-256 fingerprint, colon-separated hex (as OpenSSL prints it). */
  fingerprint256: string;
  serialNumber: string;
  /** Subject common name, when it has one. */
  commonName?: string;
}

/**
 * What was negotiated on a secure link (LDicomNet `GetCiphersuiteTLS`,
 * `GetEncryptionAlgorithmTLS`, `GetIntegrityAlgorithmTLS`, and more).
 */
export interface SecureLinkInfo {
  /** `TLSv1.2` or `TLSv1.3`. */
  protocol: string;
  /** IANA cipher suite name, e.g. `TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`. */
  cipherSuite: string;
  /** Bulk encryption, e.g. `AES-256-GCM`, `CHACHA20-POLY1305`, `3DES-EDE-CBC`, `NULL`. */
  encryption: string;
  /** Integrity: `AEAD` for GCM/CCM/ChaCha20-Poly1305, else the MAC hash (`SHA1`, `SHA256`, `SHA384`). */
  integrity: string;
  /** Key exchange: `ECDHE`, `DHE` or `RSA` (TLS 1.3: the group, e.g. `ECDHE (X25519)`). */
  keyExchange: string;
  /** The profile this side enforced. */
  profile: SecurityProfileName;
  /** The peer's certificate, when it presented one. */
  peerCertificate?: PeerCertificateInfo;
  /** True when the TLS session was resumed. */
  resumed: boolean;
}
