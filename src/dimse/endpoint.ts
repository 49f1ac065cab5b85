/**
 * DIMSE over one established association: one send queue (messages never interleave), the
 * reassembly of received PDVs into messages, and the routing of each message to the requesting
 * side (requests.ts) or the performing side (performer.ts).
 */
import { TransferSyntax } from '../data/transfer-syntax.js';
import { toError } from '../errors.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { AssociationChannel, ChannelCloseReason, NegotiatedContext, Pdv } from '../network/channel.js';
import { CommandField, commandFieldName, isResponse } from './command-field.js';
import { encodeCommandSet } from './command-set.js';
import { DimseChannelClosedError, DimseProtocolError, DimseUsageError } from './errors.js';
import { type PdvSender, type SendProgress, sendMessage } from './fragmenter.js';
import {
  describeMessage,
  type DimseRequest,
  type IncomingMessage,
  type MessageQueue,
  type OutgoingMessage,
  type RequestHandler,
} from './messages.js';
import { Performer } from './performer.js';
import { type DatasetSinkChooser, MessageReassembler, type ReassembledMessage } from './reassembler.js';
import { Requester } from './requests.js';

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
  private readonly requester: Requester;
  private readonly performer: Performer;
  private sendChain: Promise<void> = Promise.resolve();
  private closedError: DimseChannelClosedError | undefined;
  private violation: Error | undefined;
  private rejectOnClose: (err: Error) => void = () => undefined;
  private readonly closedPromise: Promise<never>;

  constructor(
    private readonly channel: AssociationChannel,
    options: DimseEndpointOptions = {},
  ) {
    this.log = options.logger ?? silentLogger();
    const queue: MessageQueue = {
      prepare: (message) => this.prepare(message),
      enqueue: (message, commandBytes) => this.enqueue(message, commandBytes),
      send: (message) => this.send(message),
      closedError: () => this.closedError,
    };
    this.requester = new Requester(queue, channel.negotiated.maxOperationsInvoked, this.log);
    this.performer = new Performer(
      queue,
      channel.negotiated.maxOperationsPerformed,
      options.onRequest,
      this.log,
    );
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
    return this.requester.size;
  }

  /** A Message ID (1..65535, wrapping) not used by any outstanding request of ours. */
  nextMessageId(): number {
    return this.requester.nextMessageId();
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
    return this.requester.request(message);
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
        padOddDataset:
          message.dataset !== undefined &&
          acceptedContext(this.channel, message.contextId)?.transferSyntax ===
            TransferSyntax.DeflatedExplicitVRLittleEndian,
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
      this.log.debug(describeMessage(message.contextId, message.command), 'DIMSE sent');
  }

  private onPdvs(pdvs: Pdv[]): void {
    for (const pdv of pdvs) {
      try {
        this.reassembler.push(pdv);
      } catch (err) {
        this.violate(toError(err));
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
    const { command } = message;
    if (this.log.isLevelEnabled('debug'))
      this.log.debug(describeMessage(message.contextId, command), 'DIMSE received');
    if (isResponse(command.commandField)) {
      if (command.status === undefined) {
        this.violate(
          new DimseProtocolError(
            'ERR_DIMSE_PDV_SEQUENCE',
            `${commandFieldName(command.commandField)} without a Status`,
          ),
        );
        return;
      }
      this.requester.onResponse(incoming, command.status);
    } else if (this.channel.releasing === true) {
      // PS3.8 7.2.2: no P-DATA may follow our A-RELEASE-RQ, so it cannot be answered; like
      // pynetdicom, ignore it rather than abort (the peer learns from the A-RELEASE-RP)
      this.log.warn(
        describeMessage(message.contextId, command),
        'ignoring a DIMSE request received after this side requested release',
      );
    } else if (!this.closedError) {
      if (command.commandField !== CommandField.C_CANCEL_RQ && command.messageId === undefined) {
        this.violate(
          new DimseProtocolError(
            'ERR_DIMSE_PDV_SEQUENCE',
            `${commandFieldName(command.commandField)} without a Message ID`,
          ),
        );
        return;
      }
      this.performer.onRequest(incoming, command.messageId);
    }
  }

  private async onClosed(reason: ChannelCloseReason): Promise<void> {
    const base = this.violation
      ? new DimseChannelClosedError(
          `association aborted after a DIMSE protocol violation: ${this.violation.message}`,
          { cause: this.violation },
        )
      : new DimseChannelClosedError(describeClose(reason), {
          cause: reason.kind === 'transport-error' ? reason.error : undefined,
        });
    this.closedError = base;
    this.rejectOnClose(base);
    this.reassembler.close(base);
    // Responses that were complete before the close still reach their requests.
    await this.reassembler.settled();
    this.requester.closeAll(base);
    this.performer.abortAll(base);
  }
}

function acceptedContext(
  channel: AssociationChannel,
  contextId: number,
): (NegotiatedContext & { transferSyntax: string }) | undefined {
  const c = channel.negotiated.contexts.get(contextId);
  return c?.result === 0 && c.transferSyntax !== undefined
    ? (c as NegotiatedContext & { transferSyntax: string })
    : undefined;
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
