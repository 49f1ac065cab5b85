import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { transferSyntaxInfo } from '../data/index.js';
import {
  ACCESS_SERVICES,
  type AccessService,
  DEFAULT_AUTHENTICATED_PEER_SERVICES,
  DEFAULT_UNKNOWN_PEER_SERVICES,
} from '../services/authorization.js';
import { isStorageSopClass } from '../services/sop-classes.js';
import { SECURITY_PROFILE_NAMES } from '../tls/profiles.js';
import type { SecurityProfileName } from '../tls/types.js';
import { ConfigError } from './errors.js';
import type { DuplicatePolicy } from './storage.js';

// the YAML parser is loaded only for a YAML file (start-up time of `serve` with JSON or no config)
const requireModule = createRequire(import.meta.url);
function parseYaml(text: string): unknown {
  return (requireModule('yaml') as { parse(text: string): unknown }).parse(text);
}

/** TLS listener settings of the node (file paths; loaded by the TLS layer). */
export interface NodeTlsConfig {
  key?: string;
  cert?: string;
  pfx?: string;
  ca: string[];
  crl: string[];
  requirePeerCertificate: boolean;
  profile: SecurityProfileName;
  /** File whose first line is the private key / PKCS#12 passphrase. */
  passphraseFile?: string;
}

/** Credentials the node presents when it calls one TLS peer (file paths). */
export interface PeerClientCredentials {
  key?: string;
  cert?: string;
  pfx?: string;
  /** File whose first line is the key / PKCS#12 passphrase. */
  passphraseFile?: string;
}

/**
 * A known remote AE: what it may do, where C-MOVE and commitment reports reach it, and which
 * certificate identities may use its title.
 */
export interface PeerConfig {
  /** Where the node calls it (C-MOVE destination, commitment reports); absent = never called. */
  host?: string;
  port?: number;
  tls: boolean;
  /** Services it may use; absent = all. */
  allow?: AccessService[];
  /** Configured peers it may C-MOVE to; absent = itself only; `*` = any configured peer. */
  moveDestinations?: string[];
  /**
   * Certificate CN / SAN values allowed to associate with this calling AE title (AE-title
   * binding). Absent: the title is not bound to a certificate.
   */
  identity?: string[];
  /**
   * The identity (DNS name or IP address in the certificate) the peer's server certificate
   * must carry when the node calls it (C-MOVE, commitment reports); default: `host`.
   */
  serverName?: string;
  /** Client credentials for associations to this peer; default: the node's client credentials. */
  client?: PeerClientCredentials;
}

/** Which storage contexts the node accepts; absent lists = everything dicomnet knows. */
export interface NodeAcceptConfig {
  /** Storage SOP Class UIDs accepted. */
  sopClasses?: string[];
  /** Transfer syntax UIDs accepted for storage. */
  transferSyntaxes?: string[];
}

/** The syslog collector of the audit trail (RFC 5425 syslog over TLS). */
export interface NodeAuditSyslogConfig {
  host: string;
  /** Default 6514. */
  port: number;
  /** CA certificates the collector's certificate must chain to; empty = the node's `tls.ca`. */
  ca: string[];
  /** Client certificate and key for mutual authentication; absent = the node's own TLS pair, if any. */
  cert?: string;
  key?: string;
  passphraseFile?: string;
  /** Name the collector's certificate must carry; default the host. */
  servername?: string;
  /** Messages held while the collector is unreachable (oldest dropped beyond). */
  queueLimit: number;
  /** Prefix each MSG with the UTF-8 BOM. */
  bom: boolean;
}

/** Where the audit trail goes besides the log. */
export interface NodeAuditConfig {
  /** Append-only JSON-lines file; undefined = `<storage>/audit.log`, false = none. */
  file?: string | false;
  /** Background group fdatasync (`batch`, default), one per record (`always`), or left to the OS (`none`). */
  fsync: 'always' | 'batch' | 'none';
  syslog?: NodeAuditSyslogConfig;
}

