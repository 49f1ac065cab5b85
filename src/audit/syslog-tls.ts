/**
 * An RFC 5425 syslog-over-TLS client: one TLS connection to a collector (verified against
 * the given CA, optionally presenting a client certificate for mutual authentication),
 * octet-counted frames, reconnection with exponential backoff, and a bounded in-memory
 * queue. It never throws from `send` and never blocks its caller: while the collector is
 * down, messages wait in the queue, and when the queue is full the oldest are dropped and
 * counted. RFC 5425 has no application-level acknowledgement, so a message is counted as
 * sent once TLS has handed it to the kernel; a batch whose write did not complete is sent
 * again after reconnecting (a collector may see it twice, never a torn frame).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { constants } from 'node:crypto';
import { connect, createSecureContext, type TLSSocket } from 'node:tls';
import { type Logger, silentLogger } from '../log.js';
import { AuditConfigError } from './errors.js';
import { frameOctetCounted } from './syslog-format.js';

/** IANA port of syslog over TLS (RFC 5425). */
export const SYSLOG_TLS_PORT = 6514;

/** Settings of {@link SyslogTlsSender}. PEM values may be given as text or as file paths. */
export interface SyslogTlsOptions {
  host: string;
  /** Default 6514. */
  port?: number;
  /** CA certificates the collector's certificate must chain to (required: the collector is always verified). */
  ca: string | Buffer | (string | Buffer)[];
  /** Client certificate and key, for collectors that require mutual authentication (IHE ATNA does). */
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  /** Name the collector's certificate must carry (SNI and verification); default `host` when it is a name. */
  servername?: string;
  /** Messages held while the collector is unreachable (default 1000); beyond, the oldest are dropped. */
  queueLimit?: number;
  /** TCP connect + TLS handshake limit (default 10 s). */
  connectTimeoutMs?: number;
  /** First reconnect delay (default 500 ms), doubled per failure up to `maxBackoffMs` (default 30 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  logger?: Logger;
}

/** Counters of a {@link SyslogTlsSender}. */
export interface SyslogTlsStats {
  /** Messages handed to the TLS connection. */
  sent: number;
  /** Messages dropped because the queue was full (or sent after close). */
  dropped: number;
  /** Messages waiting now. */
  queued: number;
  connected: boolean;
  /** Successful connections so far. */
  connects: number;
  /** Failed connection attempts and lost connections so far. */
  failures: number;
}

/** Most bytes written in one batch. */
const BATCH_BYTES = 64 * 1024;

function pem(value: string | Buffer, what: string): string | Buffer {
  if (Buffer.isBuffer(value) || value.trimStart().startsWith('-----BEGIN')) return value;
  try {
    return readFileSync(value);
  } catch (err) {
    throw new AuditConfigError(`audit syslog: cannot read the ${what} ${value}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
}

/** Sends syslog messages to one collector over TLS (RFC 5425). Call {@link start}, then {@link send}. */
export class SyslogTlsSender {
  readonly host: string;
  readonly port: number;
  readonly #tls: {
    ca: (string | Buffer)[];
    cert?: string | Buffer;
    key?: string | Buffer;
    passphrase?: string;
    servername?: string;
  };
  readonly #log: Logger;
  readonly #queueLimit: number;
  readonly #connectTimeoutMs: number;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  #queue: Buffer[] = [];
  #inflight: Buffer[] = [];
  #socket: TLSSocket | undefined;
  #connected = false;
  #started = false;
  #closing = false;
  #closed = false;
  #backoffMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** Failures since the last good connection (the first one of an outage is logged as a warning). */
  #outageFailures = 0;
  #droppedInOutage = 0;
  #stats = { sent: 0, dropped: 0, connects: 0, failures: 0 };
  #idleWaiters: (() => void)[] = [];

  /** Loads the CA / certificate / key files now; throws {@link AuditConfigError} when one is unreadable. */
  constructor(options: SyslogTlsOptions) {
    this.host = options.host;
    this.port = options.port ?? SYSLOG_TLS_PORT;
    const ca = (Array.isArray(options.ca) ? options.ca : [options.ca]).map((c) => pem(c, 'CA certificate'));
    if (ca.length === 0)
      throw new AuditConfigError('audit syslog: a CA certificate for the collector is required');
    if ((options.cert === undefined) !== (options.key === undefined))
      throw new AuditConfigError('audit syslog: the client certificate and key must be given together');
    this.#tls = { ca };
    if (options.cert !== undefined) this.#tls.cert = pem(options.cert, 'client certificate');
    if (options.key !== undefined) this.#tls.key = pem(options.key, 'client key');
    if (options.passphrase !== undefined) this.#tls.passphrase = options.passphrase;
    try {
      // unusable PEM, a key that does not match, a wrong passphrase: say so now, not at every retry
      createSecureContext(this.#tls);
    } catch (err) {
      throw new AuditConfigError(`audit syslog: unusable TLS credentials: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const servername = options.servername ?? (isIP(options.host) ? undefined : options.host);
    if (servername !== undefined) this.#tls.servername = servername;
    this.#log = options.logger ?? silentLogger();
    this.#queueLimit = Math.max(1, options.queueLimit ?? 1000);
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#initialBackoffMs = options.initialBackoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#backoffMs = this.#initialBackoffMs;
  }

  /** Where messages go, for logs. */
  get target(): string {
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  get stats(): SyslogTlsStats {
    return {
      ...this.#stats,
      queued: this.#queue.length + this.#inflight.length,
      connected: this.#connected,
    };
  }

  /** Open the connection (and keep it open, reconnecting, until {@link close}). */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#connect();
  }

  /** Queue one RFC 5424 message (framed here). Never throws, never waits. */
  send(message: Buffer): void {
    if (this.#closed) {
      this.#stats.dropped++;
      return;
    }
    this.#queue.push(frameOctetCounted(message));
    this.#trim();
    // idle after the collector closed a quiet connection: reconnect now that there is work
    if (this.#started && !this.#socket && this.#timer === undefined) this.#connect();
    else this.#pump();
  }

  /**
   * Deliver what is queued within `deadlineMs` (reconnecting if need be), then close the
   * connection. Messages still queued at the deadline are counted as dropped and logged.
   */
  async close(deadlineMs = 5000): Promise<SyslogTlsStats> {
    if (this.#closed) return this.stats;
    this.#closing = true;
    const deadline = Date.now() + deadlineMs;
    if (this.#started && this.#pending() > 0 && !this.#socket) {
      // waiting out a long backoff would waste the deadline
      clearTimeout(this.#timer);
      this.#connect();
    }
    while (this.#started && this.#pending() > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(100, Math.max(1, deadline - Date.now())));
        this.#idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.#closed = true;
    clearTimeout(this.#timer);
    const unsent = this.#pending();
    if (unsent > 0) {
      this.#stats.dropped += unsent;
      this.#log.warn(
        { collector: this.target, unsent },
        `audit syslog: ${unsent} message(s) not delivered to ${this.target} before shutdown (they are in the audit file)`,
      );
    }
    this.#queue = [];
    this.#inflight = [];
    const socket = this.#socket;
    if (socket) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          socket.destroy();
          resolve();
        }, 1000);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        socket.end();
      });
    }
    return this.stats;
  }

  #pending(): number {
    return this.#queue.length + this.#inflight.length;
  }

