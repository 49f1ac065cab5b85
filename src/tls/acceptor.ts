/**
 * The acceptor side: secure accepted TCP sockets, verify client certificates,
 * detect plaintext DICOM on the TLS port, reload credentials without a restart.
 *
 * A `tls.Server` that never listens does the TLS work: accepted sockets are handed to
 * it (`emit('connection')`), which gives us Node's server-side verification result
 * (`authorizationError`), session tickets for resumption and `setSecureContext` for
 * hot reload. Verification failures are decided here (not by OpenSSL) so the reason
 * can be reported and logged.
 */
import { randomBytes } from 'node:crypto';
import { type FSWatcher, statSync, watch } from 'node:fs';
import { basename, dirname, resolve as resolvePath } from 'node:path';
import type { Socket } from 'node:net';
import { Server as TlsServer, type TLSSocket } from 'node:tls';
import { type Logger, silentLogger } from '../log.js';
import { loadTlsCredentials, type TlsCredentials } from './credentials.js';
import { peerCertificateInfo } from './certificate.js';
import { buildSecureContext, secureContextOptions } from './context.js';
import { describeSecureLink } from './describe.js';
import { TlsError } from './errors.js';
import { handshakeError, verificationError } from './handshake-errors.js';
import { checkKeyStrength, type ResolvedProfile, resolveProfile } from './profiles.js';
import type { SecureLinkInfo, SecurityProfileName, TlsOptions } from './types.js';

/** A secured accepted connection. */
export interface AcceptedSecureConnection {
  socket: TLSSocket;
  info: SecureLinkInfo;
}

/** Secures accepted sockets with one set of credentials and a profile. */
export interface SecureAcceptor {
  /** The enforced profile. */
  readonly profile: SecurityProfileName;
  /**
   * Run the server side of the handshake on an accepted socket. Rejects with a
   * TlsError (`ERR_TLS_PLAINTEXT_ON_TLS_PORT`, `ERR_TLS_NOT_TLS`,
   * `ERR_TLS_PEER_CERT_REQUIRED`, `ERR_TLS_UNTRUSTED_ISSUER`, `ERR_TLS_CERT_EXPIRED`,
   * `ERR_TLS_CERT_NOT_YET_VALID`, `ERR_TLS_CERT_REVOKED`, `ERR_TLS_NO_SHARED_CIPHER`,
   * `ERR_TLS_HANDSHAKE_TIMEOUT`, `ERR_TLS_HANDSHAKE`) and destroys the socket on failure.
   */
  accept(socket: Socket, options?: { handshakeTimeoutMs?: number }): Promise<AcceptedSecureConnection>;
  /** Re-read key, certificate, CA and CRL files; new handshakes use them, running connections are untouched. */
  reloadCredentials(): Promise<void>;
  /**
   * Watch the credential files and reload on change (debounced). A broken new set
   * is logged and the old one kept. Returns a function that stops watching.
   */
  watchCredentials(options?: { debounceMs?: number }): () => void;
  /** Stop watching; running connections are untouched. */
  close(): void;
}

interface Pending {
  resolve: (c: AcceptedSecureConnection) => void;
  reject: (e: TlsError) => void;
}

const TLS_HANDSHAKE_RECORD = 0x16;
const A_ASSOCIATE_RQ = 0x01;

