/**
 * Cipher suite names: OpenSSL ↔ IANA, and what a suite is made of (key exchange,
 * bulk encryption, integrity), read from its IANA name.
 */

/** OpenSSL name → IANA name, for the suites our profiles and common extras use. */
const OPENSSL_TO_IANA: Readonly<Record<string, string>> = {
  'NULL-SHA': 'TLS_RSA_WITH_NULL_SHA',
  'NULL-SHA256': 'TLS_RSA_WITH_NULL_SHA256',
  'DES-CBC3-SHA': 'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
  'AES128-SHA': 'TLS_RSA_WITH_AES_128_CBC_SHA',
  'AES256-SHA': 'TLS_RSA_WITH_AES_256_CBC_SHA',
  'AES128-SHA256': 'TLS_RSA_WITH_AES_128_CBC_SHA256',
  'AES256-SHA256': 'TLS_RSA_WITH_AES_256_CBC_SHA256',
  'AES128-GCM-SHA256': 'TLS_RSA_WITH_AES_128_GCM_SHA256',
  'AES256-GCM-SHA384': 'TLS_RSA_WITH_AES_256_GCM_SHA384',
  'CAMELLIA128-SHA': 'TLS_RSA_WITH_CAMELLIA_128_CBC_SHA',
  'CAMELLIA256-SHA': 'TLS_RSA_WITH_CAMELLIA_256_CBC_SHA',
  'ECDHE-RSA-AES128-SHA': 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  'ECDHE-RSA-AES256-SHA': 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  'ECDHE-ECDSA-AES128-SHA': 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
  'ECDHE-ECDSA-AES256-SHA': 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA',
  'ECDHE-RSA-AES128-SHA256': 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
  'ECDHE-RSA-AES256-SHA384': 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384',
  'ECDHE-ECDSA-AES128-SHA256': 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256',
  'ECDHE-ECDSA-AES256-SHA384': 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384',
  'ECDHE-RSA-AES128-GCM-SHA256': 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384': 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256': 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384': 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305': 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-CHACHA20-POLY1305': 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-CCM': 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM',
  'ECDHE-ECDSA-AES256-CCM': 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM',
  'ECDHE-ECDSA-AES128-CCM8': 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
  'ECDHE-ECDSA-AES256-CCM8': 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8',
  'ECDHE-RSA-CAMELLIA128-GCM-SHA256': 'TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256',
  'ECDHE-RSA-CAMELLIA256-GCM-SHA384': 'TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384',
  'ECDHE-ECDSA-CAMELLIA128-GCM-SHA256': 'TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256',
  'ECDHE-ECDSA-CAMELLIA256-GCM-SHA384': 'TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384',
  'DHE-RSA-AES128-SHA': 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA',
  'DHE-RSA-AES256-SHA': 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA',
  'DHE-RSA-AES128-SHA256': 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256',
  'DHE-RSA-AES256-SHA256': 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256',
  'DHE-RSA-AES128-GCM-SHA256': 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
  'DHE-RSA-AES256-GCM-SHA384': 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
  'DHE-RSA-CHACHA20-POLY1305': 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  'DHE-RSA-AES128-CCM': 'TLS_DHE_RSA_WITH_AES_128_CCM',
  'DHE-RSA-AES256-CCM': 'TLS_DHE_RSA_WITH_AES_256_CCM',
  'RC4-SHA': 'TLS_RSA_WITH_RC4_128_SHA',
  'RC4-MD5': 'TLS_RSA_WITH_RC4_128_MD5',
  'EXP-RC4-MD5': 'TLS_RSA_EXPORT_WITH_RC4_40_MD5',
  'ADH-AES128-GCM-SHA256': 'TLS_DH_anon_WITH_AES_128_GCM_SHA256',
};

const IANA_TO_OPENSSL: ReadonlyMap<string, string> = new Map(
  Object.entries(OPENSSL_TO_IANA).map(([openssl, iana]) => [iana, openssl]),
);

/** TLS 1.3 suites: OpenSSL uses the IANA names. */
export const TLS13_SUITES = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_128_CCM_SHA256',
  'TLS_AES_128_CCM_8_SHA256',
] as const;

/** IANA name of an OpenSSL suite name (TLS 1.3 names pass through); undefined when unknown. */
export function ianaName(opensslName: string): string | undefined {
  if (opensslName.startsWith('TLS_')) return opensslName;
  return OPENSSL_TO_IANA[opensslName];
}

/** OpenSSL name of a suite given by its IANA or OpenSSL name; undefined when unknown. */
export function opensslName(name: string): string | undefined {
  if (name in OPENSSL_TO_IANA) return name;
  if ((TLS13_SUITES as readonly string[]).includes(name)) return name;
  return IANA_TO_OPENSSL.get(name);
}

/** What a cipher suite is made of. */
export interface SuiteParts {
  /** `ECDHE`, `DHE`, `RSA`, `DH_anon`…; empty for TLS 1.3 suites (negotiated separately). */
  keyExchange: string;
  /** `AES-128-GCM`, `CHACHA20-POLY1305`, `3DES-EDE-CBC`, `NULL`, `AES-128-CCM-8`… */
  encryption: string;
  /** `AEAD`, `SHA1`, `SHA256`, `SHA384`, `MD5`. */
  integrity: string;
}

function macName(mac: string): string {
  if (mac === 'SHA') return 'SHA1';
  return mac;
}

function encryptionName(parts: string[]): string {
  // AES_128_GCM → AES-128-GCM; 3DES_EDE_CBC → 3DES-EDE-CBC; AES_128_CCM_8 → AES-128-CCM-8
  return parts.join('-');
}

/** Decompose an IANA suite name, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`. */
export function suiteParts(iana: string): SuiteParts {
  const body = iana.replace(/^(TLS|SSL)_/, '');
  const withAt = body.indexOf('_WITH_');
  const keyExchangePart = withAt >= 0 ? body.slice(0, withAt) : '';
  const cipherPart = withAt >= 0 ? body.slice(withAt + 6) : body;
  const tokens = cipherPart.split('_');
  let integrity: string;
  let encTokens: string[];
  const aead = /GCM|CCM|POLY1305/.test(cipherPart);
  const last = tokens[tokens.length - 1] ?? '';
  if (/^(SHA\d*|MD5)$/.test(last)) {
    encTokens = tokens.slice(0, -1);
    integrity = aead ? 'AEAD' : macName(last);
  } else {
    encTokens = tokens;
    integrity = aead ? 'AEAD' : 'unknown';
  }
  let keyExchange = keyExchangePart.split('_')[0] ?? '';
  if (keyExchangePart.includes('anon')) keyExchange = `${keyExchange}_anon`;
  return { keyExchange, encryption: encryptionName(encTokens), integrity };
}

/** Why a suite is weak, if it is: NULL encryption, SHA-1/MD5 MAC, 3DES, RC4, export, anonymous, PSK/SRP. */
export function weaknessOf(iana: string): string | undefined {
  const parts = suiteParts(iana);
  if (parts.encryption === 'NULL') return 'no encryption (NULL)';
  if (/EXPORT/.test(iana)) return 'export-grade';
  if (/anon/.test(iana)) return 'anonymous (no authentication)';
  if (/PSK|SRP/.test(iana)) return 'no certificate authentication (PSK/SRP)';
  if (/RC4/.test(parts.encryption)) return 'RC4';
  if (/3DES|DES/.test(parts.encryption)) return '3DES';
  if (parts.integrity === 'SHA1') return 'SHA-1 MAC';
  if (parts.integrity === 'MD5') return 'MD5 MAC';
  return undefined;
}
