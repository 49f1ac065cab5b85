import type { Readable } from 'node:stream';
import { DicomnetError, type KindedError } from '../errors.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { AssociationChannel, ChannelCloseReason, NegotiatedContext, Pdv } from '../network/channel.js';
import { CommandField, commandFieldName, isResponse, responseFieldFor } from './command-field.js';
import { type CommandSet, encodeCommandSet } from './command-set.js';
import { DimseChannelClosedError, DimseProtocolError, DimseUsageError } from './errors.js';
import { type DatasetSource, type PdvSender, type SendProgress, sendMessage } from './fragmenter.js';
import { type DatasetSinkChooser, MessageReassembler, type ReassembledMessage } from './reassembler.js';
import { Status, statusCategory } from './status.js';

/** A DIMSE message received on the association. */
export interface IncomingMessage {
  contextId: number;
  /** Abstract syntax (SOP class) of the presentation context. */
  abstractSyntax: string;
  /** Transfer syntax the data set is encoded in. */
  transferSyntax: string;
  command: CommandSet;
  /** The data set bytes when buffered in memory. */
  dataset?: Buffer;
  /** Data set bytes written when the data set went to a sink. */
  datasetBytes?: number;
  /** The sink failed while the data set was written (later bytes were dropped); answer with a failure status. */
  datasetError?: Error;
}

/** A DIMSE message to send. `command.hasDataset` must agree with `dataset`. */
export interface OutgoingMessage {
  contextId: number;
  command: CommandSet;
  /** Data set already encoded in the context's transfer syntax: bytes, a stream read with backpressure, or a positional source (a file). */
  dataset?: DatasetSource;
}

/** What a request handler gets besides the request. */
export interface RequestContext {
  /**
   * Send a response. `messageIdBeingRespondedTo` defaults to the request's
   * Message ID. Pending statuses may be sent any number of times; one final
   * (non-pending) response ends the operation.
   */
  respond(command: CommandSet, dataset?: Buffer | Readable): Promise<void>;
  /** Aborted when the peer sends C-CANCEL-RQ for this request or the association closes. */
  signal: AbortSignal;
}

/** Performs one incoming request (SCP side). */
export type RequestHandler = (message: IncomingMessage, context: RequestContext) => Promise<void> | void;

/** Options of {@link DimseEndpoint}. */
export interface DimseEndpointOptions {
  /** Performs incoming requests; without it every request is answered 0x0211 (unrecognized operation). */
  onRequest?: RequestHandler;
  /** Where incoming data sets go (a Writable, `'discard'`, or undefined = memory), chosen per message from its command. */
  datasetSink?: DatasetSinkChooser;
  /** Protocol violations, failed handlers and dropped responses are logged here (default: silent). */
  logger?: Logger;
  /** Largest data set buffered in memory; a larger one aborts the association. Default 64 MiB. */
  maxBufferedDatasetBytes?: number;
}

/**
 * An outstanding request: iterate it for its responses (every pending one, then
 * the final one, after which iteration ends). Iterate it once. Responses that
 * arrive before they are iterated are queued without limit (pausing the
 * association for one slow consumer could starve the others).
 */
export interface DimseRequest extends AsyncIterable<IncomingMessage> {
  readonly messageId: number;
  /**
   * Ask the peer to stop (C-CANCEL-RQ). The peer still sends a final response
   * (usually status Cancel), which ends the iteration. Before the request was
   * sent (waiting for the operations window) it is withdrawn instead and the
   * iteration throws `ERR_DIMSE_CANCELLED_BEFORE_SEND`. Never throws.
   * Leaving a `for await` over the request early cancels it the same way.
   */
  cancel(): void;
}

/**
 * DIMSE over one established association, for both requestor and acceptor:
 * sends messages without interleaving them, routes responses to the request
 * they answer (also while the peer sends us requests, as in C-GET), performs
 * incoming requests through {@link DimseEndpointOptions.onRequest}, honours the
 * negotiated asynchronous operations window and aborts the association on a
 * protocol violation.
 *
 * @example
 * const endpoint = new DimseEndpoint(channel, {
 *   onRequest: async (msg, { respond }) =>
 *     respond({ commandField: CommandField.C_ECHO_RSP, status: Status.Success, hasDataset: false }),
 * });
 * const rsp = await endpoint.requestOne({
 *   contextId: 1,
 *   command: { commandField: CommandField.C_ECHO_RQ, messageId: endpoint.nextMessageId(),
 *              affectedSopClassUid: '1.2.840.10008.1.1', hasDataset: false },
 * });
 */
