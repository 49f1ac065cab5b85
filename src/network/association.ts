/**
 * One association over one Duplex stream: wires the transport, the PDU reader, the P-DATA writer
 * and the timers to the PS3.8 state machine, and presents the result as an
 * {@link AssociationChannel}. Negotiation itself (what to propose, what to accept) lives in
 * requestor.ts / acceptor.ts, every decision on the state in fsm.ts.
 */
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { toError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  type AssociationOptions,
  DEFAULT_ARTIM_TIMEOUT_MS,
  type NegotiationListener,
  UNLIMITED_PEER_PDU_CAP,
} from './association-options.js';
import {
  type AssociationChannel,
  type ChannelCloseReason,
  type NegotiatedAssociation,
  type Pdv,
  TRANSPORT_CLOSED_SOURCE,
} from './channel.js';
import { NetworkError, PduParseError } from './errors.js';
import {
  answersCollisionItself,
  awaitsAssociateResponse,
  awaitsAssociateRq,
  awaitsReleaseResponse,
  awaitsReleaseRp,
  eventForPdu,
  type FsmInput,
  type Indication,
  InvalidPrimitiveError,
  isEstablished,
  isIdle,
  isPastAbort,
  StateMachine,
  type State,
  type UpperLayerPort,
} from './fsm.js';
import { AssociationTimers } from './association-timers.js';
import { encodePdu } from './pdu/encode.js';
import { DrainWaiters, writePData } from './pdu/pdata-writer.js';
import { PduReader } from './pdu/reader.js';
import { type AssociateAcPdu, type AssociateRjPdu, type AssociateRqPdu, type Pdu } from './pdu/types.js';
import { abortCloseReason, closeError, notOpen, transportClosedReason } from './close-reason.js';

/** An association as the state machine's port and as the DIMSE-facing channel. */
export class Association extends EventEmitter implements AssociationChannel, UpperLayerPort {
  readonly isRequestor: boolean;
  /**
   * PDV data are slices of the transport's chunks (a fresh buffer per read: no `onread` buffer
   * reuse is configured on the streams dicomnet creates) or of a PDU body the framer assembled
   * into a new buffer; nothing writes into them after delivery.
   */
  readonly pdvDataIsStable = true;
  /** The PDU reader refuses a PDV on a context that was not accepted (A-ABORT reason 6). */
  readonly acceptedContextsOnly = true;
  private readonly fsm: StateMachine;
  private readonly reader: PduReader;
  private readonly log: Logger;
  private readonly timers: AssociationTimers;
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
  private readonly drain: DrainWaiters;
  /** {@link AssociationOptions.onNegotiation}, dropped once negotiation settled. */
  private negotiationListener: NegotiationListener | undefined;
  /** {@link AssociationOptions.onNegotiationFailed}, dropped once negotiation settled. */
  private negotiationFailed: ((err: Error) => void) | undefined;
  /** AE-6: the provider's own check of an A-ASSOCIATE-RQ ({@link AssociationOptions.providerCheck}). */
  readonly providerCheck: (rq: AssociateRqPdu) => AssociateRjPdu | undefined;

