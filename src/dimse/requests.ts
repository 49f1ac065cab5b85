/**
 * The requesting side of a DIMSE endpoint: our outstanding requests by Message ID, the
 * asynchronous operations window they wait for, and the routing of each response to its request.
 */
import type { Logger } from '../log.js';
import { toError } from '../errors.js';
import { CommandField, commandFieldName, responseFieldFor } from './command-field.js';
import { DimseChannelClosedError, DimseUsageError } from './errors.js';
import {
  describeMessage,
  type DimseRequest,
  type IncomingMessage,
  type MessageQueue,
  type OutgoingMessage,
} from './messages.js';
import { statusCategory } from './status.js';

/** Requests of ours, from sending to their final response. */
export class Requester {
  private readonly outstanding = new Map<number, OutstandingRequest>();
  private readonly window: OperationWindow;
  private nextId = 1;

  constructor(
    private readonly queue: MessageQueue,
    /** Negotiated maximum number of operations invoked (0 = unlimited). */
    maxOperationsInvoked: number,
    private readonly log: Logger,
  ) {
    this.window = new OperationWindow(maxOperationsInvoked);
  }

  /** Requests still waiting for their final response. */
  get size(): number {
    return this.outstanding.size;
  }

  /** A Message ID (1..65535, wrapping) not used by any outstanding request. */
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

  /** See `DimseEndpoint.request`. */
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
    const commandBytes = this.queue.prepare(outgoing);
    const closed = this.queue.closedError();
    if (closed) {
      req.fail(closedDuring(req, closed));
      req.markTransmitted();
      return req;
    }
    this.outstanding.set(id, req);
    void this.dispatch(req, outgoing, commandBytes);
    return req;
  }

  /** @internal Used by {@link OutstandingRequest.cancel}. */
  sendCancel(req: OutstandingRequest): void {
    this.queue
      .send({
        contextId: req.contextId,
        command: {
          commandField: CommandField.C_CANCEL_RQ,
          messageIdBeingRespondedTo: req.messageId,
          hasDataset: false,
        },
      })
      .catch((err: unknown) => this.log.debug({ err, messageId: req.messageId }, 'C-CANCEL-RQ not sent'));
  }

  /** @internal Used by {@link OutstandingRequest.cancel} before the request was sent. */
  withdraw(req: OutstandingRequest): void {
    if (this.outstanding.get(req.messageId) === req) this.outstanding.delete(req.messageId);
  }

  /** A response (its Status checked by the caller): to its request, or dropped with a warning. */
  onResponse(message: IncomingMessage, status: number): void {
    const { command } = message;
    const req =
      command.messageIdBeingRespondedTo === undefined
        ? undefined
        : this.outstanding.get(command.messageIdBeingRespondedTo);
    if (req?.state !== 'sent') {
      this.log.warn(
        describeMessage(message.contextId, command),
        'dropping a DIMSE response to no outstanding request',
      );
      return;
    }
    if (command.commandField !== responseFieldFor(req.commandField)) {
      this.log.warn(
        {
          ...describeMessage(message.contextId, command),
          expected: commandFieldName(responseFieldFor(req.commandField)),
        },
        'DIMSE response field does not match the request',
      );
    }
    req.push(message);
    if (statusCategory(status) !== 'pending') this.finish(req);
  }

  /** The association closed: every request fails, nothing waits for the window any more. */
  closeAll(base: DimseChannelClosedError): void {
    for (const req of [...this.outstanding.values()]) this.finish(req, closedDuring(req, base));
    this.window.failAll(base);
  }

  private async dispatch(
    req: OutstandingRequest,
    message: OutgoingMessage,
    commandBytes: Buffer,
  ): Promise<void> {
    try {
      await this.window.acquire();
    } catch (err) {
      if (req.state !== 'withdrawn') this.finish(req, toError(err));
      req.markTransmitted();
      return;
    }
    if (req.state === 'withdrawn') {
      this.window.release();
      req.markTransmitted();
      return;
    }
    req.state = 'sent';
    try {
      await this.queue.enqueue(message, commandBytes);
    } catch (err) {
      this.finish(req, toError(err));
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
    if (held) this.window.release();
    if (error) req.fail(error);
    else req.end();
  }
}

function closedDuring(req: OutstandingRequest, base: Error): DimseChannelClosedError {
  return new DimseChannelClosedError(
    `${commandFieldName(req.commandField)} (message ${req.messageId}) did not complete: ${base.message}`,
    { cause: base },
  );
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
    private readonly requester: Requester,
  ) {
    this.transmitted = new Promise((resolve) => {
      this.markTransmitted = resolve;
    });
  }

  cancel(): void {
    if (this.state === 'queued') {
      this.state = 'withdrawn';
      this.requester.withdraw(this);
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
    this.requester.sendCancel(this);
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
