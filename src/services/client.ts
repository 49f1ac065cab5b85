import {
  type Dataset,
  datasetFromKeywords,
  datasetToJson,
  decodeDataset,
  encodeDataset,
  type DicomJson,
} from '../data/index.js';
import {
  CommandField,
  type CommandSet,
  DimseEndpoint,
  type IncomingMessage,
  Priority,
  Status,
  statusCategory,
} from '../dimse/index.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { AssociationChannel, NegotiatedAssociation, NegotiatedContext } from '../network/index.js';
import { openAssociation, type OpenAssociationOptions } from '../network/transport.js';
import type { SecureLinkInfo } from '../tls/types.js';
import { serviceLabel, serviceOfAbstractSyntax } from './authorization.js';
import { ServiceError } from './errors.js';
import { defaultContexts, type ProposedContext } from './presentation.js';
import { findSopClass, getSopClass, moveSopClass, type QueryModel } from './sop-classes.js';
import { assertSuccess } from './status.js';
import { type StoreOptions, type StoreResult, storeFile } from './store-scu.js';
import {
  type ReceivedInstance,
  runStoreHandler,
  StoreSink,
  storeResponse,
  unsupportedResponse,
} from './store-sink.js';

/** Options of {@link connect}. */
export interface ConnectOptions extends Omit<OpenAssociationOptions, 'contexts'> {
  /** Contexts to propose; default: verification, Q/R, worklist, commitment, MPPS and common storage classes. */
  contexts?: ProposedContext[];
  /** Receives C-STORE sub-operations of C-GET (and any C-STORE the peer sends us). */
  onStore?: (instance: ReceivedInstance) => Promise<number> | number;
  /** Directory for instances received during C-GET (default: os tmpdir). */
  tempDir?: string;
  /**
   * Receives N-EVENT-REPORT requests the peer sends on this association (e.g. a Storage
   * Commitment result); resolves to the status to answer. Without it they are answered 0x0211.
   */
  onEventReport?: (report: EventReport) => Promise<number> | number;
}

/** An N-EVENT-REPORT received on a requestor's association. */
export interface EventReport {
  sopClassUid: string;
  sopInstanceUid?: string;
  eventTypeId?: number;
  dataset?: Dataset;
}

/** Progress and outcome of C-MOVE / C-GET. */
export interface RetrieveProgress {
  status: number;
  remaining?: number;
  completed?: number;
  failed?: number;
  warning?: number;
}

/** A query for C-FIND / C-MOVE / C-GET: keyword → value (`''` asks for the attribute), or a Dataset. */
export type Query = Record<string, string> | Dataset;

/**
 * An established association as a requestor (SCU) sees it: the DIMSE services as
 * methods. Created by {@link connect}.
 */
export class Association {
  /** The negotiated TLS parameters when the association runs over TLS. */
  readonly secureLink: SecureLinkInfo | undefined;
  readonly negotiated: NegotiatedAssociation;
  private readonly endpoint: DimseEndpoint;
  private readonly log: Logger;
  /** Requests from the peer being answered; release waits for them (no P-DATA after A-RELEASE-RQ). */
  private readonly answering = new Set<Promise<void>>();

  constructor(
    private readonly channel: AssociationChannel,
    secureLink: SecureLinkInfo | undefined,
    options: Pick<ConnectOptions, 'logger' | 'onStore' | 'tempDir' | 'onEventReport'>,
  ) {
    this.secureLink = secureLink;
    this.negotiated = channel.negotiated;
    this.log = options.logger ?? silentLogger();
    const receiving = new Map<number, StoreSink>();
    this.endpoint = new DimseEndpoint(channel, {
      logger: this.log,
      datasetSink: (command, contextId) => {
        if (command.commandField !== CommandField.C_STORE_RQ) return undefined;
        if (!options.onStore) return 'discard';
        const sink = new StoreSink(this.contextFor(contextId), command, options.tempDir);
        receiving.set(command.messageId ?? 0, sink);
        return sink.stream;
      },
      onRequest: (msg, ctx) => {
        const answer = this.answer(msg, ctx, options, receiving);
        this.answering.add(answer);
        return answer.finally(() => this.answering.delete(answer));
      },
    });
    // a C-STORE whose data set arrived but which was never performed (the peer sent it after our
    // A-RELEASE-RQ, or the association ended first) leaves no temporary file behind
    channel.once('closed', () => {
      for (const sink of receiving.values()) void sink.discard().catch(() => undefined);
      receiving.clear();
    });
  }

