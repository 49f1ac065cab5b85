/**
 * The requestor side: secure an already-connected TCP socket with TLS, verify the
 * server, report what was negotiated.
 *
 * Trust: the server certificate is always verified. With `ca` only those anchors
 * are trusted (as DCMTK `+cf`/`+cd`); without `ca`, Node's bundled Mozilla root store
 * is used — never "trust anything". The host name (or IP) is checked against the
 * certificate unless `checkServerIdentity: false` is given explicitly (logged as a warning).
 */
import { createHash, type X509Certificate } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import { connect, type SecureContext, type TLSSocket } from 'node:tls';
import { type Logger, silentLogger } from '../log.js';
import { loadTlsCredentials, type TlsCredentials } from './credentials.js';
import { buildSecureContext } from './context.js';
import { describeSecureLink } from './describe.js';
import { TlsError } from './errors.js';
import { handshakeError, verificationError } from './handshake-errors.js';
import { checkKeyStrength, resolveProfile } from './profiles.js';
import type { SecureLinkInfo, TlsOptions } from './types.js';

/** Options of {@link secureClientConnect}. */
export type SecureClientOptions = TlsOptions & {
  /** The host connected to: SNI (when a name) and identity check (unless `servername`). */
  host: string;
  port?: number;
  /** Fail when the handshake takes longer (default 30 s). */
  handshakeTimeoutMs?: number;
  /**
   * The TLS configuration these options were copied from. Key material is loaded (and a key
   * password asked for) once per configuration object, and every connection made with it
   * shares one OpenSSL context. Default: these options object itself.
   */
  configuration?: TlsOptions;
};

/** What one client TLS configuration resolves to: loaded once, shared by its connections. */
interface ClientTlsContext {
  resolved: ReturnType<typeof resolveProfile>;
  creds: TlsCredentials;
  secureContext: SecureContext;
}

let contextCache = new WeakMap<TlsOptions, Promise<ClientTlsContext>>();

async function buildClientContext(opts: TlsOptions, log: Logger): Promise<ClientTlsContext> {
  const resolved = resolveProfile(opts, log);
  const creds = await loadTlsCredentials(opts, log);
  if (creds.keyObject) checkKeyStrength(resolved.profile, creds.keyObject, `our key ${creds.sources.key}`);
  return { resolved, creds, secureContext: buildSecureContext(creds, resolved) };
}

/** The context of a configuration, built on first use; a failed build is not kept (a retry reloads). */
function clientContextFor(opts: TlsOptions, log: Logger): Promise<ClientTlsContext> {
  const cached = contextCache.get(opts);
  if (cached) return cached;
  const building = buildClientContext(opts, log);
  contextCache.set(opts, building);
  building.catch(() => {
    if (contextCache.get(opts) === building) contextCache.delete(opts);
  });
  return building;
}

/**
 * Load (and cache) the credentials, trust anchors and profile of a client configuration, so that
 * a missing or unreadable file fails before any connection is opened.
 */
export async function prepareClientTls(opts: TlsOptions, log: Logger = silentLogger()): Promise<void> {
  await clientContextFor(opts, log);
}

/** A secured connection and what it negotiated. */
export interface SecureConnection {
  socket: TLSSocket;
  info: SecureLinkInfo;
}

const MAX_CACHED_SESSIONS = 256;
/** Last session per (host, port, servername, trust/identity material). */
interface CachedSession {
  session: Buffer;
  /** The verified server certificate (OpenSSL does not always keep it in resumed sessions). */
  peer?: X509Certificate;
}
const sessionCache = new Map<string, CachedSession>();

function rememberSession(key: string, entry: CachedSession): void {
  sessionCache.delete(key);
  sessionCache.set(key, entry);
  if (sessionCache.size > MAX_CACHED_SESSIONS) {
    const oldest = sessionCache.keys().next().value;
    if (oldest !== undefined) sessionCache.delete(oldest);
  }
}

/**
 * Forget every cached TLS session and every loaded client configuration (e.g. after
 * rotating trust anchors or replacing key files): the next connections load them again.
 */
export function clearTlsSessionCache(): void {
  sessionCache.clear();
  contextCache = new WeakMap();
}

