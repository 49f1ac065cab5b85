/**
 * The acceptor side: secure accepted TCP sockets, verify client certificates,
 * detect plaintext DICOM on the TLS port, reload credentials without a restart.
 *
 * Each accepted socket gets its own server-side `TLSSocket` over one shared OpenSSL
 * context (replaced on reload; its ticket keys give session resumption). A client that
 * sends no certificate when one is required is refused by OpenSSL itself, with the
 * `certificate_required` (TLS 1.3) or `handshake_failure` (TLS 1.2) alert. Node's
 * OpenSSL verify callback accepts every chain, so the other verification failures
 * (untrusted issuer, revoked, expired) are decided here, after the handshake: under
 * TLS 1.2 the refusal is sent as the matching fatal alert (`unknown_ca`,
 * `certificate_revoked`, `certificate_expired`, ...) before our Finished message, so the
 * client learns the cause; under TLS 1.3 the client has completed its handshake by then
 * and only sees the connection close.
 */
import { randomBytes } from 'node:crypto';
import { type FSWatcher, statSync, watch } from 'node:fs';
import { basename, dirname, resolve as resolvePath } from 'node:path';
import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import { type Logger, silentLogger } from '../log.js';
import { loadTlsCredentials, type TlsCredentials } from './credentials.js';
import { peerCertificateInfo } from './certificate.js';
import { buildSecureContext } from './context.js';
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
  accept(
    socket: Socket,
    options?: {
      handshakeTimeoutMs?: number;
      /** Called once the first bytes are a TLS record, before the handshake; throwing refuses the connection. */
      beforeHandshake?: () => void;
    },
  ): Promise<AcceptedSecureConnection>;
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

const TLS_HANDSHAKE_RECORD = 0x16;
const A_ASSOCIATE_RQ = 0x01;

/** TLS alert descriptions (RFC 5246 7.2.2) for a refused client certificate. */
const ALERT = {
  badCertificate: 42,
  unsupportedCertificate: 43,
  certificateRevoked: 44,
  certificateExpired: 45,
  certificateUnknown: 46,
  unknownCa: 48,
} as const;

/** The alert OpenSSL itself would send for a verification result (ssl_x509err2alert). */
function alertFor(verifyCode: string): number {
  switch (verifyCode) {
    case 'CERT_REVOKED':
      return ALERT.certificateRevoked;
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return ALERT.certificateExpired;
    case 'INVALID_PURPOSE':
      return ALERT.unsupportedCertificate;
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_CRL':
      return ALERT.unknownCa;
    case 'CERT_UNTRUSTED':
    case 'CERT_SIGNATURE_FAILURE':
      return ALERT.badCertificate;
    default:
      return ALERT.certificateUnknown;
  }
}

/** A fatal alert record as sent before the server's ChangeCipherSpec (TLS 1.2: still unencrypted). */
/**
 * A-ASSOCIATE-RJ (PS3.8 9.3.4): rejected-permanent, DICOM UL service-user, no reason given. Sent
 * in plaintext to an A-ASSOCIATE-RQ that arrives on the TLS port.
 */
const PLAINTEXT_REJECT = Buffer.from([0x03, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x01, 0x01, 0x01]);

function plaintextAlert(description: number): Buffer {
  return Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, description]);
}

/** Node keeps the OpenSSL verification result of a server-side socket on its (undocumented) handle. */
interface VerifyResultHandle {
  ssl?: { verifyError?: () => (Error & { code?: string }) | null } | null;
}