  private async answer(
    msg: IncomingMessage,
    ctx: { respond(command: CommandSet): Promise<void> },
    options: Pick<ConnectOptions, 'logger' | 'onStore' | 'tempDir' | 'onEventReport'>,
    receiving: Map<number, StoreSink>,
  ): Promise<void> {
    const onStore = options.onStore;
    if (msg.command.commandField === CommandField.N_EVENT_REPORT_RQ && options.onEventReport) {
      await ctx.respond(await this.eventReportResponse(msg, options.onEventReport));
      return;
    }
    const sink = receiving.get(msg.command.messageId ?? 0);
    receiving.delete(msg.command.messageId ?? 0);
    if (msg.command.commandField !== CommandField.C_STORE_RQ || !onStore || !sink) {
      await sink?.discard();
      await ctx.respond(unsupportedResponse(msg));
      return;
    }
    const status = await runStoreHandler(sink, onStore, this.log, msg.datasetError);
    await ctx.respond(storeResponse(msg, status));
  }

  private async eventReportResponse(
    msg: IncomingMessage,
    handler: NonNullable<ConnectOptions['onEventReport']>,
  ): Promise<CommandSet> {
    const c = msg.command;
    let status: number = Status.ProcessingFailure;
    try {
      status = await handler({
        sopClassUid: c.affectedSopClassUid ?? msg.abstractSyntax,
        sopInstanceUid: c.affectedSopInstanceUid,
        eventTypeId: c.eventTypeId,
        dataset: msg.dataset ? decodeDataset(msg.dataset, msg.transferSyntax) : undefined,
      });
    } catch (err) {
      this.log.error({ err }, 'N-EVENT-REPORT handler failed');
    }
    return {
      commandField: CommandField.N_EVENT_REPORT_RSP,
      messageIdBeingRespondedTo: c.messageId,
      affectedSopClassUid: c.affectedSopClassUid,
      affectedSopInstanceUid: c.affectedSopInstanceUid,
      eventTypeId: c.eventTypeId,
      status,
      hasDataset: false,
    };
  }

  /** Accepted contexts. */
  get contexts(): NegotiatedContext[] {
    return [...this.negotiated.contexts.values()].filter((c) => c.result === 0);
  }

  /** C-ECHO: resolves on success, rejects with a DimseStatusError otherwise. */
  async echo(): Promise<void> {
    const ctx = this.findContext(SOP_VERIFICATION);
    const rsp = await this.endpoint.requestOne({
      contextId: ctx.id,
      command: {
        commandField: CommandField.C_ECHO_RQ,
        messageId: this.endpoint.nextMessageId(),
        affectedSopClassUid: SOP_VERIFICATION,
        hasDataset: false,
      },
    });
    assertSuccess(rsp.command, CommandField.C_ECHO_RQ);
  }

  /**
   * C-STORE a Part 10 file. The data set streams from disk; it is transcoded
   * when the peer accepted another uncompressed transfer syntax. The data set's SOP Instance
   * UID is sent (a differing file meta UID is logged as a warning).
   */
  store(file: string, options: StoreOptions = {}): Promise<StoreResult> {
    return storeFile(this.endpoint, this.negotiated, file, {
      onWarning: (message) => this.log.warn(message),
      ...options,
    });
  }