export class DimseEndpoint {
  private readonly log: Logger;
  private readonly reassembler: MessageReassembler;
  private readonly sender: PdvSender;
  private readonly outstanding = new Map<number, OutstandingRequest>();
  private readonly performing = new Map<number, PerformedOperation>();
  private readonly waitingToPerform: PerformedOperation[] = [];
  private readonly invokeWindow: OperationWindow;
  private readonly performLimit: number;
  private running = 0;
  private nextId = 1;
  private sendChain: Promise<void> = Promise.resolve();
  private closedError: DimseChannelClosedError | undefined;
  private violation: Error | undefined;
  private rejectOnClose: (err: Error) => void = () => undefined;
  private readonly closedPromise: Promise<never>;

  constructor(
    private readonly channel: AssociationChannel,
    private readonly options: DimseEndpointOptions = {},
  ) {
    this.log = options.logger ?? silentLogger();
    this.invokeWindow = new OperationWindow(channel.negotiated.maxOperationsInvoked);
    this.performLimit = channel.negotiated.maxOperationsPerformed;
    this.closedPromise = new Promise<never>((_, reject) => {
      this.rejectOnClose = reject;
    });
    this.closedPromise.catch(() => undefined);
    // The channel contract does not promise that sendPdvs settles on close: race it.
    this.sender = {
      get maxSendPdvDataLength() {
        return channel.maxSendPdvDataLength;
      },
      sendPdvs: (pdvs: Pdv[]) => Promise.race([channel.sendPdvs(pdvs), this.closedPromise]),
    };
    this.reassembler = new MessageReassembler({
      onMessage: (message) => this.onMessage(message),
      flow: channel,
      isAcceptedContext:
        channel.acceptedContextsOnly === true
          ? undefined
          : (id) => acceptedContext(channel, id) !== undefined,
      // a request arriving after our A-RELEASE-RQ is not performed: keep none of its data set
      chooseSink: (command, contextId) =>
        channel.releasing === true && !isResponse(command.commandField)
          ? 'discard'
          : options.datasetSink?.(command, contextId),
      maxBufferedDatasetBytes: options.maxBufferedDatasetBytes,
      copyPdvData: channel.pdvDataIsStable !== true,
    });
    channel.on('pdvs', (pdvs) => this.onPdvs(pdvs));
    channel.once('closed', (reason) => {
      void this.onClosed(reason);
    });
  }

  /** True once the association closed; every send and request fails from then on. */
  get closed(): boolean {
    return this.closedError !== undefined;
  }

  /** Requests of ours still waiting for their final response. */
  get outstandingRequests(): number {
    return this.outstanding.size;
  }

  /** A Message ID (1..65535, wrapping) not used by any outstanding request of ours. */
  nextMessageId(): number {
    for (let i = 0; i < 0xffff; i++) {
      const id = this.nextId;
      this.nextId = id === 0xffff ? 1 : id + 1;
      if (!this.outstanding.has(id)) return id;
    }
    throw new DimseUsageError(
      'ERR_DIMSE_MESSAGE_ID_IN_USE',
      'all 65535 message IDs are in use by outstanding requests',
    );
  }

