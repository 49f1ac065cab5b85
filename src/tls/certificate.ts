/**
 * Peer certificates as plain data, and binding a certificate to an identity
 * (AE title, host name) for access control.
 */
import type { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { PeerCertificateInfo } from './types.js';

/** `CN=a\nO=b` (Node's multi-line DN) → `CN=a, O=b`. */
function oneLineDn(dn: string): string {
  return dn
    .split('\n')
    .filter((s) => s !== '')
    .join(', ');
}

function commonNameOf(dn: string): string | undefined {
  for (const line of dn.split('\n')) if (line.startsWith('CN=')) return line.slice(3);
  return undefined;
}

/** Split Node's `subjectAltName` (`DNS:a, IP Address:1.2.3.4, URI:x`) into entries. */
export function splitSubjectAltName(san: string | undefined): string[] {
  if (!san) return [];
  // entries are separated by ", "; quoted values (JSON strings) may contain commas
  const out: string[] = [];
  const re = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  let match: RegExpExecArray | null = re.exec(san);
  while (match !== null && match[0] !== '') {
    const value = match[2]?.startsWith('"') ? (JSON.parse(match[2]) as string) : (match[2] ?? '');
    out.push(`${match[1]}:${value}`);
    match = re.exec(san);
  }
  return out;
}

/** Plain-data view of a certificate (subject, issuer, SANs, validity, fingerprint). */
export function peerCertificateInfo(cert: X509Certificate): PeerCertificateInfo {
  const info: PeerCertificateInfo = {
    subject: oneLineDn(cert.subject),
    issuer: oneLineDn(cert.issuer),
    san: splitSubjectAltName(cert.subjectAltName),
    validFrom: new Date(cert.validFrom),
    validTo: new Date(cert.validTo),
    fingerprint256: cert.fingerprint256,
    serialNumber: cert.serialNumber,
  };
  const cn = commonNameOf(cert.subject);
  if (cn !== undefined) info.commonName = cn;
  return info;
}

function normalizeIp(value: string): string {
  return value.toLowerCase().replace(/^\[|\]$/g, '');
}

/** DNS wildcard match: `*` only as the whole left-most label, matching exactly one label. */
function dnsMatches(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '');
  const n = name.toLowerCase().replace(/\.$/, '');
  if (!p.startsWith('*.')) return p === n;
  const suffix = p.slice(1); // ".example.org"
  if (!n.endsWith(suffix)) return false;
  const label = n.slice(0, n.length - suffix.length);
  return label.length > 0 && !label.includes('.') && suffix.split('.').length > 2;
}

/**
 * Does the certificate's identity equal one of `allowed`? Compares (1) the subject
 * common name, exactly and case-sensitively (AE titles are case-sensitive), and
 * (2) every SAN: `DNS` names case-insensitively, where a SAN of the form `*.example.org`
 * matches exactly one left-most label (`a.example.org`, not `example.org` nor
 * `a.b.example.org`; never `*` alone or `*.org`); `IP Address` by address (IPv6 any
 * notation Node prints); `URI` exactly. Entries of `allowed` are plain values
 * (`STORESCU`, `host.example.org`, `127.0.0.1`, `urn:…`); wildcards in `allowed`
 * are not interpreted.
 */
export function certificateMatchesIdentity(cert: PeerCertificateInfo, allowed: string[]): boolean {
  for (const want of allowed) {
    if (cert.commonName !== undefined && cert.commonName === want) return true;
    for (const entry of cert.san) {
      const colon = entry.indexOf(':');
      const type = entry.slice(0, colon);
      const value = entry.slice(colon + 1);
      if (type === 'DNS' && !isIP(want) && dnsMatches(value, want)) return true;
      if (type === 'IP Address' && isIP(normalizeIp(want)) && normalizeIp(value) === normalizeIp(want))
        return true;
      if (type === 'URI' && value === want) return true;
    }
  }
  return false;
}