  /** Bound the queue: drop the oldest messages not already being written. */
  #trim(): void {
    let dropped = 0;
    while (this.#pending() > this.#queueLimit && this.#queue.length > 0) {
      this.#queue.shift();
      dropped++;
    }
    if (dropped === 0) return;
    this.#stats.dropped += dropped;
    if (this.#droppedInOutage === 0)
      this.#log.warn(
        { collector: this.target, queueLimit: this.#queueLimit },
        `audit syslog: queue full (${this.#queueLimit} messages) while ${this.target} is unreachable; dropping the oldest`,
      );
    this.#droppedInOutage += dropped;
  }

  #connect(): void {
    this.#timer = undefined;
    if (this.#closed || this.#socket) return;
    let lastError: unknown;
    let socket: TLSSocket;
    try {
      socket = connect({
        host: this.host,
        port: this.port,
        ...this.#tls,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        // a collector has no reason to renegotiate (TLS 1.2); refuse it as the node's contexts do
        secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
      });
    } catch (err) {
      this.#failed(err, false);
      return;
    }
    this.#socket = socket;
    // the audit connection alone must not keep a process alive (e.g. when start-up fails)
    socket.unref();
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    const handshakeTimer = setTimeout(() => {
      socket.destroy(new Error(`no TLS connection within ${this.#connectTimeoutMs} ms`));
    }, this.#connectTimeoutMs);
    handshakeTimer.unref();
    socket.once('secureConnect', () => {
      clearTimeout(handshakeTimer);
      this.#connected = true;
      this.#stats.connects++;
      this.#backoffMs = this.#initialBackoffMs;
      if (this.#outageFailures > 0 || this.#droppedInOutage > 0)
        this.#log.info(
          { collector: this.target, dropped: this.#droppedInOutage, queued: this.#pending() },
          `audit syslog: connected to ${this.target}${this.#droppedInOutage > 0 ? ` (${this.#droppedInOutage} message(s) were dropped while it was unreachable)` : ''}`,
        );
      else this.#log.debug({ collector: this.target }, `audit syslog: connected to ${this.target}`);
      this.#outageFailures = 0;
      this.#droppedInOutage = 0;
      this.#pump();
    });
    // collectors send nothing; read anyway so a chatty one cannot stall the connection
    socket.on('data', () => undefined);
    socket.on('error', (err) => {
      lastError = err;
    });
    socket.once('close', () => {
      clearTimeout(handshakeTimer);
      const wasConnected = this.#connected;
      this.#connected = false;
      this.#socket = undefined;
      // a batch whose write did not complete goes again, first
      if (this.#inflight.length > 0) this.#queue.unshift(...this.#inflight);
      this.#inflight = [];
      this.#trim();
      this.#failed(lastError ?? new Error('connection closed by the collector'), wasConnected);
    });
  }

  #failed(err: unknown, wasConnected: boolean): void {
    if (this.#closed) return;
    const reason = reasonOf(err);
    if (wasConnected && this.#pending() === 0) {
      // collectors may close idle connections; nothing was lost, so no warning and no retry loop
      this.#log.debug({ collector: this.target, reason }, 'audit syslog: idle connection closed');
      return;
    }
    this.#stats.failures++;
    if (this.#outageFailures === 0)
      this.#log.warn(
        { collector: this.target, queued: this.#pending() },
        `audit syslog: ${wasConnected ? 'lost the connection to' : 'cannot connect to'} ${this.target} (${reason}); queueing up to ${this.#queueLimit} messages and retrying`,
      );
    else this.#log.debug({ collector: this.target, reason }, 'audit syslog: reconnect failed');
    this.#outageFailures++;
    const jitter = 0.8 + Math.random() * 0.4;
    const delay = this.#closing ? Math.min(200, this.#backoffMs) : this.#backoffMs * jitter;
    this.#backoffMs = Math.min(this.#maxBackoffMs, this.#backoffMs * 2);
    this.#timer = setTimeout(() => this.#connect(), delay);
    this.#timer.unref();
  }

  #pump(): void {
    const socket = this.#socket;
    if (!this.#connected || !socket || this.#inflight.length > 0 || this.#queue.length === 0) {
      if (this.#pending() === 0) this.#wake();
      return;
    }
    let bytes = 0;
    let n = 0;
    while (n < this.#queue.length && (n === 0 || bytes + (this.#queue[n] as Buffer).length <= BATCH_BYTES)) {
      bytes += (this.#queue[n] as Buffer).length;
      n++;
    }
    const batch = this.#queue.splice(0, n);
    this.#inflight = batch;
    socket.write(batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch), (err) => {
      // on error the 'close' handler requeues the batch
      if (err || this.#inflight !== batch) return;
      this.#stats.sent += batch.length;
      this.#inflight = [];
      this.#pump();
    });
  }

  #wake(): void {
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
