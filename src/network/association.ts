/**
 * One association over one Duplex stream: wires the transport, the PDU framer
 * and codec to the PS3.8 state machine, and presents the result as an
 * {@link AssociationChannel}. Negotiation itself (what to propose, what to
 * accept) lives in requestor.ts / acceptor.ts.
 */
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import {
  type AssociationChannel,
  type ChannelCloseReason,
  type NegotiatedAssociation,
  type Pdv,
  TRANSPORT_CLOSED_SOURCE,
} from './channel.js';
import { AssociationAbortedError, NetworkError, PduParseError } from './errors.js';
import {
  answersCollisionItself,
  awaitsAssociateRq,
  awaitsReleaseResponse,
  awaitsReleaseRp,
  eventForPdu,
  type FsmInput,
  type Indication,
  InvalidPrimitiveError,
  isEstablished,
  isPastAbort,
  StateMachine,
  type State,
  type UpperLayerPort,
} from './fsm.js';
import { decodePDataParts, decodePduBody } from './pdu/decode.js';
import { encodePDataTfParts, encodePdu } from './pdu/encode.js';
import { DEFAULT_HARD_MAX_PDU_LENGTH, PduFramer } from './pdu/framer.js';
import { describeAbortReason, describeAbortSource } from './pdu/reasons.js';
import {
  type AssociateAcPdu,
  type AssociateRjPdu,
  type AssociateRqPdu,
  type Pdu,
  PduType,
} from './pdu/types.js';
import type { ByteBudget } from './byte-budget.js';

/** PDU size used towards a peer that announces "unlimited" (0): 1 MiB. */
export const UNLIMITED_PEER_PDU_CAP = 1024 * 1024;

/** Default ARTIM timeout (PS3.8 9.1.5): 30 s, as DCMTK's ACSE timeout. */
export const DEFAULT_ARTIM_TIMEOUT_MS = 30_000;

/** Options common to both roles. */
export interface AssociationOptions {
  isRequestor: boolean;
  logger: Logger;
  /** Largest P-DATA-TF we accept (length field); 0 = unlimited (still capped by `hardMaxPduLength`). */
  ownMaxPduLength: number;
  /** Largest PDU of any type we buffer, whatever was negotiated (default 16 MiB). */
  hardMaxPduLength?: number;
  /** ARTIM timer and the wait for A-ASSOCIATE-AC / A-RELEASE-RP (ms). */
  artimTimeoutMs?: number;
  /** Abort an established association after this long without traffic (ms; 0/undefined = never). */
  idleTimeoutMs?: number;
  /**
   * Acceptor: the budget the A-ASSOCIATE-RQ being received is taken from, shared with the other
   * pending connections of the server; its bytes are given back once the association is
   * established or the connection ends. A request that does not fit is refused (A-ABORT).
   */
  requestBudget?: ByteBudget;
  /** Negotiation-time indications (A-ASSOCIATE-RQ/AC/RJ): requestor.ts / acceptor.ts negotiate on them. */
  onNegotiation?: NegotiationListener;
  /** Called (once) when the association ends before it was established. */
  onNegotiationFailed?: (err: Error) => void;
  /** Acceptor: the provider-level acceptance check of an A-ASSOCIATE-RQ (AE-6); an RJ when unacceptable. */
  providerCheck?: (rq: AssociateRqPdu) => AssociateRjPdu | undefined;
}

/** Receives negotiation-time indications (A-ASSOCIATE-RQ/AC/RJ). */
export type NegotiationListener = (indication: Indication) => void;