function verifyErrorCode(socket: TLSSocket): string | undefined {
  const err = (socket as unknown as VerifyResultHandle).ssl?.verifyError?.();
  return err ? (err.code ?? err.message) : undefined;
}

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
  const requireCert = opts.requirePeerCertificate === true;
  // resumed sessions must stay within this acceptor (OpenSSL refuses resumption without one when verifying peers)
  const sessionIdContext = randomBytes(16).toString('hex');
  const load = async (): Promise<{ creds: TlsCredentials; context: SecureContext }> => {
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
    // PS3.15 peers resume by session tickets (TLS 1.2 RFC 5077 and TLS 1.3); each context has fresh ticket keys
    const context = buildSecureContext(creds, resolved, { sessionIdContext, sessionTimeout: 300 });
    return { creds, context };
  };
  let { creds: current, context } = await load();
  const profile = resolved.profile.name;
  const inFlight = new Set<(err: TlsError) => void>();

  /** Run the handshake on a socket whose first byte is a TLS handshake record. */
  const handshake = (socket: Socket, peer: string, timeoutMs: number, remainingMs: number) =>
    new Promise<AcceptedSecureConnection>((resolve, reject) => {
      const requestCert = requireCert || current.ca !== undefined;
      const tlsSocket = new TLSSocket(socket, {
        isServer: true,
        secureContext: context,
        requestCert,
        // with it OpenSSL refuses a missing certificate itself, with the certificate_required alert
        rejectUnauthorized: requireCert,
      });
      let settled = false;
      const finish = (outcome: { ok: AcceptedSecureConnection } | { err: TlsError }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        inFlight.delete(abort);
        tlsSocket.off('error', onError);
        tlsSocket.off('close', onClose);
        tlsSocket.off('secure', onSecure);
        if ('ok' in outcome) {
          resolve(outcome.ok);
          return;
        }
        tlsSocket.destroy();
        socket.destroy();
        log.warn({ peer, code: outcome.err.code }, outcome.err.message);
        reject(outcome.err);
      };
      const abort = (err: TlsError) => finish({ err });
      const onError = (error: Error) => finish({ err: handshakeError(error, { side: 'server', peer }) });
      const onClose = () =>
        finish({
          err: new TlsError(
            'ERR_TLS_HANDSHAKE',
            `TLS: client ${peer} closed the connection during the TLS handshake`,
          ),
        });
      const refuse = (err: TlsError, alert: number) => {
        const cert = tlsSocket.getPeerX509Certificate();
        if (cert) err.peerCertificate = peerCertificateInfo(cert);
        // TLS 1.2: our Finished has not left yet, so the peer still reads unencrypted records
        if (tlsSocket.getProtocol() === 'TLSv1.2' && !socket.destroyed) socket.write(plaintextAlert(alert));
        finish({ err });
      };
      const onSecure = () => {
        const cert = tlsSocket.getPeerX509Certificate();
        const verifyCode = requestCert ? verifyErrorCode(tlsSocket) : undefined;
        if (!cert && requireCert && !tlsSocket.isSessionReused()) {
          finish({
            err: new TlsError(
              'ERR_TLS_PEER_CERT_REQUIRED',
              `TLS: client ${peer} sent no certificate, but one is required`,
            ),
          });
          return;
        }
        if (cert && verifyCode) {
          refuse(verificationError(verifyCode, cert, `client ${peer}`), alertFor(verifyCode));
          return;
        }
        if (cert) {
          try {
            checkKeyStrength(resolved.profile, cert.publicKey, `the certificate of client ${peer}`);
          } catch (e) {
            refuse(e as TlsError, ALERT.certificateUnknown);
            return;
          }
        }
        const info = describeSecureLink(tlsSocket, profile);
        // leave OpenSSL's read path before the caller starts writing
        setImmediate(() => {
          if (tlsSocket.destroyed) onClose();
          else finish({ ok: { socket: tlsSocket, info } });
        });
      };
      const timer = setTimeout(
        () =>
          finish({
            err: new TlsError(
              'ERR_TLS_HANDSHAKE_TIMEOUT',
              `TLS: handshake with client ${peer} timed out after ${timeoutMs} ms`,
            ),
          }),
        remainingMs,
      );
      inFlight.add(abort);
      tlsSocket.on('error', onError);
      tlsSocket.on('close', onClose);
      tlsSocket.on('secure', onSecure);
    });

  const reloadCredentials = async () => {
    const next = await load();
    // a new context has new ticket keys: sessions verified under the old trust (CA, CRL) are not resumed
    context = next.context;
    current = next.creds;
    log.info(
      {
        cert: current.sources.cert ?? current.sources.pfx,
        fingerprint256: current.certificate?.fingerprint256,
      },
      'TLS: credentials reloaded',
    );
  };

  let watchers: FSWatcher[] = [];
  let debounce: NodeJS.Timeout | undefined;

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
        if (first === A_ASSOCIATE_RQ) {
          // answer in plaintext, so a DICOM peer without TLS (echoscu, storescu) sees a reason
          // instead of a closed connection; then close
          socket.end(PLAINTEXT_REJECT);
          setTimeout(() => socket.destroy(), 1000).unref();
        } else socket.destroy();
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
      try {
        options.beforeHandshake?.();
      } catch (err) {
        socket.destroy();
        throw err;
      }
      return handshake(socket, peer, timeoutMs, Math.max(1, timeoutMs - (Date.now() - started)));
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
      for (const abort of [...inFlight])
        abort(new TlsError('ERR_TLS_HANDSHAKE', 'TLS: acceptor closed during the handshake'));
    },
  };
}