  /**
   * Send one message. Messages are sent one after the other, never interleaved;
   * resolves when the last PDV was handed to the channel. A failure after part
   * of the message went out aborts the association (the peer could not parse
   * what follows).
   */
  send(message: OutgoingMessage): Promise<void> {
    let commandBytes: Buffer;
    try {
      commandBytes = this.prepare(message);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue(message, commandBytes);
  }

  /**
   * Send a request and iterate its responses. The Message ID is
   * `command.messageId`, or a fresh one when absent. With an asynchronous
   * operations window (`maxOperationsInvoked` > 0) the request waits for a
   * free slot before it is sent. The request is sent whether or not it is iterated.
   */
  request(message: OutgoingMessage): DimseRequest {
    const id = message.command.messageId ?? this.nextMessageId();
    if (this.outstanding.has(id)) {
      throw new DimseUsageError(
        'ERR_DIMSE_MESSAGE_ID_IN_USE',
        `message ID ${id} is in use by an outstanding request`,
      );
    }
    const command =
      message.command.messageId === id ? message.command : { ...message.command, messageId: id };
    const req = new OutstandingRequest(id, message.contextId, command.commandField, this);
    const outgoing = { ...message, command };
    const commandBytes = this.prepare(outgoing);
    if (this.closedError) {
      req.fail(this.requestClosedError(req, this.closedError));
      req.markTransmitted();
      return req;
    }
    this.outstanding.set(id, req);
    void this.dispatch(req, outgoing, commandBytes);
    return req;
  }

  /** Send a request and resolve with its final response (pending responses, if any, are skipped). */
  async requestOne(message: OutgoingMessage): Promise<IncomingMessage> {
    let last: IncomingMessage | undefined;
    const req = this.request(message);
    for await (const rsp of req) last = rsp;
    if (!last) {
      throw new DimseChannelClosedError(
        `${commandFieldName(message.command.commandField)} ended without a response`,
      );
    }
    return last;
  }

  /** @internal Used by {@link OutstandingRequest.cancel}. */
  sendCancel(req: OutstandingRequest): void {
    this.send({
      contextId: req.contextId,
      command: {
        commandField: CommandField.C_CANCEL_RQ,
        messageIdBeingRespondedTo: req.messageId,
        hasDataset: false,
      },
    }).catch((err: unknown) => this.log.debug({ err, messageId: req.messageId }, 'C-CANCEL-RQ not sent'));
  }

  /** @internal Used by {@link OutstandingRequest.cancel} before the request was sent. */
  withdraw(req: OutstandingRequest): void {
    if (this.outstanding.get(req.messageId) === req) this.outstanding.delete(req.messageId);
  }

  private prepare(message: OutgoingMessage): Buffer {
    const { command, contextId, dataset } = message;
    if (acceptedContext(this.channel, contextId) === undefined) {
      throw new DimseUsageError(
        'ERR_DIMSE_CONTEXT_NOT_ACCEPTED',
        `presentation context ${contextId} is not an accepted context of this association`,
      );
    }
    if (command.hasDataset !== (dataset !== undefined)) {
      throw new DimseUsageError(
        'ERR_DIMSE_INVALID_COMMAND',
        `${commandFieldName(command.commandField)} has hasDataset: ${command.hasDataset} but ` +
          (dataset === undefined ? 'no data set was given' : 'a data set was given'),
      );
    }
    return encodeCommandSet(command);
  }

  private enqueue(message: OutgoingMessage, commandBytes: Buffer): Promise<void> {
    const run = this.sendChain.then(() => this.transmit(message, commandBytes));
    this.sendChain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async transmit(message: OutgoingMessage, commandBytes: Buffer): Promise<void> {
    if (this.closedError) throw this.closedError;
    const progress: SendProgress = { pdvsSent: false };
    try {
      await sendMessage(this.sender, message.contextId, commandBytes, message.dataset, {
        progress,
        padOddDataset: acceptedContext(this.channel, message.contextId)?.transferSyntax === DEFLATED,
      });
    } catch (err) {
      if (this.closedError) throw this.closedError;
      if (progress.pdvsSent) {
        this.log.error(
          { err, command: commandFieldName(message.command.commandField) },
          'sending a DIMSE message failed half-way; aborting the association',
        );
        this.channel.abort();
      }
      throw err;
    }
    if (this.log.isLevelEnabled('debug'))
      this.log.debug(describe(message.contextId, message.command), 'DIMSE sent');
  }

  private async dispatch(
    req: OutstandingRequest,
    message: OutgoingMessage,
    commandBytes: Buffer,
  ): Promise<void> {
    try {
      await this.invokeWindow.acquire();
    } catch (err) {
      if (req.state !== 'withdrawn') this.finish(req, err instanceof Error ? err : new Error(String(err)));
      req.markTransmitted();
      return;
    }
    if (req.state === 'withdrawn') {
      this.invokeWindow.release();
      req.markTransmitted();
      return;
    }
    req.state = 'sent';
    try {
      await this.enqueue(message, commandBytes);
    } catch (err) {
      this.finish(req, err instanceof Error ? err : new Error(String(err)));
    } finally {
      req.markTransmitted();
    }
  }

  /** Final response, failure or close: free the Message ID and the window slot. */
  private finish(req: OutstandingRequest, error?: Error): void {
    if (req.state === 'done') return;
    const held = req.state === 'sent';
    req.state = 'done';
    if (this.outstanding.get(req.messageId) === req) this.outstanding.delete(req.messageId);
    if (held) this.invokeWindow.release();
    if (error) req.fail(error);
    else req.end();
  }

  private onPdvs(pdvs: Pdv[]): void {
    for (const pdv of pdvs) {
      try {
        this.reassembler.push(pdv);
      } catch (err) {
        this.violate(err instanceof Error ? err : new Error(String(err)));
        return;
      }
    }
  }

  private violate(err: Error): void {
    if (this.violation || this.closedError) return;
    this.violation = err;
    this.log.error({ err }, `DIMSE protocol violation, aborting the association: ${err.message}`);
    this.channel.abort();
  }

  private onMessage(message: ReassembledMessage): void {
    const context = acceptedContext(this.channel, message.contextId);
    if (!context) return;
    const incoming: IncomingMessage = {
      ...message,
      abstractSyntax: context.abstractSyntax,
      transferSyntax: context.transferSyntax,
    };
    if (this.log.isLevelEnabled('debug'))
      this.log.debug(describe(message.contextId, message.command), 'DIMSE received');
    if (isResponse(message.command.commandField)) this.onResponse(incoming);
    else if (this.channel.releasing === true) {
      // PS3.8 7.2.2: no P-DATA may follow our A-RELEASE-RQ, so it cannot be answered; like
      // pynetdicom, ignore it rather than abort (the peer learns from the A-RELEASE-RP)
      this.log.warn(
        describe(message.contextId, message.command),
        'ignoring a DIMSE request received after this side requested release',
      );
    } else if (!this.closedError) this.onRequest(incoming);
  }

  private onResponse(message: IncomingMessage): void {
    const { command } = message;
    if (command.status === undefined) {
      this.violate(
        new DimseProtocolError(
          'ERR_DIMSE_PDV_SEQUENCE',
          `${commandFieldName(command.commandField)} without a Status`,
        ),
      );
      return;
    }
    const req =
      command.messageIdBeingRespondedTo === undefined
        ? undefined
        : this.outstanding.get(command.messageIdBeingRespondedTo);
    if (req?.state !== 'sent') {
      this.log.warn(
        describe(message.contextId, command),
        'dropping a DIMSE response to no outstanding request',
      );
      return;
    }
    if (command.commandField !== responseFieldFor(req.commandField)) {
      this.log.warn(
        {
          ...describe(message.contextId, command),
          expected: commandFieldName(responseFieldFor(req.commandField)),
        },
        'DIMSE response field does not match the request',
      );
    }
    req.push(message);
    if (statusCategory(command.status) !== 'pending') this.finish(req);
  }

  private onRequest(message: IncomingMessage): void {
    const { command } = message;
    if (command.commandField === CommandField.C_CANCEL_RQ) {
      const target = command.messageIdBeingRespondedTo;
      const op = target === undefined ? undefined : this.performing.get(target);
      this.log.debug({ messageId: target, found: op !== undefined }, 'C-CANCEL-RQ received');
      op?.abort(new DimseRequestCancelled(target ?? 0));
      return;
    }
    if (command.messageId === undefined) {
      this.violate(
        new DimseProtocolError(
          'ERR_DIMSE_PDV_SEQUENCE',
          `${commandFieldName(command.commandField)} without a Message ID`,
        ),
      );
      return;
    }
    const op = new PerformedOperation(message, command.messageId);
    if (this.performing.has(op.messageId)) {
      this.log.warn(
        describe(message.contextId, command),
        'duplicate invocation of a Message ID being performed',
      );
      void this.respondTo(op, failureResponse(message, Status.DuplicateInvocation)).catch(() => undefined);
      return;
    }
    this.performing.set(op.messageId, op);
    if (this.performLimit > 0 && this.running >= this.performLimit) this.waitingToPerform.push(op);
    else void this.perform(op);
  }

  private async perform(op: PerformedOperation): Promise<void> {
    this.running++;
    const context: RequestContext = {
      respond: (command, dataset) => this.respondTo(op, command, dataset),
      get signal() {
        return op.signal;
      },
    };
    let failure: unknown;
    try {
      const handler = this.options.onRequest;
      if (handler) await handler(op.message, context);
      else await context.respond(failureResponse(op.message, Status.UnrecognizedOperation));
    } catch (err) {
      failure = err;
      if (!this.closedError) {
        this.log.error(
          { err, ...describe(op.message.contextId, op.message.command) },
          'DIMSE request handler failed',
        );
      }
    }
    if (!op.finalSent && !this.closedError) {
      // A handler that gave up because of C-CANCEL-RQ ends the operation as cancelled.
      const cancelled = op.abortReason instanceof DimseRequestCancelled;
      const rsp = failureResponse(op.message, cancelled ? Status.Cancel : Status.ProcessingFailure);
      if (!cancelled) {
        rsp.errorComment =
          failure instanceof Error ? failure.message : 'the request handler sent no final response';
      }
      await this.respondTo(op, rsp).catch(() => undefined);
    }
    this.running--;
    this.performing.delete(op.messageId);
    const next = this.waitingToPerform.shift();
    if (next) void this.perform(next);
  }

  private respondTo(op: PerformedOperation, command: CommandSet, dataset?: Buffer | Readable): Promise<void> {
    if (op.finalSent) {
      return Promise.reject(
        new DimseUsageError(
          'ERR_DIMSE_INVALID_COMMAND',
          `a final response to message ${op.messageId} was already sent; no further response is allowed`,
        ),
      );
    }
    const full =
      command.messageIdBeingRespondedTo === undefined
        ? { ...command, messageIdBeingRespondedTo: op.messageId }
        : command;
    const message: OutgoingMessage = { contextId: op.message.contextId, command: full, dataset };
    let commandBytes: Buffer;
    try {
      commandBytes = this.prepare(message);
    } catch (err) {
      return Promise.reject(err);
    }
    if (full.status === undefined || statusCategory(full.status) !== 'pending') op.finalSent = true;
    return this.enqueue(message, commandBytes);
  }

  private async onClosed(reason: ChannelCloseReason): Promise<void> {
    const base = this.violation
      ? new DimseChannelClosedError(
          `association aborted after a DIMSE protocol violation: ${this.violation.message}`,
          {
            cause: this.violation,
          },
        )
      : new DimseChannelClosedError(describeClose(reason), {
          cause: reason.kind === 'transport-error' ? reason.error : undefined,
        });
    this.closedError = base;
    this.rejectOnClose(base);
    this.reassembler.close(base);
    // Responses that were complete before the close still reach their requests.
    await this.reassembler.settled();
    for (const req of [...this.outstanding.values()]) this.finish(req, this.requestClosedError(req, base));
    this.invokeWindow.failAll(base);
    for (const op of this.performing.values()) op.abort(base);
    this.waitingToPerform.length = 0;
  }

  private requestClosedError(
    req: OutstandingRequest,
    base: DimseChannelClosedError,
  ): DimseChannelClosedError {
    return new DimseChannelClosedError(
      `${commandFieldName(req.commandField)} (message ${req.messageId}) did not complete: ${base.message}`,
      { cause: base },
    );
  }
}

/** The reason an incoming request's signal is aborted on C-CANCEL-RQ. */
export class DimseRequestCancelled extends DicomnetError implements KindedError {
  readonly kind = 'dimse' as const;

  constructor(readonly messageId: number) {
    super('ERR_DIMSE_CANCELLED', `the peer cancelled message ${messageId} (C-CANCEL-RQ)`);
  }
}

type RequestState = 'queued' | 'sent' | 'withdrawn' | 'done';

class OutstandingRequest implements DimseRequest {
  state: RequestState = 'queued';
  private readonly queue: IncomingMessage[] = [];
  private ended = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;
  private cancelSent = false;
  private abandoned = false;
  private readonly transmitted: Promise<void>;
  markTransmitted: () => void = () => undefined;

  constructor(
    readonly messageId: number,
    readonly contextId: number,
    readonly commandField: number,
    private readonly endpoint: DimseEndpoint,
  ) {
    this.transmitted = new Promise((resolve) => {
      this.markTransmitted = resolve;
    });
  }

  cancel(): void {
    if (this.state === 'queued') {
      this.state = 'withdrawn';
      this.endpoint.withdraw(this);
      this.fail(
        new DimseUsageError(
          'ERR_DIMSE_CANCELLED_BEFORE_SEND',
          `${commandFieldName(this.commandField)} (message ${this.messageId}) was cancelled before it was sent`,
        ),
      );
      return;
    }
    if (this.state !== 'sent' || this.cancelSent) return;
    this.cancelSent = true;
    this.endpoint.sendCancel(this);
  }

  push(message: IncomingMessage): void {
    if (this.abandoned) return;
    this.queue.push(message);
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  fail(error: Error): void {
    this.error = error;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<IncomingMessage> {
    try {
      for (;;) {
        const next = this.queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (this.ended) {
          // A peer may answer before our data set is fully sent: the caller must not
          // tear down the data set source while it is still being read.
          await this.transmitted;
          return;
        }
        if (this.error) throw this.error;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      // The consumer stopped early (break/return): the peer need not keep working for nobody.
      if (!this.ended && !this.error) {
        this.abandoned = true;
        this.queue.length = 0;
        this.cancel();
      }
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

class PerformedOperation {
  /** Made when a handler first reads the signal: most never do, and one costs ~15 µs. */
  private controller: AbortController | undefined;
  private aborted = false;
  /** Why the operation was aborted (the first reason wins, as with AbortController). */
  abortReason: unknown;
  finalSent = false;

  constructor(
    readonly message: IncomingMessage,
    readonly messageId: number,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}

/** Slots for outstanding requests; 0 = unlimited. */
class OperationWindow {
  private active = 0;
  private readonly waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private failure: Error | undefined;

  constructor(private readonly limit: number) {}

  acquire(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.limit <= 0 || this.active < this.limit) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next.resolve();
    else this.active--;
  }

  failAll(err: Error): void {
    this.failure = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }
}

/** Deflated Explicit VR Little Endian: its bit stream is padded to even length (PS3.5 A.5). */
const DEFLATED = '1.2.840.10008.1.2.1.99';

function acceptedContext(
  channel: AssociationChannel,
  contextId: number,
): (NegotiatedContext & { transferSyntax: string }) | undefined {
  const c = channel.negotiated.contexts.get(contextId);
  return c?.result === 0 && c.transferSyntax !== undefined
    ? (c as NegotiatedContext & { transferSyntax: string })
    : undefined;
}

function failureResponse(message: IncomingMessage, status: number): CommandSet {
  const { command } = message;
  const rsp: CommandSet = {
    commandField: responseFieldFor(command.commandField),
    messageIdBeingRespondedTo: command.messageId,
    status,
    hasDataset: false,
  };
  const sopClass = command.affectedSopClassUid ?? command.requestedSopClassUid;
  if (sopClass !== undefined) rsp.affectedSopClassUid = sopClass;
  const instance = command.affectedSopInstanceUid ?? command.requestedSopInstanceUid;
  if (instance !== undefined) rsp.affectedSopInstanceUid = instance;
  return rsp;
}

function describe(contextId: number, command: CommandSet): Record<string, unknown> {
  return {
    command: commandFieldName(command.commandField),
    contextId,
    messageId: command.messageId,
    messageIdBeingRespondedTo: command.messageIdBeingRespondedTo,
    status: command.status,
  };
}

function describeClose(reason: ChannelCloseReason): string {
  switch (reason.kind) {
    case 'released':
      return 'the association was released';
    case 'aborted': {
      const who = reason.byPeer ? 'by the peer' : 'by this side';
      const detail = reason.message ? `: ${reason.message}` : '';
      return `the association was aborted ${who} (A-ABORT source ${reason.source}, reason ${reason.reason})${detail}`;
    }
    case 'transport-error':
      return `the connection failed: ${reason.error.message}`;
  }
}
