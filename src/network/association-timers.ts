/**
 * The timers of one association: ARTIM (PS3.8 9.1.5), the wait for an A-RELEASE-RP (PS3.8 runs
 * none), the idle timeout, and the bound on a PDU that has begun arriving (slow peers). Only time
 * is kept here: each expiry calls back into the association, which decides what it means in the
 * current state.
 */

/** What an expiry calls. */
export interface TimerExpiries {
  /** ARTIM expired (Evt18). */
  artim(): void;
  /** The established association had no traffic for the idle time. */
  idle(): void;
  /** A PDU that began arriving was not complete within the ARTIM time. */
  partialPdu(): void;
  /** No A-RELEASE-RP came within the ARTIM time of our A-RELEASE-RQ. */
  releaseRp(): void;
}

export class AssociationTimers {
  private artimTimer: NodeJS.Timeout | undefined;
  private releaseTimer: NodeJS.Timeout | undefined;
  private partialPduTimer: NodeJS.Timeout | undefined;
  /** A PDU has begun arriving and is not complete (see {@link partialPduBegan}). */
  private partialPdu = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** The idle timeout runs (established, not yet closed). */
  private idleOn = false;
  /** performance.now() of the last chunk read or PDU sent (see {@link noteActivity}). */
  private lastActivity = 0;

  constructor(
    /** ARTIM, and the bound on a release and on a partial PDU (ms). */
    readonly artimMs: number,
    /** Idle timeout (ms; 0 = never). */
    readonly idleMs: number,
    private readonly expired: TimerExpiries,
  ) {}

  // ---- ARTIM -------------------------------------------------------------------------

  startArtim(): void {
    this.stopArtim();
    this.artimTimer = setTimeout(() => {
      this.artimTimer = undefined;
      this.expired.artim();
    }, this.artimMs);
  }

  stopArtim(): void {
    if (this.artimTimer) clearTimeout(this.artimTimer);
    this.artimTimer = undefined;
  }

  // ---- the wait for A-RELEASE-RP -------------------------------------------------------

  startReleaseWait(): void {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = undefined;
      this.expired.releaseRp();
    }, this.artimMs);
  }

  // ---- idle timeout ------------------------------------------------------------------

  /** The association is established: the idle timeout runs from now on (when configured). */
  startIdle(): void {
    if (this.idleMs <= 0) return;
    this.idleOn = true;
    this.noteActivity();
  }

  /** Traffic: called for every chunk read and every PDU sent. */
  noteActivity(): void {
    if (!this.idleOn) return;
    // only the time is noted here (restarting a timer per chunk cost more than the rest of the
    // idle bookkeeping); a timer that fires before the association has been quiet for idleMs
    // re-arms itself for what is left
    this.lastActivity = performance.now();
    if (!this.idleTimer) this.armIdle(this.idleMs);
  }

  private armIdle(ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (!this.idleOn) return;
      const quiet = performance.now() - this.lastActivity;
      if (quiet < this.idleMs) {
        this.armIdle(Math.max(1, Math.ceil(this.idleMs - quiet)));
        return;
      }
      this.expired.idle();
    }, ms);
    this.idleTimer.unref?.();
  }

  // ---- slow peers ---------------------------------------------------------------------

  /**
   * A PDU has begun and is not complete. Once established it must be complete within the ARTIM
   * time: the idle timer restarts on every byte, so without this a peer trickling one byte a
   * second (slowloris) would hold its association for ever. One timer, re-armed per partial PDU.
   */
  partialPduBegan(): void {
    if (this.partialPdu) return;
    this.partialPdu = true;
    if (this.partialPduTimer) {
      this.partialPduTimer.refresh();
      return;
    }
    this.partialPduTimer = setTimeout(() => {
      if (!this.partialPdu) return;
      this.partialPdu = false;
      this.expired.partialPdu();
    }, this.artimMs);
    this.partialPduTimer.unref?.();
  }

  /** No PDU is in progress any more, or it is late because of us (we stopped reading). */
  partialPduEnded(): void {
    this.partialPdu = false;
  }

  // ---- the end -------------------------------------------------------------------------

  /** The association ended for its user: no idle timeout and no release wait any more. */
  stopAfterClose(): void {
    this.idleOn = false;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
  }

  /** The transport is gone: every timer stops. */
  stopAll(): void {
    this.stopAfterClose();
    this.stopArtim();
    if (this.partialPduTimer) clearTimeout(this.partialPduTimer);
    this.partialPdu = false;
  }
}
