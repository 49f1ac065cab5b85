/** What a finished handshake negotiated, as {@link SecureLinkInfo} (LDicomNet `GetCiphersuiteTLS` & co). */
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { peerCertificateInfo } from './certificate.js';
import { ianaName, suiteParts } from './cipher-suites.js';
import type { SecureLinkInfo, SecurityProfileName } from './types.js';

function keyExchangeOf(socket: TLSSocket, protocol: string, suiteKeyExchange: string): string {
  if (protocol === 'TLSv1.3') {
    const eph = socket.getEphemeralKeyInfo();
    if (eph && 'type' in eph && eph.type) {
      const kind = eph.type === 'ECDH' ? 'ECDHE' : eph.type === 'DH' ? 'DHE' : eph.type;
      return 'name' in eph && eph.name ? `${kind} (${eph.name})` : kind;
    }
    return 'ECDHE';
  }
  return suiteKeyExchange;
}

/**
 * Describe the negotiated parameters of a connected TLS socket. The TLS 1.3 key exchange
 * group (`ECDHE (X25519)`) is known on the client side only (Node reports ephemeral keys
 * to clients); an acceptor reports `ECDHE`.
 */
export function describeSecureLink(
  socket: TLSSocket,
  profile: SecurityProfileName,
  /** The peer certificate when the socket no longer has it (resumed sessions). */
  peerCertificate?: X509Certificate,
): SecureLinkInfo {
  const cipher = socket.getCipher();
  const protocol = socket.getProtocol() ?? cipher.version;
  const cipherSuite = cipher.standardName || ianaName(cipher.name) || cipher.name;
  const parts = suiteParts(cipherSuite);
  const info: SecureLinkInfo = {
    protocol,
    cipherSuite,
    encryption: parts.encryption,
    integrity: parts.integrity,
    keyExchange: keyExchangeOf(socket, protocol, parts.keyExchange),
    profile,
    resumed: socket.isSessionReused(),
  };
  const peer = socket.getPeerX509Certificate() ?? peerCertificate;
  if (peer) info.peerCertificate = peerCertificateInfo(peer);
  return info;
}

/** One line for logs and the CLI, e.g. `TLSv1.3 TLS_AES_256_GCM_SHA384 (AES-256-GCM, AEAD, ECDHE (X25519)) profile bcp195-rfc8996, peer CN=server`. */
export function formatSecureLink(info: SecureLinkInfo): string {
  const peer = info.peerCertificate
    ? `peer ${info.peerCertificate.subject} (issuer ${info.peerCertificate.issuer}, valid to ${info.peerCertificate.validTo.toISOString()})`
    : 'no peer certificate';
  return `${info.protocol} ${info.cipherSuite} (${info.encryption}, ${info.integrity}, ${info.keyExchange}) profile ${info.profile}${info.resumed ? ', resumed' : ''}, ${peer}`;
}