/** An association as the state machine's port and as the DIMSE-facing channel. */
export class Association extends EventEmitter implements AssociationChannel, UpperLayerPort {
  readonly isRequestor: boolean;
  /**
   * PDV data are slices of the transport's chunks (a fresh buffer per read: no `onread` buffer
   * reuse is configured on the streams dicomnet creates) or of a PDU body the framer assembled
   * into a new buffer; nothing writes into them after delivery.
   */
  readonly pdvDataIsStable = true;
  private readonly fsm: StateMachine;
  private readonly framer: PduFramer;
  private readonly log: Logger;
  private readonly artimMs: number;
  private readonly idleMs: number;
  private artimTimer: NodeJS.Timeout | undefined;
  private partialPduTimer: NodeJS.Timeout | undefined;
  /** A PDU has begun arriving and is not complete (see {@link watchPartialPdu}). */
  private partialPdu = false;
  private idleTimer: NodeJS.Timeout | undefined;
  /** performance.now() of the last chunk read or PDU sent (see {@link resetIdle}). */
  private lastActivity = 0;
  private negotiatedValue: NegotiatedAssociation | undefined;
  private paused = false;
  private held = false;
  private discarding = false;
  private depth = 0;
  private readonly deferred: (() => void)[] = [];
  private closeReason: ChannelCloseReason | undefined;
  private transportError: Error | undefined;
  private releaseWaiter: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private releaseSent = false;
  private readonly drainWaiters = new Set<(err?: Error) => void>();
  /** {@link AssociationOptions.onNegotiation}, dropped once negotiation settled. */
  private negotiationListener: NegotiationListener | undefined;
  /** {@link AssociationOptions.onNegotiationFailed}, dropped once negotiation settled. */
  private negotiationFailed: ((err: Error) => void) | undefined;
  /** Bytes of {@link AssociationOptions.requestBudget} this connection holds. */
  private budgetHeld = 0;
  private readonly requestBudget: ByteBudget | undefined;
  private readonly providerCheckFn: ((rq: AssociateRqPdu) => AssociateRjPdu | undefined) | undefined;