/** Resource limits of the node; docs/limits.md explains each and its default. */
export interface NodeLimits {
  maxAssociations: number;
  maxAssociationsPerAddress: number;
  /** Connections one address may open per minute (0 = no limit). */
  maxAssociationsPerMinutePerAddress: number;
  /** TLS handshakes running at once (0 = no limit). */
  maxTlsHandshakes: number;
  /** Connections not yet an association (TLS handshake, A-ASSOCIATE-RQ pending) at once (0 = no limit). */
  maxPendingConnections: number;
  /** A-ASSOCIATE-RQ bytes all pending connections together may be receiving (0 = no limit). */
  maxPendingRequestBytes: number;
  maxPduLength: number;
  /** Largest A-ASSOCIATE-RQ (or any non-P-DATA PDU) buffered. */
  maxAssociateRqLength: number;
  /** Largest query identifier / N-service data set held in memory. */
  maxBufferedDatasetBytes: number;
  /** Deepest sequence nesting accepted in any received data set. */
  maxDatasetDepth: number;
  /** Most matches one C-FIND returns before it ends with 0xA700 (0 = no limit). */
  maxQueryResults: number;
  /** ARTIM and TLS handshake timeout. */
  timeoutSeconds: number;
  idleTimeoutSeconds: number;
  /**
   * At `maxAssociations`, the association idle (no DIMSE activity) longest, if for at least
   * this long, is aborted to admit a newcomer (0 = never: the newcomer is rejected).
   */
  idleEvictSeconds: number;
}

/** Integer range of each limit: [min, max]. */
const LIMIT_RANGES: Record<keyof NodeLimits, [number, number]> = {
  maxAssociations: [1, 100000],
  maxAssociationsPerAddress: [1, 100000],
  maxAssociationsPerMinutePerAddress: [0, 1000000],
  maxTlsHandshakes: [0, 100000],
  maxPendingConnections: [0, 1000000],
  maxPendingRequestBytes: [0, 0xffffffff],
  // PS3.8: a receive limit of at least 4096 keeps every peer workable; 0 ("unlimited") is not offered.
  maxPduLength: [4096, 0xffffffff],
  maxAssociateRqLength: [4096, 0xffffffff],
  maxBufferedDatasetBytes: [4096, 0xffffffff],
  maxDatasetDepth: [1, 1000],
  maxQueryResults: [0, 0xffffffff],
  timeoutSeconds: [1, 3600],
  idleTimeoutSeconds: [0, 86400],
  idleEvictSeconds: [0, 86400],
};

export type NodeLogFormat = 'json' | 'pretty';
export type NodeLogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Configuration of `dicomnet serve`, every field filled in. */
export interface NodeConfig {
  /** AE title the node answers to. */
  aet: string;
  /** Plain DICOM port; null = no plain listener. */
  port: number | null;
  /** DICOM-over-TLS port; null = no TLS listener. */
  tlsPort: number | null;
  /** Interface of the TLS listener; absent = all interfaces. */
  host?: string;
  /** Interface of the plain listener (default 127.0.0.1: it is unauthenticated and unencrypted). */
  plainHost: string;
  /** Storage root (instances + index.db). */
  storage: string;
  /** What a second instance with the same SOP Instance UID does. */
  duplicates: DuplicatePolicy;
  /**
   * Accept associations whatever Called AE Title they ask for (default true, as storescp and
   * Orthanc do); false rejects any title but the node's own (reason 7).
   */
  acceptAnyCalledAet: boolean;
  /** Reject calling AE titles that are not bound to a certificate identity (`peers.X.identity`). */
  requireBoundAeTitles: boolean;
  /** What peers that are not under `peers` may do. */
  access: NodeAccessConfig;
  tls: NodeTlsConfig;
  /** What storage contexts are accepted. */
  accept: NodeAcceptConfig;
  peers: Record<string, PeerConfig>;
  limits: NodeLimits;
  /** Directory of DICOM JSON worklist items; absent = no worklist. */
  worklistDir?: string;
  /**
   * Where the Q/R index lives: absent = SQLite in the storage directory; `url`
   * `postgres://USER@HOST:PORT/DB` = PostgreSQL (needs the optional package `pg`).
   */
  index?: { url?: string };
  log: { level: NodeLogLevel; format: NodeLogFormat };
  audit: NodeAuditConfig;
  /**
   * Worker processes serving associations (default 1: the node is one process); `auto` =
   * one per available core. They share the ports, the storage directory and the index;
   * the limits hold for the node as a whole (docs/scaling.md).
   */
  workers: number | 'auto';
}