function sessionKey(opts: SecureClientOptions, servername: string, creds: TlsCredentials): string {
  // a session verified under one trust configuration must not be resumed under another
  const h = createHash('sha256');
  for (const part of [
    ...(creds.ca ?? ['<system roots>']),
    ...(creds.crl ?? []),
    creds.cert ?? '',
    opts.profile ?? '',
    opts.ciphers ?? '',
    String(opts.checkServerIdentity),
  ])
    h.update(part).update('\0');
  return `${opts.host}|${opts.port ?? ''}|${servername}|${h.digest('hex')}`;
}

/** After a TLS 1.3 handshake the server may still reject our certificate; its tickets or its alert tell. */
const TLS13_VERDICT_WAIT_MS = 250;

/**
 * Wrap a connected TCP socket in TLS as client, verify the server and describe the link.
 *
 * @throws TlsError with `ERR_TLS_UNTRUSTED_ISSUER`, `ERR_TLS_CERT_EXPIRED`,
 *   `ERR_TLS_CERT_NOT_YET_VALID`, `ERR_TLS_HOSTNAME_MISMATCH`, `ERR_TLS_CERT_REVOKED`,
 *   `ERR_TLS_PEER_CERT_REQUIRED`, `ERR_TLS_NO_SHARED_CIPHER`, `ERR_TLS_NOT_TLS`,
 *   `ERR_TLS_HANDSHAKE_TIMEOUT`, `ERR_TLS_HANDSHAKE`, or a credential/profile error.
 *   The socket is destroyed on failure.
 */