  constructor(
    readonly stream: Duplex,
    options: AssociationOptions,
  ) {
    super();
    this.isRequestor = options.isRequestor;
    this.log = options.logger;
    this.artimMs = options.artimTimeoutMs ?? DEFAULT_ARTIM_TIMEOUT_MS;
    this.idleMs = options.idleTimeoutMs ?? 0;
    this.framer = new PduFramer({
      maxPDataLength: 0,
      hardMaxPduLength: options.hardMaxPduLength ?? DEFAULT_HARD_MAX_PDU_LENGTH,
    });
    this.ownMaxPduLength = options.ownMaxPduLength;
    this.requestBudget = options.requestBudget;
    this.negotiationListener = options.onNegotiation;
    this.negotiationFailed = options.onNegotiationFailed;
    this.providerCheckFn = options.providerCheck;
    if (this.requestBudget) this.framer.admitHeader = (type, length) => this.takeRequestBudget(type, length);
    this.fsm = new StateMachine(this);
    if (stream instanceof Socket) stream.setNoDelay(true);
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => this.onTransportClosed('transport connection closed by peer'));
    stream.on('close', () => this.onTransportClosed('transport connection closed'));
    stream.on('error', (err: Error) => {
      this.transportError ??= err;
      // info: the error ends the association and reaches whoever waits on it (said there once)
      this.log.info({ err }, `transport error: ${err.message}`);
      this.onTransportClosed(`transport error: ${err.message}`);
    });
    stream.on('drain', () => this.settleDrain());
  }

  /** Our receive limit for P-DATA-TF, advertised in the maximum length sub-item. */
  readonly ownMaxPduLength: number;

  /** Current PS3.8 state. */
  get state(): State {
    return this.fsm.state;
  }

  get negotiated(): NegotiatedAssociation {
    if (!this.negotiatedValue)
      throw new NetworkError('ERR_NOT_ASSOCIATED', 'the association is not established');
    return this.negotiatedValue;
  }

  get releasing(): boolean {
    return this.releaseSent;
  }

  get maxSendPdvDataLength(): number {
    const peer = this.negotiatedValue?.peerMaxPduLength ?? 0;
    return (peer > 0 ? peer : UNLIMITED_PEER_PDU_CAP) - 6;
  }

  /**
   * Called once negotiation settled: from now on DIMSE sees the channel.
   * PDUs that arrived with the A-ASSOCIATE-AC are held until the code awaiting
   * the channel has run, so its 'pdvs' listener sees them.
   */
  establish(negotiated: NegotiatedAssociation): void {
    this.negotiatedValue = negotiated;
    this.negotiationListener = undefined;
    this.negotiationFailed = undefined;
    this.giveBackRequestBudget();
    this.framer.limits = { ...this.framer.limits, maxPDataLength: this.ownMaxPduLength };
    this.resetIdle();
    this.held = true;
    setImmediate(() => {
      this.held = false;
      if (!this.paused) this.pump();
    });
  }

  // ---- driving the state machine -------------------------------------------------

  /** Dispatch one event; user-visible effects run after the transition completes. */
  private run(input: FsmInput): void {
    this.depth++;
    try {
      const before = this.fsm.state;
      const action = this.fsm.dispatch(input);
      if (this.log.isLevelEnabled('trace')) {
        this.log.trace(
          { event: input.event, from: before, action, to: this.fsm.state },
          'upper layer transition',
        );
      }
    } finally {
      this.depth--;
    }
    if (this.depth === 0) this.flushDeferred();
  }

  /** Like {@link run} but never throws: failures of our own code end the association, not the process. */
  private safeRun(input: FsmInput): void {
    try {
      this.run(input);
    } catch (err) {
      this.log.error({ err, event: input.event, state: this.fsm.state }, 'upper layer internal error');
      this.transportError ??= err instanceof Error ? err : new Error(String(err));
      this.stream.destroy();
    }
  }

  private later(fn: () => void): void {
    if (this.depth === 0) fn();
    else this.deferred.push(fn);
  }

  private flushDeferred(): void {
    while (this.deferred.length > 0) {
      const fn = this.deferred.shift() as () => void;
      try {
        fn();
      } catch (err) {
        this.log.error({ err }, 'listener threw');
      }
    }
  }

  /** Evt1 then Evt2 at once: the stream we were given is already connected. */
  startAsRequestor(rq: AssociateRqPdu): void {
    this.run({ event: 'Evt1', pdu: rq });
    this.run({ event: 'Evt2', pdu: rq });
  }

  /** Evt5: a transport connection was accepted; ARTIM runs until A-ASSOCIATE-RQ arrives. */
  startAsAcceptor(): void {
    this.run({ event: 'Evt5' });
  }

  /** True while an A-ASSOCIATE-RQ waits for our answer (Sta3): false once the peer aborted or left. */
  get awaitingOurAnswer(): boolean {
    return this.fsm.state === 'Sta3';
  }

  /** Evt7: accept the peer's A-ASSOCIATE-RQ with this AC; the association is established from now on. */
  acceptRequest(ac: AssociateAcPdu, negotiated: NegotiatedAssociation): void {
    this.establish(negotiated);
    this.run({ event: 'Evt7', pdu: ac });
  }

  /** Evt8: reject the peer's A-ASSOCIATE-RQ with this RJ (ARTIM then bounds the wait for the peer to close). */
  rejectRequest(rj: AssociateRjPdu): void {
    this.run({ event: 'Evt8', pdu: rj });
  }

  /** AE-6: the provider's own check of an A-ASSOCIATE-RQ ({@link AssociationOptions.providerCheck}). */
  providerCheck(rq: AssociateRqPdu): AssociateRjPdu | undefined {
    return this.providerCheckFn?.(rq);
  }

  // ---- transport input -------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.discarding || this.fsm.state === 'Sta1') return;
    this.resetIdle();
    this.framer.push(chunk);
    this.pump();
  }

  private pump(): void {
    while (!this.paused && !this.held && !this.discarding && this.fsm.state !== 'Sta1') {
      let pdu: Pdu;
      try {
        const frame = this.framer.next();
        if (!frame) {
          this.watchPartialPdu();
          return;
        }
        this.partialPdu = false;
        pdu = frame.parts ? decodePDataParts(frame.parts) : decodePduBody(frame.type, frame.body);
        this.checkPdvContexts(pdu);
      } catch (err) {
        if (!(err instanceof PduParseError)) throw err;
        this.discarding = true;
        this.log.warn(
          { code: err.code, state: this.fsm.state },
          `bad PDU from peer, aborting: ${err.message}`,
        );
        this.safeRun({ event: 'Evt19', error: err });
        return;
      }
      if (this.log.isLevelEnabled('debug'))
        this.log.debug({ pdu: pdu.type, state: this.fsm.state }, 'PDU received');
      this.safeRun({ event: eventForPdu(pdu), pdu });
    }
  }

  /** A PDV on a context that was not accepted is an invalid PDU parameter value (abort reason 6). */
  private checkPdvContexts(pdu: Pdu): void {
    if (pdu.type !== 'P-DATA-TF' || !this.negotiatedValue || !isEstablished(this.fsm.state)) return;
    for (const pdv of pdu.pdvs) {
      if (this.negotiatedValue.contexts.get(pdv.contextId)?.result !== 0) {
        throw new PduParseError(
          'ERR_PDU_INVALID_PARAMETER',
          `PDV on presentation context ${pdv.contextId}, which was not accepted`,
        );
      }
    }
  }

  private onTransportClosed(cause: string): void {
    this.settleDrain(new NetworkError('ERR_CONNECTION_CLOSED', cause));
    if (this.fsm.state === 'Sta1') {
      this.cleanup();
      return;
    }
    this.safeRun({ event: 'Evt17', cause });
  }

  // ---- UpperLayerPort ----------------------------------------------------------------

  sendPdu(pdu: Pdu): void {
    if (this.stream.destroyed || this.stream.writableEnded) return;
    if (this.log.isLevelEnabled('debug'))
      this.log.debug({ pdu: pdu.type, state: this.fsm.state }, 'PDU sent');
    this.stream.write(encodePdu(pdu));
    this.resetIdle();
  }

  writePdvs(pdvs: Pdv[]): void {
    if (this.stream.destroyed || this.stream.writableEnded) return;
    const maxData = this.maxSendPdvDataLength;
    const maxPdu = maxData + 6;
    let batch: Pdv[] = [];
    let batchLength = 0;
    // every PDU of the call goes out in one write (one writev): a small command PDU written
    // on its own cost a system call and a wake-up of the peer per message
    const parts: Buffer[] = [];
    const flush = (): void => {
      if (batch.length === 0) return;
      for (const part of encodePDataTfParts(batch)) parts.push(part);
      batch = [];
      batchLength = 0;
    };
    for (const pdv of pdvs) {
      for (const fragment of fragmentPdv(pdv, maxData)) {
        const size = 6 + fragment.data.length;
        if (batchLength + size > maxPdu) flush();
        batch.push(fragment);
        batchLength += size;
      }
    }
    flush();
    this.writeParts(parts);
    this.resetIdle();
  }

  private writeParts(parts: Buffer[]): void {
    let total = 0;
    for (const p of parts) total += p.length;
    if (total <= 16 * 1024) {
      this.stream.write(Buffer.concat(parts, total));
      return;
    }
    this.stream.cork();
    for (const p of parts) if (p.length > 0) this.stream.write(p);
    process.nextTick(() => this.stream.uncork());
  }

  closeTransport(): void {
    if (this.stream.destroyed) return;
    if (this.stream.writableEnded) return;
    this.stream.end(() => this.stream.destroy());
  }

  startArtim(): void {
    this.stopArtim();
    this.artimTimer = setTimeout(() => {
      this.artimTimer = undefined;
      this.safeRun({ event: 'Evt18', cause: `ARTIM timer expired after ${this.artimMs} ms` });
    }, this.artimMs);
  }

  stopArtim(): void {
    if (this.artimTimer) clearTimeout(this.artimTimer);
    this.artimTimer = undefined;
  }

  indicate(indication: Indication): void {
    switch (indication.kind) {
      case 'associate-rq':
      case 'associate-ac':
      case 'associate-rj': {
        const listener = this.negotiationListener;
        this.later(() => listener?.(indication));
        return;
      }
      case 'p-data':
        this.later(() => this.emit('pdvs', indication.pdvs));
        return;
      case 'release-rq':
        this.later(() => this.onReleaseRequested(indication.collision));
        return;
      case 'release-rp':
        this.later(() => this.answerCollision());
        return;
      case 'released':
        this.finish({ kind: 'released' });
        return;
      case 'abort':
        this.onAbortIndication(indication);
        return;
      case 'transport-closed':
        this.onTransportClosedIndication(indication);
        return;
      case 'idle':
        this.cleanup();
        return;
    }
  }

  private onReleaseRequested(collision: boolean): void {
    if (collision) {
      this.answerCollision();
      return;
    }
    if (this.listenerCount('releaseRequested') > 0) this.emit('releaseRequested');
    else this.respondRelease();
  }

  /** A release collision the provider answers itself (Sta9 at once, Sta12 once ours was confirmed). */
  private answerCollision(): void {
    if (answersCollisionItself(this.fsm.state)) this.safeRun({ event: 'Evt14' });
  }

  private onAbortIndication(ind: Extract<Indication, { kind: 'abort' }>): void {
    const detail = `(${describeAbortSource(ind.source)}, ${describeAbortReason(ind.source, ind.reason)})`;
    const message = ind.byPeer
      ? `association aborted by peer ${detail}`
      : `association aborted by us: ${ind.message} ${detail}`;
    const level = ind.byPeer && ind.source === 0 ? 'info' : 'warn';
    this.log[level]({ source: ind.source, reason: ind.reason, byPeer: ind.byPeer }, message);
    const reason: ChannelCloseReason = {
      kind: 'aborted',
      source: ind.source,
      reason: ind.reason,
      byPeer: ind.byPeer,
      message,
    };
    if (ind.timeout) reason.timeout = true;
    this.finish(reason);
  }

  private onTransportClosedIndication(ind: Extract<Indication, { kind: 'transport-closed' }>): void {
    this.log.warn({ source: TRANSPORT_CLOSED_SOURCE, reason: 0, byPeer: ind.byPeer }, ind.message);
    if (this.transportError) {
      this.finish({ kind: 'transport-error', error: this.transportError });
      return;
    }
    const reason: ChannelCloseReason = {
      kind: 'aborted',
      source: TRANSPORT_CLOSED_SOURCE,
      reason: 0,
      byPeer: ind.byPeer,
      message: ind.message,
    };
    if (ind.timeout) reason.timeout = true;
    this.finish(reason);
  }

  /** End of the association as the user sees it: 'closed' once, pending waiters settled. */
  private finish(reason: ChannelCloseReason): void {
    if (this.closeReason) return;
    this.closeReason = reason;
    this.clearIdle();
    const error = closeError(reason);
    this.settleDrain(error);
    const waiter = this.releaseWaiter;
    this.releaseWaiter = undefined;
    const wasEstablished = this.negotiatedValue !== undefined;
    const onFailure = this.negotiationFailed;
    this.later(() => {
      if (waiter) {
        if (reason.kind === 'released') waiter.resolve();
        else waiter.reject(error ?? new NetworkError('ERR_ASSOCIATION_CLOSED', 'association closed'));
      }
      if (wasEstablished) this.emit('closed', reason);
      else
        onFailure?.(
          error ?? new NetworkError('ERR_ASSOCIATION_CLOSED', 'association closed during negotiation'),
        );
    });
  }

  /** Why the association ended, once it has. */
  get closedReason(): ChannelCloseReason | undefined {
    return this.closeReason;
  }

  private cleanup(): void {
    this.giveBackRequestBudget();
    this.stopArtim();
    this.clearIdle();
    if (this.partialPduTimer) clearTimeout(this.partialPduTimer);
    this.partialPdu = false;
    if (!this.closeReason)
      this.finish({
        kind: 'aborted',
        source: TRANSPORT_CLOSED_SOURCE,
        reason: 0,
        byPeer: true,
        message: 'closed',
      });
    if (!this.stream.destroyed) this.stream.destroy();
  }

  // ---- the shared A-ASSOCIATE-RQ budget ---------------------------------------------

  private takeRequestBudget(type: number, length: number): void {
    const budget = this.requestBudget;
    if (!budget || type !== PduType.AssociateRq || this.negotiatedValue) return;
    if (!budget.tryTake(length)) {
      throw new PduParseError(
        'ERR_PDU_TOO_LONG',
        `A-ASSOCIATE-RQ of ${length} bytes refused: pending connections already hold ${budget.used} of the ${budget.max} bytes allowed for association requests (maxPendingRequestBytes)`,
      );
    }
    this.budgetHeld += length;
  }

  private giveBackRequestBudget(): void {
    if (this.budgetHeld === 0) return;
    this.requestBudget?.give(this.budgetHeld);
    this.budgetHeld = 0;
  }

  // ---- slow peers ---------------------------------------------------------------------

  /**
   * Once established, a PDU that has begun must be complete within the ARTIM time: the idle
   * timer restarts on every byte, so without this a peer trickling one byte a second
   * (slowloris) would hold its association for ever. One timer, re-armed per partial PDU.
   */
  private watchPartialPdu(): void {
    if (this.framer.pendingBytes === 0 || !this.negotiatedValue || this.closeReason) {
      this.partialPdu = false;
      return;
    }
    if (this.partialPdu) return;
    this.partialPdu = true;
    if (this.partialPduTimer) {
      this.partialPduTimer.refresh();
      return;
    }
    this.partialPduTimer = setTimeout(() => {
      if (!this.partialPdu || !isEstablished(this.fsm.state)) return;
      this.partialPdu = false;
      this.safeRun({
        event: 'Evt15',
        abort: { source: 2, reason: 0 },
        cause: `slow peer: a PDU was not complete ${this.artimMs} ms after it began`,
        timeout: true,
      });
    }, this.artimMs);
    this.partialPduTimer.unref?.();
  }

  // ---- idle timeout ------------------------------------------------------------------

  private resetIdle(): void {
    if (this.idleMs <= 0 || !this.negotiatedValue || this.closeReason) return;
    // called for every chunk read and every PDU sent: only the time is noted here (restarting a
    // timer per chunk cost more than the rest of the idle bookkeeping); a timer that fires before
    // the association has been quiet for idleMs re-arms itself for what is left
    this.lastActivity = performance.now();
    if (!this.idleTimer) this.armIdle(this.idleMs);
  }

  private armIdle(ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.closeReason) return;
      const quiet = performance.now() - this.lastActivity;
      if (quiet < this.idleMs) {
        this.armIdle(Math.max(1, Math.ceil(this.idleMs - quiet)));
        return;
      }
      if (isEstablished(this.fsm.state)) {
        this.safeRun({
          event: 'Evt15',
          abort: { source: 2, reason: 0 },
          cause: `idle timeout: no traffic for ${this.idleMs} ms`,
          timeout: true,
        });
      }
    }, ms);
    this.idleTimer.unref?.();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  // ---- backpressure ------------------------------------------------------------------

  private settleDrain(err?: Error): void {
    const waiters = [...this.drainWaiters];
    this.drainWaiters.clear();
    for (const w of waiters) w(err);
  }

  private waitForDrain(): Promise<void> {
    if (!this.stream.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.drainWaiters.add((err) => (err ? reject(err) : resolve()));
    });
  }

  // ---- AssociationChannel ------------------------------------------------------------

  async sendPdvs(pdvs: Pdv[]): Promise<void> {
    if (this.closeReason) throw closeError(this.closeReason) ?? notOpen(this.fsm.state);
    try {
      this.run({ event: 'Evt9', pdvs });
    } catch (err) {
      if (err instanceof InvalidPrimitiveError) throw notOpen(this.fsm.state);
      throw err;
    }
    await this.waitForDrain();
  }

  override off(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  pause(): void {
    this.paused = true;
    // we stopped reading: the PDU in progress is late because of us, not the peer
    this.partialPdu = false;
    this.stream.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.pump();
    if (!this.paused) this.stream.resume();
  }

  release(): Promise<void> {
    if (this.closeReason) {
      return this.closeReason.kind === 'released'
        ? Promise.resolve()
        : Promise.reject(closeError(this.closeReason));
    }
    if (this.releaseWaiter)
      return Promise.reject(new NetworkError('ERR_RELEASE_PENDING', 'release already requested'));
    return new Promise<void>((resolve, reject) => {
      this.releaseWaiter = { resolve, reject };
      this.releaseSent = true;
      try {
        this.run({ event: 'Evt11' });
      } catch (err) {
        this.releaseSent = false;
        this.releaseWaiter = undefined;
        reject(err instanceof InvalidPrimitiveError ? notOpen(this.fsm.state) : err);
        return;
      }
      // PS3.8 runs no timer in Sta7; a peer that never answers must not hang us.
      const timer = setTimeout(() => {
        if (awaitsReleaseRp(this.fsm.state)) {
          this.safeRun({
            event: 'Evt15',
            abort: { source: 0, reason: 0 },
            cause: `no A-RELEASE-RP from peer within ${this.artimMs} ms`,
            timeout: true,
          });
        }
      }, this.artimMs);
      this.once('closed', () => clearTimeout(timer));
    });
  }

  respondRelease(): void {
    if (!awaitsReleaseResponse(this.fsm.state)) {
      this.log.debug({ state: this.fsm.state }, 'respondRelease ignored: no A-RELEASE-RQ pending');
      return;
    }
    this.safeRun({ event: 'Evt14' });
  }

  abort(reason = 0): void {
    const state = this.fsm.state;
    if (isPastAbort(state)) return;
    if (awaitsAssociateRq(state)) {
      this.stream.destroy();
      return;
    }
    this.safeRun({ event: 'Evt15', abort: { source: 0, reason }, cause: 'aborted by local user' });
  }
}