/** Services of peers not listed under `peers` (DESIGN.md "Access control"). */
export interface NodeAccessConfig {
  /** No verified client certificate (default echo, store). */
  unknownPeers: AccessService[];
  /** A client certificate that chains to the node's CA (default echo, store, find, get, worklist, mpps, commitment). */
  authenticatedPeers: AccessService[];
}

/** Values that override a config file (e.g. from the command line); undefined = not given. */
export interface NodeConfigOverrides {
  aet?: string;
  port?: number | null | false;
  tlsPort?: number | null | false;
  host?: string;
  plainHost?: string;
  storage?: string;
  duplicates?: DuplicatePolicy;
  acceptAnyCalledAet?: boolean;
  requireBoundAeTitles?: boolean;
  access?: Partial<NodeAccessConfig>;
  tls?: Partial<NodeTlsConfig>;
  accept?: NodeAcceptConfig;
  peers?: Record<string, PeerConfig>;
  limits?: Partial<NodeLimits>;
  worklistDir?: string;
  /** Index URL (`postgres://…`); replaces the configured one. */
  indexUrl?: string;
  workers?: number | 'auto';
  log?: Partial<NodeConfig['log']>;
  /** `syslog` replaces the configured collector's host and port only. */
  audit?: {
    file?: string | false;
    fsync?: 'always' | 'batch' | 'none';
    syslog?: { host: string; port?: number };
  };
}

const PROFILES: readonly SecurityProfileName[] = SECURITY_PROFILE_NAMES;
const POLICIES: readonly DuplicatePolicy[] = ['keep', 'replace', 'reject'];
const LOG_LEVELS: readonly NodeLogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LOG_FORMATS: readonly NodeLogFormat[] = ['json', 'pretty'];

/**
 * The defaults of DESIGN.md: AE DICOMNET, port 11112 on loopback, TLS port 2762 requiring
 * client certificates, storage ./data/storage, unknown peers echo and store only.
 */
export function defaultNodeConfig(): NodeConfig {
  return {
    aet: 'DICOMNET',
    port: 11112,
    tlsPort: 2762,
    plainHost: '127.0.0.1',
    storage: './data/storage',
    duplicates: 'keep',
    acceptAnyCalledAet: true,
    requireBoundAeTitles: false,
    access: {
      unknownPeers: [...DEFAULT_UNKNOWN_PEER_SERVICES],
      authenticatedPeers: [...DEFAULT_AUTHENTICATED_PEER_SERVICES],
    },
    tls: { ca: [], crl: [], requirePeerCertificate: true, profile: 'bcp195-rfc8996' },
    accept: {},
    peers: noPeers(),
    limits: {
      maxAssociations: 64,
      maxAssociationsPerAddress: 16,
      maxAssociationsPerMinutePerAddress: 1200,
      maxTlsHandshakes: 32,
      maxPendingConnections: 1000,
      maxPendingRequestBytes: 64 * 1024 * 1024,
      maxPduLength: 65536,
      maxAssociateRqLength: 1024 * 1024,
      maxBufferedDatasetBytes: 16 * 1024 * 1024,
      maxDatasetDepth: 32,
      maxQueryResults: 100000,
      timeoutSeconds: 30,
      idleTimeoutSeconds: 300,
      idleEvictSeconds: 30,
    },
    log: { level: 'info', format: 'json' },
    audit: { fsync: 'batch' },
    workers: 1,
  };
}

/**
 * An empty peer table without a prototype: peers are looked up by an AE title the peer
 * chose, and `constructor` or `__proto__` must not find anything but a configured peer.
 */
function noPeers(): Record<string, PeerConfig> {
  return Object.create(null) as Record<string, PeerConfig>;
}

/** Builds `ConfigError`s that name the field path and, when known, the file. */
class Checker {
  constructor(
    readonly source: string | undefined,
    readonly baseDir: string,
  ) {}

