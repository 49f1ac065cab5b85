/**
 * PS3.15 Annex B secure transport connection profiles, with the suite lists DCMTK
 * (3.6.7/3.6.8, `DcmTLSCiphersuiteHandler`) negotiates for each, and the rules that
 * extra cipher suites and key sizes must follow.
 */
import type { KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { Logger } from '../log.js';
import { ianaName, opensslName, TLS13_SUITES, weaknessOf } from './cipher-suites.js';
import { TlsError } from './errors.js';
import type { SecurityProfileName, TlsOptions } from './types.js';

/** TLS protocol versions as Node names them. */
export type TlsVersion = 'TLSv1' | 'TLSv1.2' | 'TLSv1.3';

/** What extra cipher suites (`TlsOptions.ciphers`) a profile accepts. */
export type ExtraCipherRule =
  /** No extra suites at all. */
  | 'none'
  /** Extra suites, but never NULL, SHA-1/MD5 MAC, 3DES, RC4, export, anonymous or PSK. */
  | 'strong'
  /** Extra suites that encrypt and authenticate (no NULL, export, anonymous, RC4, PSK). */
  | 'encrypted'
  /** Anything OpenSSL offers except export/anonymous/RC4/PSK. */
  | 'legacy';

/** One TLS 1.2 suite of a profile. */
export interface ProfileSuite {
  /** OpenSSL name, e.g. `ECDHE-RSA-AES128-GCM-SHA256`. */
  openssl: string;
  /** `required`: the profile cannot work without it; `optional`: used where this OpenSSL has it. */
  need: 'required' | 'optional';
}

/** A security profile's definition. */
export interface SecurityProfile {
  name: SecurityProfileName;
  /** PS3.15 title. */
  title: string;
  retired: boolean;
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
  /** TLS 1.2 (and older) suites, strongest first. */
  tls12: ProfileSuite[];
  /** TLS 1.3 suites, strongest first (empty when TLS 1.3 is off). */
  tls13: string[];
  /** OpenSSL security level to force (`@SECLEVEL=0` for retired suites and TLS < 1.2). */
  securityLevel?: number;
  extraCiphers: ExtraCipherRule;
  /** Smallest RSA modulus accepted for own and peer keys (bits). */
  minRsaBits?: number;
  /** Smallest EC key accepted for own and peer keys (bits). */
  minEcBits?: number;
}

const req = (openssl: string): ProfileSuite => ({ openssl, need: 'required' });
const opt = (openssl: string): ProfileSuite => ({ openssl, need: 'optional' });

const TLS13_DEFAULT = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'];

const BCP195_ND_SUITES = [
  req('ECDHE-RSA-AES256-GCM-SHA384'),
  req('DHE-RSA-AES256-GCM-SHA384'),
  req('ECDHE-RSA-AES128-GCM-SHA256'),
  req('DHE-RSA-AES128-GCM-SHA256'),
];

/** Every profile of DESIGN.md, by name. */
export const SECURITY_PROFILES: Readonly<Record<SecurityProfileName, SecurityProfile>> = {
  'bcp195-rfc8996': {
    name: 'bcp195-rfc8996',
    title: 'BCP 195 RFC 8996 TLS Profile',
    retired: false,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    tls12: [
      req('ECDHE-ECDSA-AES256-GCM-SHA384'),
      req('ECDHE-RSA-AES256-GCM-SHA384'),
      req('ECDHE-ECDSA-AES128-GCM-SHA256'),
      req('ECDHE-RSA-AES128-GCM-SHA256'),
    ],
    tls13: TLS13_DEFAULT,
    extraCiphers: 'strong',
  },
  'bcp195-rfc8996-mod': {
    name: 'bcp195-rfc8996-mod',
    title: 'Modified BCP 195 RFC 8996 TLS Profile',
    retired: false,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    tls12: [
      req('ECDHE-ECDSA-AES256-GCM-SHA384'),
      req('ECDHE-RSA-AES256-GCM-SHA384'),
      req('ECDHE-ECDSA-CHACHA20-POLY1305'),
      req('ECDHE-RSA-CHACHA20-POLY1305'),
      opt('ECDHE-ECDSA-CAMELLIA256-GCM-SHA384'),
      opt('ECDHE-RSA-CAMELLIA256-GCM-SHA384'),
      req('ECDHE-ECDSA-AES256-CCM'),
      req('ECDHE-ECDSA-AES128-GCM-SHA256'),
      req('ECDHE-RSA-AES128-GCM-SHA256'),
      opt('ECDHE-ECDSA-CAMELLIA128-GCM-SHA256'),
      opt('ECDHE-RSA-CAMELLIA128-GCM-SHA256'),
      req('ECDHE-ECDSA-AES128-CCM'),
      req('ECDHE-ECDSA-AES256-CCM8'),
      req('ECDHE-ECDSA-AES128-CCM8'),
    ],
    tls13: [...TLS13_DEFAULT, 'TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_8_SHA256'],
    extraCiphers: 'none',
    minRsaBits: 2048,
    minEcBits: 256,
  },
  'bcp195-nd': {
    name: 'bcp195-nd',
    title: 'Non-downgrading BCP 195 TLS Profile',
    retired: true,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    tls12: BCP195_ND_SUITES,
    tls13: TLS13_DEFAULT,
    extraCiphers: 'encrypted',
  },
  bcp195: {
    name: 'bcp195',
    title: 'BCP 195 TLS Profile',
    retired: true,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    tls12: [...BCP195_ND_SUITES, req('AES128-SHA'), opt('DES-CBC3-SHA')],
    tls13: TLS13_DEFAULT,
    extraCiphers: 'encrypted',
  },
  'bcp195-ex': {
    name: 'bcp195-ex',
    title: 'Extended BCP 195 TLS Profile',
    retired: true,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.2',
    tls12: [
      req('ECDHE-ECDSA-AES256-GCM-SHA384'),
      ...BCP195_ND_SUITES.slice(0, 2),
      req('ECDHE-ECDSA-AES128-GCM-SHA256'),
      ...BCP195_ND_SUITES.slice(2),
    ],
    tls13: [],
    extraCiphers: 'none',
  },
  aes: {
    name: 'aes',
    title: 'AES TLS Secure Transport Connection Profile',
    retired: true,
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.2',
    tls12: [req('AES128-SHA'), opt('DES-CBC3-SHA')],
    tls13: [],
    securityLevel: 0,
    extraCiphers: 'encrypted',
  },
  basic: {
    name: 'basic',
    title: 'Basic TLS Secure Transport Connection Profile',
    retired: true,
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.2',
    tls12: [req('DES-CBC3-SHA')],
    tls13: [],
    securityLevel: 0,
    extraCiphers: 'encrypted',
  },
  null: {
    name: 'null',
    title: 'Authenticated unencrypted communication (was IHE ATNA)',
    retired: true,
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.2',
    tls12: [req('NULL-SHA')],
    tls13: [],
    securityLevel: 0,
    extraCiphers: 'legacy',
  },
};

/** Every profile name, in the order of the table above (the CLI's `--profile` choices). */
export const SECURITY_PROFILE_NAMES = Object.keys(SECURITY_PROFILES) as SecurityProfileName[];

/** The default profile. */
export const DEFAULT_PROFILE: SecurityProfileName = 'bcp195-rfc8996';

const availability = new Map<string, boolean>();

/** Does this OpenSSL provide the suite (at security level 0)? Probed once per suite. */
export function isSuiteAvailable(name: string): boolean {
  const cached = availability.get(name);
  if (cached !== undefined) return cached;
  let ok: boolean;
  try {
    // TLS 1.3 names go to SSL_CTX_set_ciphersuites, the others to SSL_CTX_set_cipher_list
    createSecureContext({ ciphers: name.startsWith('TLS_') ? name : `${name}:@SECLEVEL=0` });
    ok = true;
  } catch {
    ok = false;
  }
  availability.set(name, ok);
  return ok;
}

/** The version of the OpenSSL Node runs on, e.g. `3.0.19`. */
export function opensslVersion(): string {
  return process.versions.openssl ?? 'unknown';
}

/** Look a profile up by name; a {@link TlsError} for unknown names. */
export function getSecurityProfile(name: SecurityProfileName | undefined): SecurityProfile {
  const profile = SECURITY_PROFILES[name ?? DEFAULT_PROFILE];
  if (!profile)
    throw new TlsError(
      'ERR_TLS_PROFILE_VIOLATION',
      `unknown TLS profile '${name}' (known: ${Object.keys(SECURITY_PROFILES).join(', ')})`,
    );
  return profile;
}

/** The OpenSSL settings a profile (plus extra suites) resolves to on this platform. */
export interface ResolvedProfile {
  profile: SecurityProfile;
  /** OpenSSL cipher string for TLS ≤ 1.2 (with `@SECLEVEL=n` when the profile forces one). */
  ciphers: string;
  /** TLS 1.3 ciphersuites (OpenSSL `ciphersuites`), empty when TLS 1.3 is off. */
  ciphersuites: string;
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
}

const VERSION_ORDER: Record<TlsVersion, number> = { TLSv1: 0, 'TLSv1.2': 1, 'TLSv1.3': 2 };

function checkExtra(profile: SecurityProfile, given: string, iana: string): void {
  if (profile.extraCiphers === 'none')
    throw new TlsError(
      'ERR_TLS_PROFILE_VIOLATION',
      `TLS profile '${profile.name}' allows no extra cipher suites (got ${given})`,
    );
  const weakness = weaknessOf(iana);
  if (!weakness) return;
  const forbidden =
    profile.extraCiphers === 'strong' ||
    (profile.extraCiphers === 'encrypted' && !['SHA-1 MAC', 'MD5 MAC', '3DES'].includes(weakness)) ||
    (profile.extraCiphers === 'legacy' &&
      !['SHA-1 MAC', 'MD5 MAC', '3DES', 'no encryption (NULL)'].includes(weakness));
  if (forbidden)
    throw new TlsError(
      'ERR_TLS_PROFILE_VIOLATION',
      `cipher suite ${iana} is not allowed with TLS profile '${profile.name}': ${weakness}`,
    );
}

/**
 * Resolve a profile, optional extra suites (`ciphers`: names separated by `:`, `,` or
 * spaces, OpenSSL or IANA spelling) and `minVersion` to OpenSSL settings. Throws
 * `ERR_TLS_PROFILE_VIOLATION` for suites or versions the profile forbids and
 * `ERR_TLS_PROFILE_UNAVAILABLE` when this OpenSSL lacks a suite the profile needs.
 * Logs a warning for retired profiles.
 */
export function resolveProfile(
  opts: Pick<TlsOptions, 'profile' | 'ciphers' | 'minVersion'>,
  log?: Logger,
): ResolvedProfile {
  const profile = getSecurityProfile(opts.profile);
  const missing = profile.tls12.filter((s) => s.need === 'required' && !isSuiteAvailable(s.openssl));
  if (missing.length > 0) {
    const names = missing.map((s) => ianaName(s.openssl) ?? s.openssl).join(', ');
    throw new TlsError(
      'ERR_TLS_PROFILE_UNAVAILABLE',
      `TLS profile '${profile.name}' needs ${names}, which this OpenSSL (${opensslVersion()}) does not provide`,
    );
  }
  if (profile.retired)
    log?.warn(
      { profile: profile.name },
      `TLS profile '${profile.name}' is retired (PS3.15 Annex B); use only for legacy peers`,
    );
  const tls12 = profile.tls12.filter((s) => isSuiteAvailable(s.openssl)).map((s) => s.openssl);
  const tls13 = profile.tls13.filter((s) => isSuiteAvailable(s));
  for (const given of (opts.ciphers ?? '').split(/[:,\s]+/).filter((s) => s !== '')) {
    const name = opensslName(given);
    if (!name)
      throw new TlsError(
        'ERR_TLS_UNKNOWN_CIPHER',
        `unknown cipher suite '${given}' (give single suite names, OpenSSL or IANA spelling, not cipher-string keywords)`,
      );
    const iana = ianaName(name) ?? name;
    checkExtra(profile, given, iana);
    if (!isSuiteAvailable(name))
      throw new TlsError(
        'ERR_TLS_PROFILE_UNAVAILABLE',
        `cipher suite ${iana} is not provided by this OpenSSL (${opensslVersion()})`,
      );
    const isTls13 = (TLS13_SUITES as readonly string[]).includes(name);
    if (isTls13 && profile.maxVersion !== 'TLSv1.3')
      throw new TlsError(
        'ERR_TLS_PROFILE_VIOLATION',
        `TLS profile '${profile.name}' does not allow TLS 1.3 (got ${iana})`,
      );
    const list = isTls13 ? tls13 : tls12;
    if (!list.includes(name)) list.push(name);
  }
  let minVersion = profile.minVersion;
  if (opts.minVersion) {
    if (VERSION_ORDER[opts.minVersion] > VERSION_ORDER[profile.maxVersion])
      throw new TlsError(
        'ERR_TLS_PROFILE_VIOLATION',
        `TLS profile '${profile.name}' allows at most ${profile.maxVersion}, but ${opts.minVersion} was asked as minimum`,
      );
    if (VERSION_ORDER[opts.minVersion] > VERSION_ORDER[minVersion]) minVersion = opts.minVersion;
  }
  const level = profile.securityLevel !== undefined ? `:@SECLEVEL=${profile.securityLevel}` : '';
  return {
    profile,
    // OpenSSL rejects an empty cipher list; with TLS 1.3 only, any valid name will do
    ciphers: `${tls12.join(':') || 'ECDHE-RSA-AES256-GCM-SHA384'}${level}`,
    ciphersuites: tls13.join(':'),
    minVersion,
    maxVersion: profile.maxVersion,
  };
}

/** Check a key against the profile's minimum sizes; `whose` names it in the error. */
export function checkKeyStrength(profile: SecurityProfile, key: KeyObject, whose: string): void {
  const details = key.asymmetricKeyDetails;
  const type = key.asymmetricKeyType;
  if ((type === 'rsa' || type === 'rsa-pss') && profile.minRsaBits && details?.modulusLength !== undefined) {
    if (details.modulusLength < profile.minRsaBits)
      throw new TlsError(
        'ERR_TLS_KEY_TOO_SMALL',
        `TLS profile '${profile.name}' needs RSA keys of at least ${profile.minRsaBits} bits; ${whose} has ${details.modulusLength}`,
      );
  }
  if (type === 'ec' && profile.minEcBits && details?.namedCurve) {
    const bits = curveBits(details.namedCurve);
    if (bits !== undefined && bits < profile.minEcBits)
      throw new TlsError(
        'ERR_TLS_KEY_TOO_SMALL',
        `TLS profile '${profile.name}' needs EC keys of at least ${profile.minEcBits} bits; ${whose} uses ${details.namedCurve} (${bits} bits)`,
      );
  }
}

function curveBits(curve: string): number | undefined {
  const match = /(\d{3})/.exec(curve);
  return match ? Number(match[1]) : undefined;
}

/** One suite in a {@link ProfileCipherList}. */
export interface ListedSuite {
  iana: string;
  openssl: string;
  protocol: 'TLSv1.2' | 'TLSv1.3';
  available: boolean;
  need: 'required' | 'optional';
}

/** What a profile negotiates on this platform (`dicomnet tls ciphers`). */
export interface ProfileCipherList {
  profile: SecurityProfileName;
  title: string;
  retired: boolean;
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
  /** Null when every required suite is available, else why the profile cannot be used here. */
  unavailableReason: string | null;
  suites: ListedSuite[];
  openssl: string;
}

/** List the suites a profile negotiates here, marking the ones this OpenSSL lacks. */
export function listProfileCiphers(name: SecurityProfileName): ProfileCipherList {
  const profile = getSecurityProfile(name);
  const suites: ListedSuite[] = [
    ...profile.tls12.map((s) => ({
      iana: ianaName(s.openssl) ?? s.openssl,
      openssl: s.openssl,
      protocol: 'TLSv1.2' as const,
      available: isSuiteAvailable(s.openssl),
      need: s.need,
    })),
    ...profile.tls13.map((s) => ({
      iana: s,
      openssl: s,
      protocol: 'TLSv1.3' as const,
      available: isSuiteAvailable(s),
      need: 'required' as const,
    })),
  ];
  let unavailableReason: string | null = null;
  try {
    resolveProfile({ profile: name });
  } catch (err) {
    unavailableReason = (err as Error).message;
  }
  return {
    profile: profile.name,
    title: profile.title,
    retired: profile.retired,
    minVersion: profile.minVersion,
    maxVersion: profile.maxVersion,
    unavailableReason,
    suites,
    openssl: opensslVersion(),
  };
}
