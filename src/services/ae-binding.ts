/**
 * AE title ↔ certificate identity binding: a calling AE title that is bound to
 * certificate identities is only believed when the association comes over TLS
 * from a peer whose certificate carries one of them (PS3.15 leaves AE titles
 * unauthenticated; this is how a secure node ties them to something that is).
 */
import { certificateMatchesIdentity } from '../tls/certificate.js';
import type { SecureLinkInfo } from '../tls/types.js';

/** Which certificate identities (subject CN or SAN DNS/IP/URI values) may use which calling AE title. */
export type AeTitleBindings = Readonly<Record<string, readonly string[]>>;

/** How a binding check came out. */
export type AeTitleBindingVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Check a calling AE title against `bindings`.
 *
 * - AE title listed: the link must be TLS, the peer must have sent a certificate, and
 *   the certificate must match one of the listed identities ({@link certificateMatchesIdentity}).
 * - AE title not listed: accepted, unless `requireBound` is set.
 *
 * The reason of a refusal names the AE title and what was missing, for the log line.
 */
export function checkAeTitleBinding(
  bindings: AeTitleBindings | undefined,
  callingAet: string,
  secureLink: SecureLinkInfo | undefined,
  requireBound = false,
): AeTitleBindingVerdict {
  const allowed = bindings && Object.hasOwn(bindings, callingAet) ? bindings[callingAet] : undefined;
  if (!allowed) {
    if (!requireBound) return { ok: true };
    return {
      ok: false,
      reason: `calling AE title '${callingAet}' is not bound to any certificate identity and only bound AE titles are accepted`,
    };
  }
  const wanted = `[${allowed.join(', ')}]`;
  if (!secureLink) {
    return {
      ok: false,
      reason: `calling AE title '${callingAet}' is bound to certificate identity ${wanted} but came over plain TCP`,
    };
  }
  const cert = secureLink.peerCertificate;
  if (!cert) {
    return {
      ok: false,
      reason: `calling AE title '${callingAet}' is bound to certificate identity ${wanted} but the peer sent no certificate`,
    };
  }
  if (certificateMatchesIdentity(cert, [...allowed])) return { ok: true };
  const seen = [cert.commonName ? `CN=${cert.commonName}` : cert.subject, ...cert.san].join(', ');
  return {
    ok: false,
    reason: `calling AE title '${callingAet}' is bound to certificate identity ${wanted} but the peer certificate is ${seen}`,
  };
}
