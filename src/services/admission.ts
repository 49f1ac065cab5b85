/**
 * Connection admission, decided before any protocol work is done for a peer: how many
 * connections one address may open per minute, how many connections may wait to become an
 * association at once, and how many TLS handshakes may run at once. All are cheap to refuse
 * (the socket is closed, nothing is buffered or computed), which is the point: they bound
 * what a flood costs the server.
 */
import { DicomnetError, type KindedError } from '../errors.js';

/** Stable codes of {@link AdmissionRefusedError}. */
export type AdmissionRefusedCode = 'ERR_RATE_LIMITED' | 'ERR_TOO_MANY_PENDING' | 'ERR_TLS_HANDSHAKES_BUSY';

/** The option (of {@link AdmissionLimits}) behind each refusal code. */
const LIMIT_OF: Record<AdmissionRefusedCode, keyof AdmissionLimits> = {
  ERR_RATE_LIMITED: 'maxAssociationsPerMinutePerAddress',
  ERR_TOO_MANY_PENDING: 'maxPendingConnections',
  ERR_TLS_HANDSHAKES_BUSY: 'maxTlsHandshakes',
};

/** A connection was closed by an admission limit before any DICOM or TLS exchange. */
export class AdmissionRefusedError extends DicomnetError implements KindedError {
  readonly kind = 'network' as const;
  declare readonly code: AdmissionRefusedCode;
  /** The limit that refused it, named as its option. */
  readonly limit: keyof AdmissionLimits;

  constructor(code: AdmissionRefusedCode, message: string) {
    super(code, message);
    this.limit = LIMIT_OF[code];
  }
}

/** Limits of {@link ConnectionAdmission}; undefined or 0 = no limit. */
export interface AdmissionLimits {
  /** Connections (association attempts) one remote address may open per minute. */
  maxAssociationsPerMinutePerAddress?: number;
  /** TLS handshakes running at once, counted from the ClientHello to the end of the handshake. */
  maxTlsHandshakes?: number;
  /**
   * Connections not yet an association (TLS handshake running, or the A-ASSOCIATE-RQ not yet
   * answered), counted from accept until the association is accepted or rejected, or the socket closes.
   */
  maxPendingConnections?: number;
}

const MINUTE_MS = 60_000;

/** Two fixed one-minute buckets per address: the sliding-window estimate needs O(1) memory per address. */
interface RateWindow {
  start: number;
  current: number;
  previous: number;
}

/** Counts connections and TLS handshakes against {@link AdmissionLimits}. */
export class ConnectionAdmission {
  private readonly windows = new Map<string, RateWindow>();
  private lastSweep: number;
  private handshakes = 0;
  private pending = 0;

  constructor(
    private readonly limits: AdmissionLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.lastSweep = now();
  }

  /** TLS handshakes currently counted. */
  get tlsHandshakesInFlight(): number {
    return this.handshakes;
  }

  /**
   * Count a new connection from `address`. Every connection counts, refused ones too, so a
   * peer that keeps hammering stays refused. Returns the refusal, or undefined to go on.
   */
  connectionArrived(address: string): AdmissionRefusedError | undefined {
    const max = this.limits.maxAssociationsPerMinutePerAddress;
    if (!max) return undefined;
    const now = this.now();
    this.sweep(now);
    const w = this.roll(this.windows.get(address) ?? { start: now, current: 0, previous: 0 }, now);
    this.windows.set(address, w);
    const estimate = this.estimate(w, now);
    w.current++;
    if (estimate < max) return undefined;
    return new AdmissionRefusedError(
      'ERR_RATE_LIMITED',
      `connection from ${address} refused: more than ${max} association attempts in the last minute (maxAssociationsPerMinutePerAddress ${max})`,
    );
  }

  /** Connections currently counted as pending. */
  get pendingConnections(): number {
    return this.pending;
  }

  /**
   * Count an accepted connection as pending until it becomes an association (or does not);
   * throws {@link AdmissionRefusedError} when {@link AdmissionLimits.maxPendingConnections}
   * are already pending. Call the returned function once the connection stops being pending,
   * whichever way (calling it again does nothing).
   */
  startPending(address: string): () => void {
    const max = this.limits.maxPendingConnections;
    if (max && this.pending >= max) {
      throw new AdmissionRefusedError(
        'ERR_TOO_MANY_PENDING',
        `connection from ${address} refused: ${this.pending} connections already waiting to become associations (maxPendingConnections ${max})`,
      );
    }
    this.pending++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.pending--;
    };
  }

  /**
   * Take a TLS handshake slot for a connection whose ClientHello has arrived; throws
   * {@link AdmissionRefusedError} when all are taken. Call the returned function once the
   * handshake has ended, whichever way.
   */
  startTlsHandshake(address: string): () => void {
    const max = this.limits.maxTlsHandshakes;
    if (max && this.handshakes >= max) {
      throw new AdmissionRefusedError(
        'ERR_TLS_HANDSHAKES_BUSY',
        `TLS connection from ${address} refused: ${this.handshakes} TLS handshakes already running (maxTlsHandshakes ${max})`,
      );
    }
    this.handshakes++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.handshakes--;
    };
  }

  private roll(w: RateWindow, now: number): RateWindow {
    const elapsed = now - w.start;
    if (elapsed < MINUTE_MS) return w;
    // one window on: the current count becomes the previous; two or more: both are stale
    const previous = elapsed < 2 * MINUTE_MS ? w.current : 0;
    return { start: w.start + Math.floor(elapsed / MINUTE_MS) * MINUTE_MS, current: 0, previous };
  }

  /** Connections in the last 60 s: all of this window, plus the overlapping share of the previous one. */
  private estimate(w: RateWindow, now: number): number {
    const overlap = 1 - (now - w.start) / MINUTE_MS;
    return w.current + Math.floor(w.previous * overlap);
  }

  /** Forget addresses silent for two minutes (at most once a minute), so a scan of many addresses frees its memory. */
  private sweep(now: number): void {
    if (now - this.lastSweep < MINUTE_MS) return;
    this.lastSweep = now;
    for (const [address, w] of this.windows) if (now - w.start >= 2 * MINUTE_MS) this.windows.delete(address);
  }
}
