/** The shapes DIMSE's users deal in: messages received and sent, and what a request handler gets. */
import type { Readable } from 'node:stream';
import { commandFieldName } from './command-field.js';
import type { CommandSet } from './command-set.js';
import type { DatasetSource } from './fragmenter.js';

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

/** How the requesting and the performing side send: through the endpoint's one send queue. */
export interface MessageQueue {
  /** Check and encode a message's command (throws a `DimseUsageError` for a message that cannot be sent). */
  prepare(message: OutgoingMessage): Buffer;
  /** Send a prepared message after every message queued before it. */
  enqueue(message: OutgoingMessage, commandBytes: Buffer): Promise<void>;
  /** Prepare and enqueue. */
  send(message: OutgoingMessage): Promise<void>;
  /** The error everything fails with once the association closed; undefined while it is open. */
  closedError(): Error | undefined;
}

/** A compact description of a message for log lines (never a data set value). */
export function describeMessage(contextId: number, command: CommandSet): Record<string, unknown> {
  return {
    command: commandFieldName(command.commandField),
    contextId,
    messageId: command.messageId,
    messageIdBeingRespondedTo: command.messageIdBeingRespondedTo,
    status: command.status,
  };
}