export async function secureClientConnect(
  socket: Socket,
  opts: SecureClientOptions,
  log: Logger = silentLogger(),
): Promise<SecureConnection> {
  let resolved: ClientTlsContext['resolved'];
  let creds: TlsCredentials;
  let secureContext: SecureContext;
  try {
    ({ resolved, creds, secureContext } = await clientContextFor(opts.configuration ?? opts, log));
  } catch (err) {
    socket.destroy();
    throw err;
  }
  const servername = opts.servername ?? opts.host;
  const peer = `${opts.host}:${opts.port ?? socket.remotePort ?? '?'}`;
  const checkIdentity = opts.checkServerIdentity !== false;
  if (!checkIdentity)
    log.warn(
      { peer },
      'TLS: server host name check disabled (checkServerIdentity: false); any trusted certificate is accepted',
    );
  if (!creds.ca) log.debug({ peer }, 'TLS: no CA given; verifying the server against the system root store');
  const resumption = opts.sessionResumption !== false;
  const key = sessionKey(opts, servername, creds);
  const cached = resumption ? sessionCache.get(key) : undefined;
  let verifiedPeer: X509Certificate | undefined;
  const timeoutMs = opts.handshakeTimeoutMs ?? 30_000;

  const tlsSocket = connect({
    socket,
    secureContext,
    servername: isIP(servername) ? undefined : servername,
    session: cached?.session,
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
    minDHSize: 2048,
  });
  if (resumption)
    tlsSocket.on('session', (session: Buffer) => rememberSession(key, { session, peer: verifiedPeer }));

  return new Promise<SecureConnection>((resolve, reject) => {
    let settled = false;
    let verdictTimer: NodeJS.Timeout | undefined;
    const cleanup = () => {
      clearTimeout(timer);
      if (verdictTimer) clearTimeout(verdictTimer);
      tlsSocket.off('error', onError);
      tlsSocket.off('close', onClose);
      tlsSocket.off('secureConnect', onSecureConnect);
      tlsSocket.off('session', onTicket);
    };
    const fail = (err: TlsError) => {
      if (settled) return;
      settled = true;
      cleanup();
      sessionCache.delete(key);
      tlsSocket.destroy();
      socket.destroy();
      // the caller gets the error and reports it; a warning here would say it twice
      log.debug({ peer, code: err.code }, err.message);
      reject(err);
    };
    const succeed = () => {
      if (settled) return;
      settled = true;
      cleanup();
      const info = describeSecureLink(tlsSocket, resolved.profile.name, verifiedPeer);
      log.debug({ peer, secureLink: info }, 'TLS: secure link ready');
      resolve({ socket: tlsSocket, info });
    };
    // a TLS server that refuses us sends an alert first; silence then a reset means the port is not TLS
    const silentPeer = () => tlsSocket.bytesRead === 0 && socket.bytesRead === 0;
    const notTls = () =>
      new TlsError(
        'ERR_TLS_NOT_TLS',
        `TLS: peer at ${peer} does not speak TLS (is this a plain DICOM port?): it closed the connection without answering the TLS ClientHello`,
      );
    const presentedCertificate = creds.certificate !== undefined || creds.pfx !== undefined;
    const closedAfterHandshake = () =>
      presentedCertificate
        ? new TlsError(
            'ERR_TLS_HANDSHAKE',
            `TLS: ${peer} closed the connection right after the TLS handshake: it probably rejected our client certificate (see its log)`,
          )
        : new TlsError(
            'ERR_TLS_PEER_CERT_REQUIRED',
            `TLS: server requires a client certificate (${peer} closed the connection right after the TLS handshake)`,
          );
    const onError = (err: Error & { code?: string }) => {
      const reset = err.code === 'ECONNRESET' || err.code === 'EPIPE';
      if (reset && silentPeer()) fail(notTls());
      else if (reset && verdictTimer) fail(closedAfterHandshake());
      else fail(handshakeError(err, { side: 'client', peer }));
    };
    const onClose = () =>
      fail(
        silentPeer()
          ? notTls()
          : verdictTimer
            ? closedAfterHandshake()
            : handshakeError(Object.assign(new Error('socket disconnected'), { code: 'ECONNRESET' }), {
                side: 'client',
                peer,
              }),
      );
    // 'session' fires inside OpenSSL's read path; writes made there (by our caller) would be lost
    const onTicket = () => setImmediate(succeed);
    const onSecureConnect = () => {
      const resumed = tlsSocket.isSessionReused();
      const cert = tlsSocket.getPeerX509Certificate() ?? (resumed ? cached?.peer : undefined);
      verifiedPeer = cert;
      if (!tlsSocket.authorized) {
        fail(verificationError(String(tlsSocket.authorizationError ?? 'UNKNOWN'), cert, 'server'));
        return;
      }
      // a resumed session was verified (trust and name) when it was established, under the same cache key
      if (checkIdentity && !(resumed && cert === undefined)) {
        // OpenSSL's X509_check_host/X509_check_ip (RFC 6125: SAN first, CN only without DNS SANs)
        const matches = cert
          ? isIP(servername)
            ? cert.checkIP(servername)
            : cert.checkHost(servername)
          : undefined;
        if (matches === undefined) {
          fail(
            new TlsError(
              'ERR_TLS_HOSTNAME_MISMATCH',
              `TLS: server certificate does not match '${servername}' (${cert?.subjectAltName ? `SAN ${cert.subjectAltName}` : `subject ${cert?.subject.replace(/\n/g, ', ')}`})`,
            ),
          );
          return;
        }
      }
      if (cert) {
        try {
          checkKeyStrength(resolved.profile, cert.publicKey, 'the server certificate');
        } catch (err) {
          fail(err as TlsError);
          return;
        }
      }
      // TLS 1.2 tickets arrive before the handshake ends, i.e. before we verified the peer
      const entry = sessionCache.get(key);
      if (entry && !entry.peer) entry.peer = cert;
      if (tlsSocket.getProtocol() === 'TLSv1.3' && !resumed) {
        tlsSocket.on('session', onTicket);
        verdictTimer = setTimeout(succeed, TLS13_VERDICT_WAIT_MS);
        return;
      }
      succeed();
    };
    const timer = setTimeout(
      () =>
        fail(
          new TlsError(
            'ERR_TLS_HANDSHAKE_TIMEOUT',
            `TLS: handshake with ${peer} timed out after ${timeoutMs} ms`,
          ),
        ),
      timeoutMs,
    );
    tlsSocket.on('error', onError);
    tlsSocket.on('close', onClose);
    tlsSocket.on('secureConnect', onSecureConnect);
  });
}