  /** C-FIND: yields each match as DICOM JSON (PS3.18 F.2). */
  async *find(
    query: Query,
    options: { model?: QueryModel; signal?: AbortSignal } = {},
  ): AsyncGenerator<DicomJson> {
    for await (const ds of this.findDatasets(query, options)) yield datasetToJson(ds);
  }

  /** C-FIND: yields each match as a Dataset. */
  async *findDatasets(
    query: Query,
    options: { model?: QueryModel; signal?: AbortSignal } = {},
  ): AsyncGenerator<Dataset> {
    const sopClass = findSopClass(options.model ?? 'study');
    const ctx = this.findContext(sopClass);
    const identifier = toDataset(query);
    const request = this.endpoint.request({
      contextId: ctx.id,
      command: {
        commandField: CommandField.C_FIND_RQ,
        messageId: this.endpoint.nextMessageId(),
        affectedSopClassUid: sopClass,
        priority: Priority.Medium,
        hasDataset: true,
      },
      dataset: encodeDataset(identifier, ctx.transferSyntax as string),
    });
    const onAbort = () => request.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const rsp of request) {
        const category = statusCategory(rsp.command.status ?? 0);
        if (category === 'pending') {
          if (rsp.dataset) yield decodeDataset(rsp.dataset, ctx.transferSyntax as string);
          continue;
        }
        if (category !== 'cancel') assertSuccess(rsp.command, CommandField.C_FIND_RQ);
      }
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** C-MOVE to `destination` (an AE title the peer knows). Resolves with the final counts. */
  async move(
    query: Query,
    destination: string,
    options: {
      model?: Exclude<QueryModel, 'worklist'>;
      onProgress?: (p: RetrieveProgress) => void;
      signal?: AbortSignal;
    } = {},
  ): Promise<RetrieveProgress> {
    const sopClass = moveSopClass(options.model ?? 'study');
    return this.retrieve(sopClass, CommandField.C_MOVE_RQ, query, options, destination);
  }

  /** C-GET: the peer sends the matches back on this association (to `onStore` given to {@link connect}). */
  async get(
    query: Query,
    options: {
      model?: Exclude<QueryModel, 'worklist'>;
      onProgress?: (p: RetrieveProgress) => void;
      signal?: AbortSignal;
    } = {},
  ): Promise<RetrieveProgress> {
    const sopClass = getSopClass(options.model ?? 'study');
    return this.retrieve(sopClass, CommandField.C_GET_RQ, query, options);
  }

  /** Send any DIMSE request and collect its responses (N-ACTION, N-CREATE, …). */
  async request(
    abstractSyntax: string,
    command: Omit<CommandSet, 'messageId'>,
    dataset?: Dataset,
  ): Promise<{ command: CommandSet; dataset?: Dataset }> {
    const ctx = this.findContext(abstractSyntax);
    const rsp = await this.endpoint.requestOne({
      contextId: ctx.id,
      command: { ...command, messageId: this.endpoint.nextMessageId(), hasDataset: dataset !== undefined },
      dataset: dataset ? encodeDataset(dataset, ctx.transferSyntax as string) : undefined,
    });
    return {
      command: rsp.command,
      dataset: rsp.dataset ? decodeDataset(rsp.dataset, ctx.transferSyntax as string) : undefined,
    };
  }

  /** A-RELEASE, once the answers to the peer's requests (C-STORE of C-GET, N-EVENT-REPORT) are sent. */
  async release(): Promise<void> {
    while (this.answering.size > 0) await Promise.allSettled([...this.answering]);
    await this.channel.release();
  }

  /** A-ABORT. */
  abort(): void {
    this.channel.abort();
  }