  /** `got` (when passed, even as undefined) is shown as what was found. */
  fail(path: string, message: string, ...got: unknown[]): never {
    const shown = got.length === 0 ? '' : `, got ${describe(got[0])}`;
    throw new ConfigError(`config ${path}: ${message}${shown}${this.source ? ` (in ${this.source})` : ''}`);
  }

  object(path: string, value: unknown): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      this.fail(path, 'must be an object', value);
    return value as Record<string, unknown>;
  }

  known(path: string, value: Record<string, unknown>, allowed: readonly string[]): void {
    for (const key of Object.keys(value))
      if (!allowed.includes(key))
        this.fail(
          path === '' ? key : `${path}.${key}`,
          `unknown setting (expected one of ${allowed.join(', ')})`,
        );
  }

  string(path: string, value: unknown): string {
    if (typeof value !== 'string' || value.trim() === '')
      this.fail(path, 'must be a non-empty string', value);
    return value;
  }

  path(path: string, value: unknown): string {
    return resolve(this.baseDir, this.string(path, value));
  }

  paths(path: string, value: unknown): string[] {
    if (value === undefined || value === null) return [];
    const list = Array.isArray(value) ? value : [value];
    return list.map((v, i) => this.path(Array.isArray(value) ? `${path}[${i}]` : path, v));
  }

  boolean(path: string, value: unknown): boolean {
    if (typeof value !== 'boolean') this.fail(path, 'must be true or false', value);
    return value;
  }

  integer(path: string, value: unknown, min: number, max: number): number {
    const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
      this.fail(path, `must be an integer ${min}-${max}`, value);
    return n;
  }

  port(path: string, value: unknown): number {
    return this.integer(path, value, 1, 65535);
  }

  /** A port, or null/false to disable the listener. */
  optionalPort(path: string, value: unknown): number | null {
    if (value === null || value === false) return null;
    return this.port(path, value);
  }

  aet(path: string, value: unknown): string {
    if (typeof value !== 'string') this.fail(path, 'must be an AE title (1-16 characters)', value);
    const trimmed = value.trim();
    // PS3.5 AE VR: up to 16 characters, no backslash or control characters, not all spaces.
    if (trimmed === '' || value.length > 16 || value.includes('\\') || hasControlCharacter(value))
      this.fail(path, 'must be an AE title (1-16 characters, no backslash or control characters)', value);
    return trimmed;
  }

  /** A list of one or more UIDs (a single string counts as a list of one). */
  uids(path: string, value: unknown): string[] {
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0) this.fail(path, 'must list at least one UID', value);
    return list.map((v, i) => {
      const at = Array.isArray(value) ? `${path}[${i}]` : path;
      if (typeof v !== 'string' || !/^[0-9]+(\.[0-9]+)*$/.test(v.trim()) || v.trim().length > 64)
        this.fail(at, 'must be a UID (digits and dots, up to 64 characters)', v);
      return v.trim();
    });
  }

  /** A list of access services (may be empty: nothing allowed). */
  services(path: string, value: unknown): AccessService[] {
    if (!Array.isArray(value))
      this.fail(path, `must be a list of services (${ACCESS_SERVICES.join(', ')})`, value);
    return [...new Set(value.map((v, i) => this.oneOf(`${path}[${i}]`, v, ACCESS_SERVICES)))];
  }

  oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[]): T {
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
      this.fail(path, `must be one of ${allowed.join(', ')}`, value);
    return value as T;
  }
}