/** Split a PDV whose data exceed `maxData` into fragments; only the final one keeps `last`. */
function* fragmentPdv(pdv: Pdv, maxData: number): Generator<Pdv> {
  if (pdv.data.length <= maxData) {
    yield pdv;
    return;
  }
  for (let at = 0; at < pdv.data.length; at += maxData) {
    const end = Math.min(at + maxData, pdv.data.length);
    yield {
      contextId: pdv.contextId,
      command: pdv.command,
      last: pdv.last && end === pdv.data.length,
      data: pdv.data.subarray(at, end),
    };
  }
}

function notOpen(state: State): NetworkError {
  return new NetworkError(
    'ERR_ASSOCIATION_NOT_OPEN',
    `association is not open for data transfer (state ${state})`,
  );
}

/** The error a pending operation fails with when the association ends this way. */
export function closeError(reason: ChannelCloseReason): Error | undefined {
  switch (reason.kind) {
    case 'released':
      return undefined;
    case 'aborted':
      if (reason.source === TRANSPORT_CLOSED_SOURCE) {
        return new NetworkError(
          reason.timeout ? 'ERR_ASSOCIATION_TIMEOUT' : 'ERR_CONNECTION_CLOSED',
          reason.message,
        );
      }
      return new AssociationAbortedError(reason.source, reason.reason, reason.byPeer, reason.message);
    case 'transport-error':
      return new NetworkError('ERR_CONNECTION_RESET', `transport error: ${reason.error.message}`, {
        cause: reason.error,
      });
  }
}