  private async retrieve(
    sopClass: string,
    field: number,
    query: Query,
    options: { onProgress?: (p: RetrieveProgress) => void; signal?: AbortSignal },
    destination?: string,
  ): Promise<RetrieveProgress> {
    const ctx = this.findContext(sopClass);
    const command: CommandSet = {
      commandField: field,
      messageId: this.endpoint.nextMessageId(),
      affectedSopClassUid: sopClass,
      priority: Priority.Medium,
      hasDataset: true,
    };
    if (destination !== undefined) command.moveDestination = destination;
    const request = this.endpoint.request({
      contextId: ctx.id,
      command,
      dataset: encodeDataset(toDataset(query), ctx.transferSyntax as string),
    });
    const onAbort = () => request.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let last: RetrieveProgress = { status: Status.Success };
    let errorComment: string | undefined;
    try {
      for await (const rsp of request) {
        last = progressOf(rsp.command);
        errorComment = rsp.command.errorComment;
        options.onProgress?.(last);
      }
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    if (statusCategory(last.status) !== 'cancel')
      assertSuccess({ ...command, status: last.status, errorComment }, field);
    return last;
  }

  private findContext(abstractSyntax: string): NegotiatedContext & { transferSyntax: string } {
    for (const c of this.negotiated.contexts.values()) {
      if (c.abstractSyntax === abstractSyntax && c.result === 0 && c.transferSyntax) {
        return c as NegotiatedContext & { transferSyntax: string };
      }
    }
    throw new ServiceError(
      'ERR_NO_PRESENTATION_CONTEXT',
      notAcceptedMessage(this.negotiated, abstractSyntax),
    );
  }

  private contextFor(contextId: number): NegotiatedContext {
    const c = this.negotiated.contexts.get(contextId);
    if (!c)
      throw new ServiceError('ERR_NO_PRESENTATION_CONTEXT', `unknown presentation context ${contextId}`);
    return c;
  }
}

const SOP_VERIFICATION = '1.2.840.10008.1.1';

/** PS3.8 Table 9-18: why the acceptor rejected a presentation context. */
const CONTEXT_RESULTS: Record<number, string> = {
  1: 'user rejection',
  2: 'no reason given (provider rejection)',
  3: 'abstract syntax not supported',
  4: 'transfer syntaxes not supported',
};

/**
 * One line naming why a service cannot be used on this association, e.g.
 * `C-FIND not accepted by DICOMNET: presentation context rejected (user rejection)`.
 */
function notAcceptedMessage(negotiated: NegotiatedAssociation, abstractSyntax: string): string {
  const service = serviceOfAbstractSyntax(abstractSyntax);
  const what = service ? `${serviceLabel(service)} (${abstractSyntax})` : abstractSyntax;
  const results = [...negotiated.contexts.values()]
    .filter((c) => c.abstractSyntax === abstractSyntax)
    .map((c) => CONTEXT_RESULTS[c.result] ?? `result ${c.result}`);
  if (results.length === 0) return `no presentation context for ${what} was proposed`;
  const label = service ? serviceLabel(service) : abstractSyntax;
  return `${label} not accepted by ${negotiated.calledAet}: presentation context rejected (${[...new Set(results)].join(', ')})`;
}

function toDataset(query: Query): Dataset {
  return isKeywordRecord(query) ? datasetFromKeywords(query) : query;
}

function isKeywordRecord(query: Query): query is Record<string, string> {
  return Object.getPrototypeOf(query) === Object.prototype;
}

function progressOf(cmd: CommandSet): RetrieveProgress {
  return {
    status: cmd.status ?? 0,
    remaining: cmd.numberOfRemainingSuboperations,
    completed: cmd.numberOfCompletedSuboperations,
    failed: cmd.numberOfFailedSuboperations,
    warning: cmd.numberOfWarningSuboperations,
  };
}

/**
 * Open an association (TCP or TLS) and return it ready for DIMSE.
 *
 * @example
 * const assoc = await connect({ host: '127.0.0.1', port: 11112, calledAet: 'DICOMNET' });
 * await assoc.echo();
 * await assoc.release();
 */
export async function connect(options: ConnectOptions): Promise<Association> {
  const { channel, secureLink } = await openAssociation({
    ...options,
    contexts: options.contexts ?? defaultContexts(),
  });
  return new Association(channel, secureLink, options);
}