  constructor(
    readonly stream: Duplex,
    options: AssociationOptions,
  ) {
    super();
    this.isRequestor = options.isRequestor;
    this.log = options.logger;
    const artimMs = options.artimTimeoutMs ?? DEFAULT_ARTIM_TIMEOUT_MS;
    const idleMs = options.idleTimeoutMs ?? 0;
    this.timers = new AssociationTimers(artimMs, idleMs, {
      artim: () => this.safeRun({ event: 'Evt18', cause: `ARTIM timer expired after ${artimMs} ms` }),
      idle: () => this.timeoutAbort(isEstablished, 2, `idle timeout: no traffic for ${idleMs} ms`),
      partialPdu: () =>
        this.timeoutAbort(isEstablished, 2, `slow peer: a PDU was not complete ${artimMs} ms after it began`),
      // PS3.8 runs no timer in Sta7; a peer that never answers must not hang us
      releaseRp: () =>
        this.timeoutAbort(awaitsReleaseRp, 0, `no A-RELEASE-RP from peer within ${artimMs} ms`),
    });
    this.reader = new PduReader(options.hardMaxPduLength, options.requestBudget);
    this.ownMaxPduLength = options.ownMaxPduLength;
    this.negotiationListener = options.onNegotiation;
    this.negotiationFailed = options.onNegotiationFailed;
    this.providerCheck = options.providerCheck ?? (() => undefined);
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
    this.drain = new DrainWaiters(stream);
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
    const accepted = [...negotiated.contexts.values()].filter((c) => c.result === 0).map((c) => c.id);
    this.reader.established(this.ownMaxPduLength, accepted);
    this.timers.startIdle();
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
      this.transportError ??= toError(err);
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

  /** A timer expired: A-ABORT (Evt15) when the state still calls for it. */
  private timeoutAbort(stillDue: (state: State) => boolean, source: number, cause: string): void {
    if (stillDue(this.fsm.state))
      this.safeRun({ event: 'Evt15', abort: { source, reason: 0 }, cause, timeout: true });
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
    return awaitsAssociateResponse(this.fsm.state);
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

  // ---- transport input -------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.discarding || isIdle(this.fsm.state)) return;
    this.timers.noteActivity();
    this.reader.push(chunk);
    this.pump();
  }

  private pump(): void {
    while (!this.paused && !this.held && !this.discarding && !isIdle(this.fsm.state)) {
      let pdu: Pdu;
      try {
        const next = this.reader.next(isEstablished(this.fsm.state));
        if (!next) {
          this.watchPartialPdu();
          return;
        }
        this.timers.partialPduEnded();
        pdu = next;
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

  private onTransportClosed(cause: string): void {
    this.drain.settle(new NetworkError('ERR_CONNECTION_CLOSED', cause));
    if (isIdle(this.fsm.state)) {
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
    this.timers.noteActivity();
  }

  writePdvs(pdvs: Pdv[]): void {
    if (this.stream.destroyed || this.stream.writableEnded) return;
    writePData(this.stream, pdvs, this.maxSendPdvDataLength);
    this.timers.noteActivity();
  }

  closeTransport(): void {
    if (this.stream.destroyed) return;
    if (this.stream.writableEnded) return;
    this.stream.end(() => this.stream.destroy());
  }

  startArtim(): void {
    this.timers.startArtim();
  }

  stopArtim(): void {
    this.timers.stopArtim();
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
    const { reason, level } = abortCloseReason(ind);
    this.log[level]({ source: ind.source, reason: ind.reason, byPeer: ind.byPeer }, reason.message);
    this.finish(reason);
  }

  private onTransportClosedIndication(ind: Extract<Indication, { kind: 'transport-closed' }>): void {
    // info: the error reaches whoever waits on the association (the CLI prints it once)
    this.log.info({ source: TRANSPORT_CLOSED_SOURCE, reason: 0, byPeer: ind.byPeer }, ind.message);
    this.finish(transportClosedReason(ind, this.transportError));
  }

  /** End of the association as the user sees it: 'closed' once, pending waiters settled. */
  private finish(reason: ChannelCloseReason): void {
    if (this.closeReason) return;
    this.closeReason = reason;
    this.timers.stopAfterClose();
    const error = closeError(reason);
    this.drain.settle(error);
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
    this.reader.releaseBudget();
    this.timers.stopAll();
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

  // ---- slow peers ---------------------------------------------------------------------

  /** Once established, a PDU that has begun must be complete within the ARTIM time (see {@link AssociationTimers.partialPduBegan}). */
  private watchPartialPdu(): void {
    if (this.reader.pendingBytes === 0 || !this.negotiatedValue || this.closeReason)
      this.timers.partialPduEnded();
    else this.timers.partialPduBegan();
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
    await this.drain.wait();
  }

  override off(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  pause(): void {
    this.paused = true;
    // we stopped reading: the PDU in progress is late because of us, not the peer
    this.timers.partialPduEnded();
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
      this.timers.startReleaseWait();
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