/** Read the first byte without consuming it (it stays buffered for the TLS layer). */
function peekFirstByte(socket: Socket, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      cleanup();
      socket.pause();
      socket.unshift(chunk);
      resolve(chunk[0] ?? -1);
    };
    const onEnd = () => {
      cleanup();
      reject(Object.assign(new Error('socket disconnected'), { code: 'ECONNRESET' }));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new TlsError(
          'ERR_TLS_HANDSHAKE_TIMEOUT',
          `TLS: client ${endpoint(socket)} sent nothing for ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
  });
}

function endpoint(socket: Socket): string {
  const address = socket.remoteAddress ?? '?';
  return `${address.includes(':') ? `[${address}]` : address}:${socket.remotePort ?? '?'}`;
}

/** Where credentials live: a directory to watch, and the file names in it that matter (none = any: a CA directory). */
function watchTargets(opts: TlsOptions): Map<string, Set<string> | 'any'> {
  const targets = new Map<string, Set<string> | 'any'>();
  const add = (v: unknown) => {
    if (typeof v !== 'string' || v.trimStart().startsWith('-----BEGIN')) return;
    const path = resolvePath(v);
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      // missing now: watch its directory for it to appear
    }
    if (isDir) {
      targets.set(path, 'any');
      return;
    }
    const current = targets.get(dirname(path));
    if (current === 'any') return;
    const names = current ?? new Set<string>();
    names.add(basename(path));
    targets.set(dirname(path), names);
  };
  for (const v of [opts.key, opts.pfx, ...[opts.cert, opts.ca, opts.crl].flat()]) add(v);
  return targets;
}

/**
 * Create an acceptor for `opts` (loads and checks the credentials now). Needs a
 * certificate and key (or `pfx`); `requirePeerCertificate` needs `ca`. With `ca` but
 * without `requirePeerCertificate`, a client certificate is asked for and verified when
 * one is sent (DCMTK `--verify-peer-cert`), but not required.
 */
export async function createSecureAcceptor(
  opts: TlsOptions,
  log: Logger = silentLogger(),
): Promise<SecureAcceptor> {
  const resolved: ResolvedProfile = resolveProfile(opts, log);
  const load = async (): Promise<TlsCredentials> => {
    const creds = await loadTlsCredentials(opts, log);
    if (!creds.pfx && !creds.keyObject)
      throw new TlsError(
        'ERR_TLS_MISSING_CREDENTIALS',
        'TLS: a TLS acceptor needs a certificate and private key (key/cert or pfx)',
      );
    if (opts.requirePeerCertificate && !creds.ca)
      throw new TlsError(
        'ERR_TLS_MISSING_CREDENTIALS',
        'TLS: requirePeerCertificate needs trusted CA certificates (ca)',
      );
    if (creds.keyObject) checkKeyStrength(resolved.profile, creds.keyObject, `our key ${creds.sources.key}`);
    buildSecureContext(creds, resolved); // fail now, with a precise message, on unusable files
    return creds;
  };
  const requireCert = opts.requirePeerCertificate === true;
  const initial = await load();
  const server = new TlsServer({
    ...secureContextOptions(initial, resolved),
    requestCert: requireCert || initial.ca !== undefined,
    rejectUnauthorized: false,
    // accept() runs its own per-connection handshake timer; Node reads 0 as "default 120 s", < 0 as off
    handshakeTimeout: -1,
    // PS3.15 peers resume by session tickets (TLS 1.2 RFC 5077 and TLS 1.3)
    sessionTimeout: 300,
  });
  const pending = new Map<string, Pending>();
  const profile = resolved.profile.name;

  const settle = (socket: TLSSocket, outcome: { ok: AcceptedSecureConnection } | { err: TlsError }) => {
    const key = endpoint(socket);
    const p = pending.get(key);
    if (!p) return;
    pending.delete(key);
    if ('ok' in outcome) p.resolve(outcome.ok);
    else p.reject(outcome.err);
  };

  server.on('secureConnection', (socket: TLSSocket) => {
    const peer = endpoint(socket);
    const cert = socket.getPeerX509Certificate();
    let err: TlsError | undefined;
    if (!cert && requireCert)
      err = new TlsError(
        'ERR_TLS_PEER_CERT_REQUIRED',
        `TLS: client ${peer} sent no certificate, but one is required`,
      );
    else if (cert && socket.authorizationError)
      err = verificationError(String(socket.authorizationError), cert, `client ${peer}`);
    else if (cert) {
      try {
        checkKeyStrength(resolved.profile, cert.publicKey, `the certificate of client ${peer}`);
      } catch (e) {
        err = e as TlsError;
      }
    }
    if (err) {
      if (cert) err.peerCertificate = peerCertificateInfo(cert);
      log.warn({ peer, code: err.code }, err.message);
      socket.destroy();
      settle(socket, { err });
      return;
    }
    const info = describeSecureLink(socket, profile);
    // leave OpenSSL's read path before the caller starts writing
    setImmediate(() => settle(socket, { ok: { socket, info } }));
  });
  server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
    const err = handshakeError(error, { side: 'server', peer: endpoint(socket) });
    log.warn({ peer: endpoint(socket), code: err.code }, err.message);
    settle(socket, { err });
  });

  let current = initial;
  let watchers: FSWatcher[] = [];
  let debounce: NodeJS.Timeout | undefined;

  const reloadCredentials = async () => {
    const next = await load();
    server.setSecureContext(secureContextOptions(next, resolved));
    // new trust (CA, CRL) must not be bypassed by resuming a session verified under the old one
    server.setTicketKeys(randomBytes(48));
    current = next;
    log.info(
      {
        cert: current.sources.cert ?? current.sources.pfx,
        fingerprint256: current.certificate?.fingerprint256,
      },
      'TLS: credentials reloaded',
    );
  };

  const stopWatching = () => {
    for (const w of watchers) w.close();
    watchers = [];
    if (debounce) clearTimeout(debounce);
    debounce = undefined;
  };

  return {
    profile,
    async accept(socket, options = {}) {
      const timeoutMs = options.handshakeTimeoutMs ?? 30_000;
      const peer = endpoint(socket);
      const started = Date.now();
      let first: number;
      try {
        first = await peekFirstByte(socket, timeoutMs);
      } catch (err) {
        socket.destroy();
        throw handshakeError(err, { side: 'server', peer });
      }
      if (first !== TLS_HANDSHAKE_RECORD) {
        socket.destroy();
        const err =
          first === A_ASSOCIATE_RQ
            ? new TlsError(
                'ERR_TLS_PLAINTEXT_ON_TLS_PORT',
                `TLS: plaintext DICOM (A-ASSOCIATE-RQ) received on the TLS port from ${peer}`,
              )
            : new TlsError(
                'ERR_TLS_NOT_TLS',
                `TLS: client ${peer} does not speak TLS (first byte 0x${first.toString(16).padStart(2, '0')})`,
              );
        log.warn({ peer, code: err.code }, err.message);
        throw err;
      }
      return new Promise<AcceptedSecureConnection>((resolve, reject) => {
        const remaining = Math.max(1, timeoutMs - (Date.now() - started));
        const timer = setTimeout(() => {
          if (!pending.has(peer)) return;
          pending.delete(peer);
          socket.destroy();
          const err = new TlsError(
            'ERR_TLS_HANDSHAKE_TIMEOUT',
            `TLS: handshake with client ${peer} timed out after ${timeoutMs} ms`,
          );
          log.warn({ peer, code: err.code }, err.message);
          reject(err);
        }, remaining);
        pending.set(peer, {
          resolve: (c) => {
            clearTimeout(timer);
            resolve(c);
          },
          reject: (e) => {
            clearTimeout(timer);
            socket.destroy();
            reject(e);
          },
        });
        // the TLS socket's own peer address may be gone by the time a failure is reported
        socket.once('close', () => {
          const p = pending.get(peer);
          if (!p) return;
          pending.delete(peer);
          const err = new TlsError(
            'ERR_TLS_HANDSHAKE',
            `TLS: client ${peer} closed the connection during the TLS handshake`,
          );
          log.warn({ peer, code: err.code }, err.message);
          p.reject(err);
        });
        server.emit('connection', socket);
      });
    },
    reloadCredentials,
    watchCredentials(options = {}) {
      stopWatching();
      const debounceMs = options.debounceMs ?? 500;
      const trigger = () => {
        if (debounce) clearTimeout(debounce);
        debounce = setTimeout(() => {
          debounce = undefined;
          reloadCredentials().catch((err: unknown) =>
            log.error(
              { err: (err as Error).message },
              'TLS: credential reload failed; keeping the previous certificate',
            ),
          );
        }, debounceMs);
      };
      // watch directories, not files: renewals often replace files by rename, which ends a file watch
      for (const [dir, names] of watchTargets(opts)) {
        try {
          watchers.push(
            watch(dir, { persistent: false }, (_event, filename) => {
              if (names === 'any' || filename === null || names.has(String(filename))) trigger();
            }),
          );
        } catch (err) {
          log.warn({ dir, err: (err as Error).message }, 'TLS: cannot watch credential directory');
        }
      }
      return stopWatching;
    },
    close() {
      stopWatching();
      for (const p of pending.values())
        p.reject(new TlsError('ERR_TLS_HANDSHAKE', 'TLS: acceptor closed during the handshake'));
      pending.clear();
    },
  };
}