function hasControlCharacter(value: string): boolean {
  for (const ch of value) {
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

const TOP_LEVEL = [
  'aet',
  'port',
  'tlsPort',
  'host',
  'plainHost',
  'storage',
  'duplicates',
  'acceptAnyCalledAet',
  'requireBoundAeTitles',
  'access',
  'tls',
  'accept',
  'peers',
  'limits',
  'worklistDir',
  'index',
  'log',
  'audit',
  'workers',
] as const;

/** `index: { url }`: a PostgreSQL URL (`postgres://` or `postgresql://`), or absent for SQLite. */
function parseIndex(c: Checker, raw: unknown): { url?: string } {
  const i = c.object('index', raw);
  c.known('index', i, ['url']);
  if (i.url === undefined || i.url === null) return {};
  const url = c.string('index.url', i.url);
  if (!/^postgres(ql)?:\/\/[^\s]+$/.test(url))
    c.fail('index.url', 'must be a postgres://USER@HOST:PORT/DB URL', url.replace(/:[^:@/]*@/, ':***@'));
  return { url };
}

function parseTls(c: Checker, raw: unknown, base: NodeTlsConfig): NodeTlsConfig {
  if (raw === undefined || raw === null) return base;
  const t = c.object('tls', raw);
  c.known('tls', t, [
    'key',
    'cert',
    'pfx',
    'ca',
    'crl',
    'requirePeerCertificate',
    'profile',
    'passphraseFile',
  ]);
  const out: NodeTlsConfig = { ...base, ca: [...base.ca], crl: [...base.crl] };
  if (t.key !== undefined) out.key = c.path('tls.key', t.key);
  if (t.cert !== undefined) out.cert = c.path('tls.cert', t.cert);
  if (t.pfx !== undefined) out.pfx = c.path('tls.pfx', t.pfx);
  if (t.ca !== undefined) out.ca = c.paths('tls.ca', t.ca);
  if (t.crl !== undefined) out.crl = c.paths('tls.crl', t.crl);
  if (t.requirePeerCertificate !== undefined)
    out.requirePeerCertificate = c.boolean('tls.requirePeerCertificate', t.requirePeerCertificate);
  if (t.profile !== undefined) out.profile = c.oneOf('tls.profile', t.profile, PROFILES);
  if (t.passphraseFile !== undefined) out.passphraseFile = c.path('tls.passphraseFile', t.passphraseFile);
  if (out.pfx !== undefined && (out.key !== undefined || out.cert !== undefined))
    c.fail('tls.pfx', 'give either pfx or key and cert, not both');
  if ((out.key === undefined) !== (out.cert === undefined))
    c.fail(out.key === undefined ? 'tls.key' : 'tls.cert', 'key and cert must be given together');
  return out;
}

function parseAccept(c: Checker, raw: unknown): NodeAcceptConfig {
  if (raw === undefined || raw === null) return {};
  const a = c.object('accept', raw);
  c.known('accept', a, ['sopClasses', 'transferSyntaxes']);
  const out: NodeAcceptConfig = {};
  if (a.sopClasses !== undefined && a.sopClasses !== null) {
    out.sopClasses = c.uids('accept.sopClasses', a.sopClasses);
    for (const [i, uid] of out.sopClasses.entries())
      if (!isStorageSopClass(uid))
        c.fail(`accept.sopClasses[${i}]`, 'is not a storage SOP class (1.2.840.10008.5.1.4.1.1.…)', uid);
  }
  if (a.transferSyntaxes !== undefined && a.transferSyntaxes !== null) {
    out.transferSyntaxes = c.uids('accept.transferSyntaxes', a.transferSyntaxes);
    for (const [i, uid] of out.transferSyntaxes.entries())
      if (!transferSyntaxInfo(uid))
        c.fail(`accept.transferSyntaxes[${i}]`, 'is not a transfer syntax dicomnet knows', uid);
  }
  return out;
}

function parsePeerClient(c: Checker, path: string, raw: unknown): PeerClientCredentials {
  const p = c.object(path, raw);
  c.known(path, p, ['key', 'cert', 'pfx', 'passphraseFile']);
  const out: PeerClientCredentials = {};
  if (p.key !== undefined) out.key = c.path(`${path}.key`, p.key);
  if (p.cert !== undefined) out.cert = c.path(`${path}.cert`, p.cert);
  if (p.pfx !== undefined) out.pfx = c.path(`${path}.pfx`, p.pfx);
  if (p.passphraseFile !== undefined) out.passphraseFile = c.path(`${path}.passphraseFile`, p.passphraseFile);
  if (out.pfx !== undefined && (out.key !== undefined || out.cert !== undefined))
    c.fail(`${path}.pfx`, 'give either pfx or key and cert, not both');
  if ((out.key === undefined) !== (out.cert === undefined))
    c.fail(out.key === undefined ? `${path}.key` : `${path}.cert`, 'key and cert must be given together');
  if (out.key === undefined && out.pfx === undefined) c.fail(path, 'needs key and cert, or pfx');
  return out;
}

function parsePeers(c: Checker, raw: unknown): Record<string, PeerConfig> {
  if (raw === undefined || raw === null) return noPeers();
  const peers = c.object('peers', raw);
  const out = noPeers();
  for (const [aet, value] of Object.entries(peers)) {
    const path = `peers.${aet}`;
    c.aet(`${path} (AE title)`, aet);
    const p = c.object(path, value);
    c.known(path, p, [
      'host',
      'port',
      'tls',
      'identity',
      'serverName',
      'client',
      'allow',
      'moveDestinations',
    ]);
    const peer: PeerConfig = { tls: p.tls === undefined ? false : c.boolean(`${path}.tls`, p.tls) };
    if (p.host !== undefined) peer.host = c.string(`${path}.host`, p.host);
    if (p.port !== undefined) peer.port = c.port(`${path}.port`, p.port);
    if ((peer.host === undefined) !== (peer.port === undefined))
      c.fail(`${path}.${peer.host === undefined ? 'host' : 'port'}`, 'host and port must be given together');
    if (p.allow !== undefined) peer.allow = c.services(`${path}.allow`, p.allow);
    if (p.moveDestinations !== undefined) {
      const list = Array.isArray(p.moveDestinations) ? p.moveDestinations : [p.moveDestinations];
      peer.moveDestinations = list.map((v, i) =>
        v === '*' ? '*' : c.aet(`${path}.moveDestinations[${i}]`, v),
      );
    }
    if (p.identity !== undefined) {
      const list = Array.isArray(p.identity) ? p.identity : [p.identity];
      peer.identity = list.map((v, i) => c.string(`${path}.identity[${i}]`, v));
    }
    if (p.serverName !== undefined) peer.serverName = c.string(`${path}.serverName`, p.serverName);
    if (p.client !== undefined && p.client !== null)
      peer.client = parsePeerClient(c, `${path}.client`, p.client);
    if (!peer.tls && (peer.serverName !== undefined || peer.client !== undefined))
      c.fail(`${path}.tls`, `must be true when serverName or client credentials are given`, p.tls);
    out[aet.trim()] = peer;
  }
  for (const [aet, peer] of Object.entries(out))
    for (const [i, dest] of (peer.moveDestinations ?? []).entries())
      if (dest !== '*' && !Object.hasOwn(out, dest))
        c.fail(`peers.${aet}.moveDestinations[${i}]`, 'is not a configured peer', dest);
  return out;
}

function parseAccess(c: Checker, raw: unknown, base: NodeAccessConfig): NodeAccessConfig {
  if (raw === undefined || raw === null) return base;
  const a = c.object('access', raw);
  c.known('access', a, ['unknownPeers', 'authenticatedPeers']);
  return {
    unknownPeers:
      a.unknownPeers === undefined ? base.unknownPeers : c.services('access.unknownPeers', a.unknownPeers),
    authenticatedPeers:
      a.authenticatedPeers === undefined
        ? base.authenticatedPeers
        : c.services('access.authenticatedPeers', a.authenticatedPeers),
  };
}

function parseLimits(c: Checker, raw: unknown, base: NodeLimits): NodeLimits {
  if (raw === undefined || raw === null) return base;
  const l = c.object('limits', raw);
  const keys = Object.keys(LIMIT_RANGES) as (keyof NodeLimits)[];
  c.known('limits', l, keys);
  const out: NodeLimits = { ...base };
  for (const key of keys) {
    const [min, max] = LIMIT_RANGES[key];
    if (l[key] !== undefined) out[key] = c.integer(`limits.${key}`, l[key], min, max);
  }
  return out;
}

function parseAudit(c: Checker, raw: unknown, base: NodeAuditConfig): NodeAuditConfig {
  if (raw === undefined || raw === null) return base;
  const a = c.object('audit', raw);
  c.known('audit', a, ['file', 'fsync', 'syslog']);
  const out: NodeAuditConfig = { ...base };
  if (a.file === false || a.file === null) out.file = false;
  else if (a.file !== undefined) out.file = c.path('audit.file', a.file);
  if (a.fsync !== undefined)
    out.fsync = c.oneOf('audit.fsync', a.fsync, ['always', 'batch', 'none'] as const);
  if (a.syslog === false || a.syslog === null) delete out.syslog;
  else if (a.syslog !== undefined) {
    const t = c.object('audit.syslog', a.syslog);
    c.known('audit.syslog', t, [
      'host',
      'port',
      'ca',
      'cert',
      'key',
      'passphraseFile',
      'servername',
      'queueLimit',
      'bom',
    ]);
    const syslog: NodeAuditSyslogConfig = {
      host: c.string('audit.syslog.host', t.host),
      port: t.port === undefined ? 6514 : c.port('audit.syslog.port', t.port),
      ca: c.paths('audit.syslog.ca', t.ca),
      queueLimit:
        t.queueLimit === undefined ? 1000 : c.integer('audit.syslog.queueLimit', t.queueLimit, 1, 1_000_000),
      bom: t.bom === undefined ? false : c.boolean('audit.syslog.bom', t.bom),
    };
    if (t.cert !== undefined) syslog.cert = c.path('audit.syslog.cert', t.cert);
    if (t.key !== undefined) syslog.key = c.path('audit.syslog.key', t.key);
    if ((syslog.cert === undefined) !== (syslog.key === undefined))
      c.fail(
        syslog.key === undefined ? 'audit.syslog.key' : 'audit.syslog.cert',
        'key and cert must be given together',
      );
    if (t.passphraseFile !== undefined)
      syslog.passphraseFile = c.path('audit.syslog.passphraseFile', t.passphraseFile);
    if (t.servername !== undefined) syslog.servername = c.string('audit.syslog.servername', t.servername);
    out.syslog = syslog;
  }
  return out;
}

function parseWith(c: Checker, raw: unknown, base: NodeConfig): NodeConfig {
  const r = c.object('(top level)', raw);
  c.known('', r, TOP_LEVEL);
  const out: NodeConfig = { ...base };
  if (r.aet !== undefined) out.aet = c.aet('aet', r.aet);
  if (r.port !== undefined) out.port = c.optionalPort('port', r.port);
  if (r.tlsPort !== undefined) out.tlsPort = c.optionalPort('tlsPort', r.tlsPort);
  if (r.host !== undefined) out.host = c.string('host', r.host);
  if (r.plainHost !== undefined) out.plainHost = c.string('plainHost', r.plainHost);
  if (r.storage !== undefined) out.storage = c.path('storage', r.storage);
  if (r.duplicates !== undefined) out.duplicates = c.oneOf('duplicates', r.duplicates, POLICIES);
  if (r.acceptAnyCalledAet !== undefined)
    out.acceptAnyCalledAet = c.boolean('acceptAnyCalledAet', r.acceptAnyCalledAet);
  if (r.requireBoundAeTitles !== undefined)
    out.requireBoundAeTitles = c.boolean('requireBoundAeTitles', r.requireBoundAeTitles);
  out.access = parseAccess(c, r.access, base.access);
  out.tls = parseTls(c, r.tls, base.tls);
  if (r.accept !== undefined) out.accept = parseAccept(c, r.accept);
  if (r.peers !== undefined) out.peers = parsePeers(c, r.peers);
  out.limits = parseLimits(c, r.limits, base.limits);
  if (r.worklistDir !== undefined) out.worklistDir = c.path('worklistDir', r.worklistDir);
  if (r.index !== undefined && r.index !== null) out.index = parseIndex(c, r.index);
  if (r.log !== undefined && r.log !== null) {
    const l = c.object('log', r.log);
    c.known('log', l, ['level', 'format']);
    out.log = {
      level: l.level === undefined ? base.log.level : c.oneOf('log.level', l.level, LOG_LEVELS),
      format: l.format === undefined ? base.log.format : c.oneOf('log.format', l.format, LOG_FORMATS),
    };
  }
  out.audit = parseAudit(c, r.audit, base.audit);
  if (r.workers !== undefined)
    out.workers = r.workers === 'auto' ? 'auto' : c.integer('workers', r.workers, 1, 1024);
  if (out.port !== null && out.port === out.tlsPort) c.fail('tlsPort', `must differ from port ${out.port}`);
  return out;
}

/**
 * Validate a configuration object (from JSON/YAML) and fill in the defaults. Relative
 * paths (storage, TLS files, worklistDir) are resolved against `baseDir`.
 * Throws {@link ConfigError} naming the bad field.
 */
export function parseNodeConfig(
  raw: unknown,
  options: { source?: string; baseDir?: string } = {},
): NodeConfig {
  const checker = new Checker(options.source, options.baseDir ?? process.cwd());
  return parseWith(checker, raw ?? {}, defaultNodeConfig());
}

/**
 * Read a JSON or YAML configuration file (by extension; other names are tried as JSON,
 * then YAML). Relative paths inside it are resolved against the file's directory.
 */
export function loadNodeConfig(path: string): NodeConfig {
  let textContent: string;
  try {
    textContent = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`config ${path}: cannot read: ${(err as Error).message}`, { cause: err });
  }
  const ext = extname(path).toLowerCase();
  let raw: unknown;
  try {
    if (ext === '.json') raw = JSON.parse(textContent);
    else if (ext === '.yaml' || ext === '.yml') raw = parseYaml(textContent);
    else {
      try {
        raw = JSON.parse(textContent);
      } catch {
        raw = parseYaml(textContent);
      }
    }
  } catch (err) {
    throw new ConfigError(
      `config ${path}: not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return parseNodeConfig(raw, { source: path, baseDir: dirname(resolve(path)) });
}

/**
 * Apply overrides (typically command-line options) on top of a configuration; nested
 * sections merge field by field, `undefined` means "not given", `false`/`null` ports
 * disable a listener. The result is validated like a file. Relative paths in the
 * overrides resolve against the current directory.
 */
export function mergeConfig(config: NodeConfig, overrides: NodeConfigOverrides): NodeConfig {
  const defined = <T extends object>(o: T | undefined): Partial<T> =>
    Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
  const top = defined(overrides);
  const raw: Record<string, unknown> = { ...config, ...top };
  raw.tls = { ...config.tls, ...defined(overrides.tls) };
  raw.limits = { ...config.limits, ...defined(overrides.limits) };
  raw.log = { ...config.log, ...defined(overrides.log) };
  raw.accept = { ...config.accept, ...defined(overrides.accept) };
  raw.access = { ...config.access, ...defined(overrides.access) };
  if (overrides.peers !== undefined) raw.peers = { ...config.peers, ...overrides.peers };
  raw.audit = mergeAudit(config.audit, overrides.audit);
  delete raw.indexUrl;
  if (overrides.indexUrl !== undefined) raw.index = { url: overrides.indexUrl };
  else if (config.index === undefined) delete raw.index;
  for (const key of ['host', 'worklistDir'] as const) if (raw[key] === undefined) delete raw[key];
  const tls = raw.tls as Record<string, unknown>;
  for (const key of ['key', 'cert', 'pfx', 'passphraseFile'] as const)
    if (tls[key] === undefined) delete tls[key];
  return parseWith(new Checker('command line', process.cwd()), raw, defaultNodeConfig());
}

function mergeAudit(config: NodeAuditConfig, overrides: NodeConfigOverrides['audit']): NodeAuditConfig {
  const out: NodeAuditConfig = { ...config };
  if (overrides?.file !== undefined) out.file = overrides.file;
  if (overrides?.fsync !== undefined) out.fsync = overrides.fsync;
  if (overrides?.syslog !== undefined)
    out.syslog = {
      ...(config.syslog ?? { ca: [], queueLimit: 1000, bom: false }),
      host: overrides.syslog.host,
      port: overrides.syslog.port ?? config.syslog?.port ?? 6514,
    };
  if (out.file === undefined) delete out.file;
  return out;
}
