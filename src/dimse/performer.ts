/**
 * The performing side of a DIMSE endpoint: the peer's requests we perform, by Message ID, the
 * queue of those waiting for the negotiated operations window, C-CANCEL-RQ, and the rule that
 * every operation ends with exactly one final response.
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../log.js';
import { CommandField } from './command-field.js';
import type { CommandSet } from './command-set.js';
import { DimseRequestCancelled, DimseUsageError } from './errors.js';
import {
  describeMessage,
  type IncomingMessage,
  type MessageQueue,
  type OutgoingMessage,
  type RequestContext,
  type RequestHandler,
} from './messages.js';
import { responseTo } from './responses.js';
import { Status, statusCategory } from './status.js';

/** The peer's requests, from arrival to our final response. */
export class Performer {
  private readonly performing = new Map<number, PerformedOperation>();
  private readonly waiting: PerformedOperation[] = [];
  private running = 0;

  constructor(
    private readonly queue: MessageQueue,
    /** Negotiated maximum number of operations performed at once (0 = unlimited). */
    private readonly limit: number,
    /** Performs a request; absent = every request is answered 0x0211 (unrecognized operation). */
    private readonly handler: RequestHandler | undefined,
    private readonly log: Logger,
  ) {}

  /** A request with a Message ID (C-CANCEL-RQ included), received while the association is open. */
  onRequest(message: IncomingMessage, messageId: number | undefined): void {
    const { command } = message;
    if (command.commandField === CommandField.C_CANCEL_RQ) {
      const target = command.messageIdBeingRespondedTo;
      const op = target === undefined ? undefined : this.performing.get(target);
      this.log.debug({ messageId: target, found: op !== undefined }, 'C-CANCEL-RQ received');
      op?.abort(new DimseRequestCancelled(target ?? 0));
      return;
    }
    if (messageId === undefined) return;
    const op = new PerformedOperation(message, messageId);
    if (this.performing.has(op.messageId)) {
      this.log.warn(
        describeMessage(message.contextId, command),
        'duplicate invocation of a Message ID being performed',
      );
      void this.respondTo(op, responseTo(command, Status.DuplicateInvocation)).catch(() => undefined);
      return;
    }
    this.performing.set(op.messageId, op);
    if (this.limit > 0 && this.running >= this.limit) this.waiting.push(op);
    else void this.perform(op);
  }

  /** The association closed: every operation's signal aborts, nothing waiting is performed. */
  abortAll(reason: Error): void {
    for (const op of this.performing.values()) op.abort(reason);
    this.waiting.length = 0;
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
      if (this.handler) await this.handler(op.message, context);
      else await context.respond(responseTo(op.message.command, Status.UnrecognizedOperation));
    } catch (err) {
      failure = err;
      if (!this.queue.closedError()) {
        this.log.error(
          { err, ...describeMessage(op.message.contextId, op.message.command) },
          'DIMSE request handler failed',
        );
      }
    }
    if (!op.finalSent && !this.queue.closedError()) {
      // A handler that gave up because of C-CANCEL-RQ ends the operation as cancelled.
      const cancelled = op.abortReason instanceof DimseRequestCancelled;
      const rsp = responseTo(op.message.command, cancelled ? Status.Cancel : Status.ProcessingFailure);
      if (!cancelled) {
        rsp.errorComment =
          failure instanceof Error ? failure.message : 'the request handler sent no final response';
      }
      await this.respondTo(op, rsp).catch(() => undefined);
    }
    this.running--;
    this.performing.delete(op.messageId);
    const next = this.waiting.shift();
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
      commandBytes = this.queue.prepare(message);
    } catch (err) {
      return Promise.reject(err);
    }
    if (full.status === undefined || statusCategory(full.status) !== 'pending') op.finalSent = true;
    return this.queue.enqueue(message, commandBytes);
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
