import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type Dataset, decodeDataset, encodeDataset } from '../data/index.js';
import {
  CommandField,
  type CommandSet,
  DimseEndpoint,
  type IncomingMessage,
  Status,
  statusCategory,
} from '../dimse/index.js';
import { createLogger, type Logger } from '../log.js';
import {
  type AcceptorPolicy,
  type AssociationChannel,
  type AssociationRejection,
  type AssociationRequest,
  acceptAssociation,
  type ChannelCloseReason,
  ByteBudget,
  type NegotiatedContext,
  NetworkError,
} from '../network/index.js';
import { createSecureAcceptor, type SecureAcceptor } from '../tls/acceptor.js';
import { TlsError } from '../tls/errors.js';
import type { SecureLinkInfo, TlsOptions } from '../tls/types.js';
import { connect } from './client.js';
import { type AdmissionRefusedError, ConnectionAdmission } from './admission.js';
import {
  type AssociationSlotPool,
  AssociationSlots,
  isSlotRefusal,
  type SlotLease,
} from './association-slots.js';
import { acceptancePolicy, CALLING_AET_NOT_RECOGNIZED, LOCAL_LIMIT_EXCEEDED } from './acceptance.js';
import { type AeTitleBindings, checkAeTitleBinding } from './ae-binding.js';
import {
  type AccessDecision,
  type AccessPolicy,
  type AccessRequest,
  type AccessService,
  decideAccess,
  describePeer,
  peerKind,
  serviceLabel,
  serviceOfAbstractSyntax,
} from './authorization.js';
import { findSopClass, isStorageSopClass, SopClass } from './sop-classes.js';
import { type ReceivedInstance, StoreSink, storeResponse, unsupportedResponse } from './store-sink.js';
import { storableHeader, storeFile } from './store-scu.js';
import { storageContextsFor } from './presentation.js';

/** Who is on the other end of an association. */
export interface AssociationInfo {
  /** Server-unique number, for logs. */
  id: number;
  callingAet: string;
  calledAet: string;
  remoteAddress: string;
  remotePort: number;
  secureLink?: SecureLinkInfo;
  /** The User Identity item of the request (PS3.7 D.3.3.7): its type and, for types 1-2, the username; never the passcode. */
  userIdentity?: { type: number; username?: string };
}

/** What a handler knows about the request it answers. */
export interface RequestContext {
  association: AssociationInfo;
  /** Aborted when the peer sends C-CANCEL or the association ends. */
  signal: AbortSignal;
  sopClassUid: string;
  /**
   * Ask the server's access policy ({@link DicomServerOptions.authorize}) whether this
   * association's peer may do `request` (e.g. MPPS N-SET on another AE's step). A refusal is
   * logged and emitted as `'accessRefused'` here; the handler only answers it. Without a
   * policy everything is allowed. Always present on contexts a {@link DicomServer} passes.
   */
  authorize?(request: {
    service: AccessService;
    moveDestination?: string;
    stepCreator?: string;
  }): AccessDecision;
}

/** A request or presentation context the access policy refused (event `'accessRefused'`). */
export interface AccessRefusal {
  callingAet: string;
  calledAet: string;
  remoteAddress: string;
  /** Subject of the verified client certificate, if the peer sent one. */
  peerCertificateSubject?: string;
  /** The services refused (several when one association request proposed them). */
  services: AccessService[];
  /** The policy rule that refused (e.g. `access.unknownPeers`, `peers.MOD1.moveDestinations`). */
  rule: string;
  /** Why, in words (also logged). */
  reason: string;
  /** At negotiation (presentation contexts rejected) or on one request. */
  stage: 'negotiation' | 'request';
  /** The association request was rejected because no context was left. */
  associationRejected: boolean;
}

/** What became of the C-STORE sub-operations of a C-MOVE / C-GET. */
export interface RetrieveOutcome {
  /** The files a sub-operation was attempted for, in order, each with its status. */
  results: { file: string; status: number }[];
  /** Files selected; those beyond `results` were never sent (cancel, or `error`). */
  selected: number;
  /** The requestor cancelled (C-CANCEL) or the association ended. */
  cancelled: boolean;
  /** What ended the retrieve early as a whole (destination unreachable, unreadable file…). */
  error?: unknown;
}

/** The files a C-MOVE / C-GET sends, and who wants to know which were sent. */
export interface RetrieveFiles {
  files: string[];
  /** Called once the retrieve has ended, whichever way (e.g. to audit the instances really sent). */
  onComplete?: (outcome: RetrieveOutcome) => void;
}

/** Where C-MOVE sends the matches, and which files they are. */
export interface MoveTarget extends RetrieveFiles {
  host: string;
  port: number;
  /** Called AE title of the destination (the C-MOVE destination by default). */
  calledAet?: string;
  tls?: TlsOptions;
}

/** An N-service request as handlers receive it. */
export interface NRequest {
  commandField: number;
  sopClassUid: string;
  sopInstanceUid?: string;
  actionTypeId?: number;
  eventTypeId?: number;
  attributeIdentifierList?: number[];
  dataset?: Dataset;
}

/** What an N-service handler answers. */
export interface NResponse {
  status: number;
  sopInstanceUid?: string;
  dataset?: Dataset;
  /** Error ID (0000,0903), e.g. 0xA710 for an MPPS N-SET after COMPLETED. */
  errorId?: number;
  /** Error Comment (0000,0902), at most 64 characters. */
  errorComment?: string;
}

/**
 * What a store handler answers: a status, or a status with the Error Comment (0000,0902, at most
 * 64 characters) that tells the requestor why.
 */
export type StoreHandlerResult = number | { status: number; errorComment?: string };

/**
 * The received instance as a store handler gets it: a plain object, so it may be destructured
 * (`async ({ file, readDataset }) => …`): its functions work detached.
 */
export interface StoreRequest extends ReceivedInstance {
  association: AssociationInfo;
}

/** Which handler threw (event `'handlerError'`). */
export interface HandlerErrorContext {
  /** The service whose handler failed: `echo`, `store`, `find`, `move`, `get`, `nService`, `onComplete`. */
  service: string;
  association: AssociationInfo;
  /** The status answered instead. */
  status?: number;
}

/** Events of {@link DicomServer}, with their arguments. */
export interface DicomServerEvents {
  /** After each TLS handshake, before A-ASSOCIATE. */
  secureLinkReady: [info: SecureLinkInfo, peer: { remoteAddress: string; remotePort: number }];
  /** An association was established. */
  association: [info: AssociationInfo];
  /** An association ended (released, aborted, or its connection closed). */
  associationClosed: [info: AssociationInfo, reason: ChannelCloseReason];
  /** An idle association was aborted to make room for a new one (`why` names the limit). */
  associationEvicted: [info: AssociationInfo, why: string];
  /** This server's own checks (limits, AE title binding) refused an association. */
  associationRejected: [rejection: ServerRejection];
  /** A failure that ended one connection (TLS, bad PDUs, rejections, admission limits); the server keeps serving. */
  connectionError: [err: Error & { code?: string }, remoteAddress: string | undefined];
  /** A handler threw: the requestor got a failure status with the error's message as Error Comment. */
  handlerError: [err: unknown, context: HandlerErrorContext];
  /** The access policy ({@link DicomServerOptions.authorize}) refused presentation contexts or a request. */
  accessRefused: [refusal: AccessRefusal];
}

/** The services a {@link DicomServer} performs; a missing handler means the service is not offered. */
export interface ServerHandlers {
  /** C-ECHO (offered even without a handler: answers success). */
  echo?: (ctx: RequestContext) => Promise<number> | number;
  /**
   * C-STORE: `file` is the received temporary Part 10 file; move it to keep it. Answer a status,
   * or `{ status, errorComment }` to tell the requestor why it failed.
   */
  store?: (instance: StoreRequest) => Promise<StoreHandlerResult> | StoreHandlerResult;
  /** C-FIND (patient root, study root, worklist): yield the matches. */
  find?: (query: Dataset, ctx: RequestContext) => AsyncIterable<Dataset> | Iterable<Dataset>;
  /** C-MOVE: say where to send which files, or answer a status (e.g. 0xA801 unknown destination). */
  move?: (query: Dataset, ctx: RequestContext & { destination: string }) => Promise<MoveTarget | number>;
  /** C-GET: the files to send back on the same association. */
  get?: (query: Dataset, ctx: RequestContext) => Promise<string[] | RetrieveFiles | number>;
  /** N-ACTION, N-CREATE, N-SET, N-GET, N-DELETE, N-EVENT-REPORT. */
  nService?: (request: NRequest, ctx: RequestContext & { peer: ServerAssociation }) => Promise<NResponse>;
}

/** Options of {@link DicomServer}. */
export interface DicomServerOptions {
  /** AE title(s) this server answers to. */
  aet: string | string[];
  /** Accept any called AE title (as DCMTK storescp does); default false: unknown titles are rejected (reason 7). */
  acceptAnyCalledAet?: boolean;
  /** TLS settings for secure listeners; absent = plain TCP only. */
  tls?: TlsOptions;
  handlers?: ServerHandlers;
  /** Largest P-DATA-TF we accept, advertised in A-ASSOCIATE-AC (default 16384). */
  maxPduLength?: number;
  /**
   * Largest PDU of any type buffered, A-ASSOCIATE-RQ included, checked on its 6-byte header
   * before any body byte is kept (default 16 MiB); raised to {@link maxPduLength} if lower.
   */
  hardMaxPduLength?: number;
  /** Asynchronous operations window we grant (default 1 = synchronous). */
  maxOperations?: number;
  /** Most associations at once; more are rejected (transient, service provider, reason 2 "local limit exceeded"). */
  maxAssociations?: number;
  /** Most associations at once from one remote address; more are rejected like {@link maxAssociations}. */
  maxAssociationsPerAddress?: number;
  /**
   * Most connections (association attempts) one remote address may open per minute; the one
   * over is closed at once, before any TLS or DICOM exchange. Default: no limit.
   */
  maxAssociationsPerMinutePerAddress?: number;
  /**
   * Most TLS handshakes running at once (from the ClientHello to the end of the handshake);
   * a ClientHello over the limit closes its connection. Default: no limit.
   */
  maxTlsHandshakes?: number;
  /**
   * Most connections waiting to become an association at once: counted from accept (TLS
   * handshake, A-ASSOCIATE-RQ not yet answered) until the association is accepted or
   * rejected, or the socket closes. The connection over the limit is closed at once, before
   * any TLS or DICOM exchange. Default {@link DEFAULT_MAX_PENDING_CONNECTIONS}; 0 = no limit.
   */
  maxPendingConnections?: number;
  /**
   * Bytes of A-ASSOCIATE-RQ all pending connections together may be receiving at once, taken
   * when a request's 6-byte header arrives and given back when its association is established
   * or its connection ends. A request that does not fit is refused (A-ABORT) before any body
   * byte is kept, so connections each sending a large request slowly cannot make the server
   * hold `maxPendingConnections × hardMaxPduLength` bytes. Default
   * {@link DEFAULT_MAX_PENDING_REQUEST_BYTES}; 0 = no limit.
   */
  maxPendingRequestBytes?: number;
  /** Largest non-storage data set (query identifier, N-service data set) held in memory; default 64 MiB. */
  maxBufferedDatasetBytes?: number;
  /** Deepest sequence nesting accepted in a received query or N-service data set (default 32). */
  maxDatasetDepth?: number;
  /**
   * AE title ↔ certificate identity binding: calling AE title → certificate identities
   * (subject CN, or SAN DNS name / IP address / URI) allowed to use it. A listed calling
   * AE title must come over TLS with a peer certificate matching one of them, otherwise
   * the association is rejected (permanent, service user, reason 3 "calling AE title not
   * recognized") and a warning names why. Unlisted titles are accepted unless
   * {@link requireBoundAeTitles} is set.
   */
  aeTitleBindings?: AeTitleBindings;
  /** Reject calling AE titles not listed in {@link aeTitleBindings} (reason 3). Default false. */
  requireBoundAeTitles?: boolean;
  /**
   * Who may use which service (DESIGN.md "Access control"): presentation contexts of a
   * service the caller may not use are rejected at negotiation (user rejection; none left →
   * the association is rejected), a C-MOVE to a destination the caller may not use answers
   * 0xA801, and handlers can ask through {@link RequestContext.authorize}. Each refusal is
   * logged and emitted as `'accessRefused'` ({@link AccessRefusal}).
   *
   * Absent: **every peer may use every service the handlers offer** — a library server
   * leaves access to its user. `dicomnet serve` always applies a policy.
   */
  authorize?: AccessPolicy;
  /**
   * Watch the TLS key/certificate/CA/CRL files and reload them when they change
   * (new associations use the new credentials, running ones are untouched; a broken
   * new set is logged and the old one kept). Default false; see also {@link DicomServer.reloadCredentials}.
   */
  watchCredentials?: boolean | { debounceMs?: number };
  /** Abort an association idle this long (ms); default 5 minutes. */
  idleTimeoutMs?: number;
  /**
   * When all {@link maxAssociations} are running, abort (A-ABORT, logged) the association
   * with the longest time without DIMSE activity, if that is at least this long (ms), to
   * admit the newcomer instead of rejecting it. Default: never (the newcomer is rejected).
   * The per-address cap still applies to the newcomer.
   */
  idleEvictMs?: number;
  /**
   * Where association slots come from (default: a pool of this server's own, from
   * {@link maxAssociations}, {@link maxAssociationsPerAddress} and {@link idleEvictMs});
   * a cluster worker passes its primary's, so the limits hold for the node as a whole.
   */
  associationSlots?: AssociationSlotPool;
  /** ARTIM / handshake timeout (ms); default 30 s. */
  timeoutMs?: number;
  /** Where incoming instances are written while they arrive. */
  tempDir?: string;
  /**
   * Narrow what storage contexts are accepted: only these storage SOP classes (others get
   * "abstract syntax not supported") and only these transfer syntaxes for them (others get
   * "transfer syntaxes not supported"). Absent: every storage SOP class and every known
   * transfer syntax. Commands and queries always use the uncompressed syntaxes.
   */
  storageAcceptance?: { sopClasses?: readonly string[]; transferSyntaxes?: readonly string[] };
  /** Decide on an association request beyond the built-in checks (e.g. AE title ↔ certificate binding). */
  onAssociationRequest?: AcceptorPolicy['onAssociationRequest'];
  logger?: Logger;
}

/** Default of {@link DicomServerOptions.maxPendingConnections} (docs/limits.md explains the figure). */
export const DEFAULT_MAX_PENDING_CONNECTIONS = 1000;

/** Default of {@link DicomServerOptions.maxPendingRequestBytes}: 64 MiB (a usual request is a few KiB). */
export const DEFAULT_MAX_PENDING_REQUEST_BYTES = 64 * 1024 * 1024;

/** Options of {@link DicomServer.listen}. */
export interface ListenOptions {
  port: number;
  host?: string;
  /** Use TLS on this listener (default: true when the server has `tls` options). */
  secure?: boolean;
}

/** An association as the server side sees it (for N-EVENT-REPORT back to the requestor, etc.). */
export interface ServerAssociation {
  info: AssociationInfo;
  /** Send a DIMSE request to the requestor on this association (e.g. N-EVENT-REPORT). */
  request(
    abstractSyntax: string,
    command: Omit<CommandSet, 'messageId'>,
    dataset?: Dataset,
  ): Promise<CommandSet>;
}

/**
 * A DICOM server (SCP) over plain TCP and/or TLS.
 *
 * Events: `'secureLinkReady'(info: SecureLinkInfo, association: { remoteAddress })` after each
 * TLS handshake, before A-ASSOCIATE; `'association'(info)` once established;
 * `'associationClosed'(info, reason)`; `'associationEvicted'(info, why)` when an idle
 * association is aborted to admit a newcomer ({@link DicomServerOptions.idleEvictMs});
 * `'associationRejected'(rejection: AssociationRejection)`
 * when this server's own checks (limits, AE title binding) refuse one;
 * `'connectionError'(err, remoteAddress)` for failures that end one connection (TLS, bad
 * PDUs, rejections, admission limits: `AdmissionRefusedError`) — the server keeps serving;
 * `'handlerError'(err, { service, association })` when a handler throws (also logged; its
 * message goes back as the Error Comment); `'accessRefused'(refusal)` when the access policy
 * refuses (also logged). {@link DicomServerEvents} types them.
 */
export class DicomServer extends EventEmitter<DicomServerEvents> {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly log: Logger;
  private acceptor: SecureAcceptor | undefined;
  private stopWatching: (() => void) | undefined;
  private nextId = 1;
  /** Associations accepted (or being accepted) by this server and not yet closed. */
  private active = 0;
  private readonly slots: AssociationSlotPool;
  private readonly admission: ConnectionAdmission;
  private readonly requestBudget: ByteBudget;

  constructor(readonly options: DicomServerOptions) {
    super();
    this.requestBudget = new ByteBudget(options.maxPendingRequestBytes ?? DEFAULT_MAX_PENDING_REQUEST_BYTES);
    this.log = options.logger ?? createLogger({ level: 'silent' });
    this.slots =
      options.associationSlots ??
      new AssociationSlots({
        maxAssociations: options.maxAssociations,
        maxAssociationsPerAddress: options.maxAssociationsPerAddress,
        idleEvictMs: options.idleEvictMs,
      });
    this.admission = new ConnectionAdmission({
      maxAssociationsPerMinutePerAddress: options.maxAssociationsPerMinutePerAddress,
      maxTlsHandshakes: options.maxTlsHandshakes,
      maxPendingConnections: options.maxPendingConnections ?? DEFAULT_MAX_PENDING_CONNECTIONS,
    });
  }

  /** Start listening; call again for a second port (e.g. plain 11112 and TLS 2762). */
  async listen(options: ListenOptions): Promise<{ port: number; address: string }> {
    const secure = options.secure ?? this.options.tls !== undefined;
    if (secure) await this.prepareTls();
    const server = createServer({ noDelay: true }, (socket) => this.onConnection(socket, secure));
    server.on('error', (err) => this.log.error({ err }, 'listener error'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, options)));
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.servers.push(server);
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : options.port;
    const address = typeof addr === 'object' && addr ? addr.address : String(addr);
    this.log.info({ port, address, secure }, 'listening');
    return { port, address };
  }

  /** Load the TLS credentials (done by the first secure {@link listen}; needed before {@link serveConnection} of a TLS socket). */
  async prepareTls(): Promise<void> {
    if (!this.options.tls) throw new Error('a secure listener needs the server tls options');
    if (this.acceptor) return;
    this.acceptor = await createSecureAcceptor(this.options.tls, this.log);
    const watch = this.options.watchCredentials;
    if (watch) this.stopWatching = this.acceptor.watchCredentials(watch === true ? {} : watch);
  }

  /**
   * Serve a connection accepted elsewhere (a cluster primary accepts and hands sockets to its
   * workers). The per-minute rate and the pending cap were applied by whoever accepted it;
   * `endPending` is called once the connection stops being pending, as they count it.
   */
  serveConnection(socket: Socket, secure: boolean, endPending: () => void): void {
    this.track(socket);
    this.startServing(socket, secure, endPending);
  }

  /** Re-read the TLS key and certificates; new associations use them, running ones are untouched. */
  async reloadCredentials(): Promise<void> {
    await this.acceptor?.reloadCredentials();
  }

  /** Stop listening; abort running associations after `graceMs` (default 0: at once). */
  async close(graceMs = 0): Promise<void> {
    // net.Server.close() calls back only once every connection has ended: stop accepting
    // now, wait for that only after the grace period has cut what is left
    const listenersClosed = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.servers.length = 0;
    if (graceMs > 0 && this.sockets.size > 0) {
      const deadline = Date.now() + graceMs;
      while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    }
    for (const s of this.sockets) s.destroy();
    this.stopWatching?.();
    this.acceptor?.close();
    await Promise.all(listenersClosed);
  }

  /** Cut every open connection now (a second shutdown signal, say); the listeners stay as they are. */
  abortAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** Associations currently accepted (including those whose A-ASSOCIATE-AC is on its way). */
  get activeAssociations(): number {
    return this.active;
  }

  /** Connections accepted that are not yet an association, nor refused as one. */
  get pendingConnections(): number {
    return this.admission.pendingConnections;
  }

  private track(socket: Socket): void {
    socket.setNoDelay(true);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
  }

  private onConnection(socket: Socket, secure: boolean): void {
    this.track(socket);
    const address = socket.remoteAddress ?? '?';
    let refused = this.admission.connectionArrived(address);
    let endPending: () => void = () => undefined;
    if (!refused) {
      try {
        endPending = this.admission.startPending(address);
      } catch (err) {
        refused = err as AdmissionRefusedError;
      }
    }
    if (refused) {
      this.log.warn({ remoteAddress: socket.remoteAddress, code: refused.code }, refused.message);
      this.emit('connectionError', refused, socket.remoteAddress);
      socket.destroy();
      return;
    }
    this.startServing(socket, secure, endPending);
  }

  private startServing(socket: Socket, secure: boolean, endPending: () => void): void {
    socket.once('close', endPending);
    this.serve(socket, secure, endPending).catch((err: unknown) => {
      endPending();
      // a peer's mistake (wrong title, bad PDU, rejected request) is routine: one line, at info,
      // without a stack; TLS failures were logged by the TLS acceptor already
      if (!(err instanceof TlsError))
        this.log.info(
          { remoteAddress: socket.remoteAddress, code: (err as { code?: string } | null)?.code },
          describe(err),
        );
      this.emit('connectionError', err instanceof Error ? err : new Error(String(err)), socket.remoteAddress);
      // end, not destroy: an A-ASSOCIATE-RJ or A-ABORT may still be on its way out
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
    });
  }

  /** TLS handshake, then association negotiation; `endPending` is called once the request is decided. */
  private async serve(socket: Socket, secure: boolean, endPending: () => void): Promise<void> {
    const remoteAddress = socket.remoteAddress ?? '?';
    const remotePort = socket.remotePort ?? 0;
    let stream: Duplex = socket;
    let secureLink: SecureLinkInfo | undefined;
    if (secure && this.acceptor) {
      let endHandshake: (() => void) | undefined;
      const secured = await this.acceptor
        .accept(socket, {
          handshakeTimeoutMs: this.options.timeoutMs ?? 30_000,
          beforeHandshake: () => {
            endHandshake = this.admission.startTlsHandshake(remoteAddress);
          },
        })
        .finally(() => endHandshake?.());
      stream = secured.socket;
      secureLink = secured.info;
      this.emit('secureLinkReady', secureLink, { remoteAddress, remotePort });
    }
    let lease: SlotLease | undefined;
    const release = () => {
      if (!lease) return;
      lease.release();
      lease = undefined;
      this.active--;
    };
    let channel: AssociationChannel;
    try {
      channel = await acceptAssociation(
        stream,
        acceptancePolicy(this.options, {
          secureLink,
          remoteAddress,
          requestBudget: this.requestBudget,
          admit: async (request) => {
            const refusal = await this.admit(request.callingAet, remoteAddress, secureLink);
            if (typeof refusal === 'object' && 'decision' in refusal) {
              const rejection = refusal.decision;
              this.log.warn(
                { callingAet: request.callingAet, calledAet: request.calledAet, remoteAddress },
                `association from ${remoteAddress} rejected: ${refusal.why}`,
              );
              this.emit('associationRejected', {
                callingAet: request.callingAet,
                calledAet: request.calledAet,
                remoteAddress,
                ...rejection,
                message: refusal.why,
              } satisfies ServerRejection);
              return rejection;
            }
            // the slot is reserved now: another request may be decided while the user hook runs
            lease = refusal;
            this.active++;
            // a rejection here gives the slot back through `decided`
            return this.checkNegotiation(request, remoteAddress, secureLink);
          },
          decided: (_request, decision) => {
            if (decision.accept !== true) release();
          },
        }),
      );
    } catch (err) {
      release();
      throw err;
    } finally {
      endPending();
    }
    if (!lease) {
      // accepted by no slot (cannot happen: admit runs before every acceptance); never run unaccounted
      channel.abort();
      return;
    }
    const slot = lease;
    const info: AssociationInfo = {
      id: this.nextId++,
      callingAet: channel.negotiated.callingAet,
      calledAet: channel.negotiated.calledAet,
      remoteAddress,
      remotePort,
      secureLink,
    };
    const identity = channel.negotiated.userIdentity;
    if (identity) {
      info.userIdentity = { type: identity.type };
      if (identity.type === 1 || identity.type === 2)
        info.userIdentity.username = identity.primaryField.toString('utf8');
    }
    this.emit('association', info);
    channel.once('closed', (reason) => {
      release();
      this.emit('associationClosed', info, reason);
    });
    const runner = new ServerAssociationRunner(
      channel,
      info,
      this.options,
      this.log,
      slot,
      (err, context) => {
        // no listener: the log line (at error) is the report
        if (this.listenerCount('handlerError') > 0) this.emit('handlerError', err, context);
      },
      (refusal) => this.emit('accessRefused', refusal),
    );
    slot.evictable((why) => {
      this.log.warn(
        { association: info.id, callingAet: info.callingAet, remoteAddress, remotePort },
        `association ${info.id} from ${info.callingAet} at ${remoteAddress} aborted (A-ABORT): ${why}`,
      );
      this.emit('associationEvicted', info, why);
      runner.abort();
    });
  }

  /**
   * Contexts the access policy rejected (user rejection) are logged and emitted as one
   * refusal; when no context is left the association is rejected: reason 3 "calling AE
   * title not recognized" for a peer that is not configured (configuring it is the way in),
   * else reason 1 "no reason given".
   */
  private checkNegotiation(
    request: AssociationRequest,
    remoteAddress: string,
    secureLink: SecureLinkInfo | undefined,
  ): AssociationRejection | undefined {
    const policy = this.options.authorize;
    if (!policy) return undefined;
    const services = new Set<AccessService>();
    for (const c of request.contexts) {
      const service = c.result === 1 ? serviceOfAbstractSyntax(c.abstractSyntax) : undefined;
      if (service) services.add(service);
    }
    if (services.size === 0) return undefined;
    const peer = {
      callingAet: request.callingAet,
      verifiedCertificate: secureLink?.peerCertificate !== undefined,
    };
    const kind = peerKind(policy, peer);
    const first = decideAccess(policy, { ...peer, service: [...services][0] as AccessService });
    const list = [...services].map(serviceLabel).join(', ');
    const reason = `${list} ${services.size > 1 ? 'are' : 'is'} not allowed for ${describePeer(kind, request.callingAet)} (${first.rule})`;
    const rejected = !request.contexts.some((c) => c.result === 0);
    this.log.warn(
      { callingAet: request.callingAet, calledAet: request.calledAet, remoteAddress, rule: first.rule },
      rejected
        ? `association from ${remoteAddress} rejected: no presentation context left: ${reason}`
        : `presentation contexts rejected (user rejection) for ${remoteAddress}: ${reason}`,
    );
    const refusal: AccessRefusal = {
      callingAet: request.callingAet,
      calledAet: request.calledAet,
      remoteAddress,
      services: [...services],
      rule: first.rule,
      reason: rejected ? `no presentation context left: ${reason}` : reason,
      stage: 'negotiation',
      associationRejected: rejected,
    };
    const subject = secureLink?.peerCertificate?.subject;
    if (subject) refusal.peerCertificateSubject = subject;
    this.emit('accessRefused', refusal);
    if (!rejected) return undefined;
    return kind === 'configured' ? { result: 1, source: 1, reason: 1 } : { ...CALLING_AET_NOT_RECOGNIZED };
  }

  /**
   * The server's own admission checks: AE title binding, then a slot within the limits
   * (checked last, so that an idle association is never evicted for a newcomer refused anyway).
   */
  private async admit(
    callingAet: string,
    remoteAddress: string,
    secureLink: SecureLinkInfo | undefined,
  ): Promise<{ decision: AssociationRejection; why: string } | SlotLease> {
    const binding = checkAeTitleBinding(
      this.options.aeTitleBindings,
      callingAet,
      secureLink,
      this.options.requireBoundAeTitles,
    );
    if (!binding.ok) return { decision: { ...CALLING_AET_NOT_RECOGNIZED }, why: binding.reason };
    const slot = await this.slots.acquire(remoteAddress);
    if (isSlotRefusal(slot)) return { decision: { ...LOCAL_LIMIT_EXCEEDED }, why: slot.refused };
    return slot;
  }
}

/** An association this server refused by its own checks (event `'associationRejected'`). */
export interface ServerRejection {
  callingAet: string;
  calledAet: string;
  remoteAddress: string;
  /** A-ASSOCIATE-RJ result (1 permanent, 2 transient), source and reason (PS3.8 Table 9-21). */
  result: number;
  source: number;
  reason: number;
  /** Why, in words (also logged). */
  message: string;
}

/** Runs the DIMSE side of one accepted association. */
class ServerAssociationRunner implements ServerAssociation {
  private readonly endpoint: DimseEndpoint;
  private readonly receiving = new Map<number, StoreSink>();

  constructor(
    private readonly channel: AssociationChannel,
    readonly info: AssociationInfo,
    private readonly options: DicomServerOptions,
    private readonly log: Logger,
    private readonly slot: SlotLease,
    private readonly handlerFailed: (err: unknown, context: HandlerErrorContext) => void,
    private readonly onRefusal: (refusal: AccessRefusal) => void,
  ) {
    this.endpoint = new DimseEndpoint(channel, {
      logger: log,
      maxBufferedDatasetBytes: options.maxBufferedDatasetBytes,
      datasetSink: (command, contextId) => this.sinkFor(command, contextId),
      onRequest: (msg, ctx) => this.busyWhile(() => this.dispatch(msg, ctx)),
    });
    // any P-DATA is DIMSE activity (a large C-STORE arrives as many before its request is dispatched)
    channel.on('pdvs', () => slot.touch());
    channel.on('releaseRequested', () => channel.respondRelease());
    // instances still arriving (or never answered) when the association ends leave no temp file
    channel.once('closed', () => {
      setImmediate(() => {
        for (const sink of this.receiving.values()) {
          sink
            .discard()
            .catch((err: unknown) => this.log.warn({ err, file: sink.file }, 'temp file not removed'));
        }
        this.receiving.clear();
      });
    });
  }

  /** Abort the association (A-ABORT), e.g. to give its slot to a newcomer. */
  abort(): void {
    this.channel.abort();
  }

  private async busyWhile<T>(fn: () => Promise<T>): Promise<T> {
    this.slot.busy(1);
    try {
      return await fn();
    } finally {
      this.slot.busy(-1);
    }
  }

  request(
    abstractSyntax: string,
    command: Omit<CommandSet, 'messageId'>,
    dataset?: Dataset,
  ): Promise<CommandSet> {
    return this.busyWhile(() => this.requestNow(abstractSyntax, command, dataset));
  }

  private async requestNow(
    abstractSyntax: string,
    command: Omit<CommandSet, 'messageId'>,
    dataset?: Dataset,
  ): Promise<CommandSet> {
    const ctx = this.context(abstractSyntax);
    const rsp = await this.endpoint.requestOne({
      contextId: ctx.id,
      command: { ...command, messageId: this.endpoint.nextMessageId(), hasDataset: dataset !== undefined },
      dataset: dataset ? encodeDataset(dataset, ctx.transferSyntax as string) : undefined,
    });
    return rsp.command;
  }

  /** The access policy's answer for this association's peer; a refusal is logged and reported. */
  private authorize(request: Omit<AccessRequest, 'callingAet' | 'verifiedCertificate'>): AccessDecision {
    const policy = this.options.authorize;
    if (!policy) return { allowed: true, kind: 'configured', rule: '(no access policy)' };
    const certificate = this.info.secureLink?.peerCertificate;
    const decision = decideAccess(policy, {
      ...request,
      callingAet: this.info.callingAet,
      verifiedCertificate: certificate !== undefined,
    });
    if (decision.allowed) return decision;
    this.log.warn(
      {
        association: this.info.id,
        callingAet: this.info.callingAet,
        remoteAddress: this.info.remoteAddress,
        rule: decision.rule,
      },
      `${serviceLabel(request.service)} refused: ${decision.reason}`,
    );
    const refusal: AccessRefusal = {
      callingAet: this.info.callingAet,
      calledAet: this.info.calledAet,
      remoteAddress: this.info.remoteAddress,
      services: [request.service],
      rule: decision.rule,
      reason: decision.reason,
      stage: 'request',
      associationRejected: false,
    };
    if (certificate) refusal.peerCertificateSubject = certificate.subject;
    this.onRefusal(refusal);
    return decision;
  }

  private sinkFor(command: CommandSet, contextId: number) {
    if (command.commandField !== CommandField.C_STORE_RQ || !this.options.handlers?.store) return undefined;
    const ctx = this.channel.negotiated.contexts.get(contextId) as NegotiatedContext;
    const sink = new StoreSink(ctx, command, this.options.tempDir, this.info.callingAet);
    this.receiving.set(command.messageId ?? 0, sink);
    return sink.stream;
  }

  private async dispatch(
    msg: IncomingMessage,
    ctx: { respond(command: CommandSet, dataset?: Buffer): Promise<void>; signal: AbortSignal },
  ): Promise<void> {
    const handlers = this.options.handlers ?? {};
    const requestContext: RequestContext = {
      association: this.info,
      // read on demand: the signal is made only for handlers that use it
      get signal() {
        return ctx.signal;
      },
      sopClassUid: msg.command.affectedSopClassUid ?? msg.command.requestedSopClassUid ?? '',
      authorize: (request) => this.authorize(request),
    };
    try {
      switch (msg.command.commandField) {
        case CommandField.C_ECHO_RQ: {
          const status = handlers.echo ? await handlers.echo(requestContext) : Status.Success;
          await ctx.respond(simpleResponse(msg, status));
          return;
        }
        case CommandField.C_STORE_RQ: {
          const sink = this.receiving.get(msg.command.messageId ?? 0);
          this.receiving.delete(msg.command.messageId ?? 0);
          try {
            if (!handlers.store) {
              await ctx.respond(unsupportedResponse(msg));
              return;
            }
            // negotiation lets a storage context through for C-GET's sub-operations too
            const access = this.authorize({ service: 'store' });
            if (!access.allowed) {
              await ctx.respond({
                ...storeResponse(msg, Status.NotAuthorized),
                errorComment: truncate(`C-STORE not allowed (${access.rule})`),
              });
              return;
            }
            if (!sink || msg.datasetError) {
              // the temp file could not be created or written (disk full, permissions): never hand
              // a truncated instance to the handler
              const why = msg.datasetError?.message ?? 'the data set was not received';
              this.log.error(
                { association: this.info.id, sopInstanceUid: msg.command.affectedSopInstanceUid },
                `C-STORE: cannot write the incoming instance: ${why}`,
              );
              await ctx.respond({
                ...storeResponse(msg, Status.OutOfResources),
                errorComment: truncate(`cannot store: ${why}`),
              });
              return;
            }
            let answer: StoreHandlerResult;
            try {
              answer = await handlers.store(storeRequestOf(sink, this.info));
            } catch (err) {
              this.log.error(
                { err, association: this.info.id, sopInstanceUid: sink.sopInstanceUid },
                `C-STORE handler failed: ${describe(err)}`,
              );
              this.handlerFailed(err, {
                service: 'store',
                association: this.info,
                status: Status.OutOfResources,
              });
              answer = { status: Status.OutOfResources, errorComment: describe(err) };
            }
            const response = storeResponse(msg, typeof answer === 'number' ? answer : answer.status);
            if (typeof answer !== 'number' && answer.errorComment)
              response.errorComment = truncate(answer.errorComment);
            await ctx.respond(response);
          } finally {
            // after the response: the requestor need not wait for the clean-up
            await sink?.discard();
          }
          return;
        }
        case CommandField.C_FIND_RQ:
          await this.find(msg, requestContext, ctx.respond);
          return;
        case CommandField.C_MOVE_RQ:
          await this.move(msg, requestContext, ctx.respond);
          return;
        case CommandField.C_GET_RQ:
          await this.get(msg, requestContext, ctx.respond);
          return;
        default:
          if (isNRequest(msg.command.commandField) && handlers.nService) {
            await this.nService(msg, requestContext, ctx.respond);
            return;
          }
          await ctx.respond(unsupportedResponse(msg));
      }
    } catch (err) {
      const status = failureStatusFor(msg.command.commandField, err);
      this.log.error({ err, association: this.info.id }, `handler failed: ${describe(err)}`);
      this.handlerFailed(err, {
        service: serviceOf(msg.command.commandField),
        association: this.info,
        status,
      });
      await ctx.respond({ ...simpleResponse(msg, status), errorComment: truncate(describe(err)) });
    }
  }

  private async find(
    msg: IncomingMessage,
    rc: RequestContext,
    respond: (command: CommandSet, dataset?: Buffer) => Promise<void>,
  ): Promise<void> {
    const handler = this.options.handlers?.find;
    if (!handler || !msg.dataset) {
      await respond(
        simpleResponse(msg, handler ? Status.IdentifierDoesNotMatchSopClass : Status.UnrecognizedOperation),
      );
      return;
    }
    const query = decodeDataset(msg.dataset, msg.transferSyntax, { maxDepth: this.options.maxDatasetDepth });
    for await (const match of handler(query, rc)) {
      if (rc.signal.aborted) {
        await respond(simpleResponse(msg, Status.Cancel));
        return;
      }
      await respond(
        { ...simpleResponse(msg, Status.Pending), hasDataset: true },
        encodeDataset(match, msg.transferSyntax),
      );
    }
    await respond(simpleResponse(msg, rc.signal.aborted ? Status.Cancel : Status.Success));
  }

  private async move(
    msg: IncomingMessage,
    rc: RequestContext,
    respond: (command: CommandSet, dataset?: Buffer) => Promise<void>,
  ): Promise<void> {
    const handler = this.options.handlers?.move;
    if (!handler || !msg.dataset) {
      await respond(simpleResponse(msg, Status.UnrecognizedOperation));
      return;
    }
    const destination = msg.command.moveDestination ?? '';
    const access = this.authorize({ service: 'move', moveDestination: destination });
    if (!access.allowed) {
      await respond({
        ...simpleResponse(msg, Status.MoveDestinationUnknown),
        errorComment: truncate(`${destination} is not an allowed destination for ${this.info.callingAet}`),
      });
      return;
    }
    const target = await handler(
      decodeDataset(msg.dataset, msg.transferSyntax, { maxDepth: this.options.maxDatasetDepth }),
      { ...rc, destination },
    );
    if (typeof target === 'number') {
      await respond(simpleResponse(msg, target));
      return;
    }
    const outcome = this.retrieveOutcome(target, rc.signal);
    try {
      const headers = await Promise.all(target.files.map((f) => storableHeader(f)));
      const counts = { remaining: target.files.length, completed: 0, failed: 0, warning: 0 };
      if (target.files.length === 0) {
        outcome.ended();
        await respond(retrieveResponse(msg, Status.Success, counts));
        return;
      }
      const dest = await connect({
        host: target.host,
        port: target.port,
        callingAet: this.info.calledAet,
        calledAet: target.calledAet ?? destination,
        tls: target.tls,
        contexts: storageContextsFor(headers),
        logger: this.log,
      });
      try {
        for (const file of target.files) {
          if (rc.signal.aborted) break;
          const result = await dest
            .store(file, {
              noThrow: true,
              moveOriginator: { aet: this.info.callingAet, messageId: msg.command.messageId ?? 0 },
            })
            .catch(() => ({ status: Status.OutOfResources }));
          tally(counts, result.status);
          outcome.sent(file, result.status);
          if (counts.remaining > 0) await respond(retrieveResponse(msg, Status.Pending, counts));
        }
      } finally {
        await dest.release().catch(() => dest.abort());
      }
      outcome.ended();
      await respond(retrieveResponse(msg, finalRetrieveStatus(counts, rc.signal.aborted), counts));
    } catch (err) {
      outcome.ended(err);
      throw err;
    }
  }

  private async get(
    msg: IncomingMessage,
    rc: RequestContext,
    respond: (command: CommandSet, dataset?: Buffer) => Promise<void>,
  ): Promise<void> {
    const handler = this.options.handlers?.get;
    if (!handler || !msg.dataset) {
      await respond(simpleResponse(msg, Status.UnrecognizedOperation));
      return;
    }
    const answer = await handler(
      decodeDataset(msg.dataset, msg.transferSyntax, { maxDepth: this.options.maxDatasetDepth }),
      rc,
    );
    if (typeof answer === 'number') {
      await respond(simpleResponse(msg, answer));
      return;
    }
    const target: RetrieveFiles = Array.isArray(answer) ? { files: answer } : answer;
    const outcome = this.retrieveOutcome(target, rc.signal);
    try {
      const counts = { remaining: target.files.length, completed: 0, failed: 0, warning: 0 };
      for (const file of target.files) {
        if (rc.signal.aborted) break;
        const result = await storeFile(this.endpoint, this.channel.negotiated, file, { noThrow: true }).catch(
          (err: unknown) => {
            this.log.warn({ err, file }, `C-GET sub-operation failed: ${describe(err)}`);
            return { status: Status.OutOfResources };
          },
        );
        tally(counts, result.status);
        outcome.sent(file, result.status);
        if (counts.remaining > 0) await respond(retrieveResponse(msg, Status.Pending, counts));
      }
      outcome.ended();
      await respond(retrieveResponse(msg, finalRetrieveStatus(counts, rc.signal.aborted), counts));
    } catch (err) {
      outcome.ended(err);
      throw err;
    }
  }

  /** Collects the sub-operation results of a retrieve and hands them to its `onComplete` once. */
  private retrieveOutcome(
    target: RetrieveFiles,
    signal: AbortSignal,
  ): { sent(file: string, status: number): void; ended(error?: unknown): void } {
    const results: RetrieveOutcome['results'] = [];
    let done = false;
    return {
      sent: (file, status) => results.push({ file, status }),
      ended: (error) => {
        if (done || !target.onComplete) return;
        done = true;
        const outcome: RetrieveOutcome = {
          results,
          selected: target.files.length,
          cancelled: signal.aborted,
        };
        if (error !== undefined) outcome.error = error;
        try {
          target.onComplete(outcome);
        } catch (err) {
          this.log.error({ err, association: this.info.id }, `retrieve onComplete failed: ${describe(err)}`);
          this.handlerFailed(err, { service: 'onComplete', association: this.info });
        }
      },
    };
  }

  private async nService(
    msg: IncomingMessage,
    rc: RequestContext,
    respond: (command: CommandSet, dataset?: Buffer) => Promise<void>,
  ): Promise<void> {
    const handler = this.options.handlers?.nService;
    if (!handler) return;
    const c = msg.command;
    const result = await handler(
      {
        commandField: c.commandField,
        sopClassUid: c.affectedSopClassUid ?? c.requestedSopClassUid ?? '',
        sopInstanceUid: c.affectedSopInstanceUid ?? c.requestedSopInstanceUid,
        actionTypeId: c.actionTypeId,
        eventTypeId: c.eventTypeId,
        attributeIdentifierList: c.attributeIdentifierList,
        dataset: msg.dataset
          ? decodeDataset(msg.dataset, msg.transferSyntax, { maxDepth: this.options.maxDatasetDepth })
          : undefined,
      },
      { ...rc, peer: this },
    );
    const response: CommandSet = {
      commandField: c.commandField | 0x8000,
      messageIdBeingRespondedTo: c.messageId,
      affectedSopClassUid: c.affectedSopClassUid ?? c.requestedSopClassUid,
      affectedSopInstanceUid: result.sopInstanceUid ?? c.affectedSopInstanceUid ?? c.requestedSopInstanceUid,
      status: result.status,
      hasDataset: result.dataset !== undefined,
    };
    if (c.actionTypeId !== undefined) response.actionTypeId = c.actionTypeId;
    if (c.eventTypeId !== undefined) response.eventTypeId = c.eventTypeId;
    if (result.errorId !== undefined) response.errorId = result.errorId;
    if (result.errorComment !== undefined) response.errorComment = truncate(result.errorComment);
    await respond(response, result.dataset ? encodeDataset(result.dataset, msg.transferSyntax) : undefined);
  }

  private context(abstractSyntax: string): NegotiatedContext {
    for (const c of this.channel.negotiated.contexts.values()) {
      if (c.abstractSyntax === abstractSyntax && c.result === 0) return c;
    }
    throw new Error(`no accepted presentation context for ${abstractSyntax}`);
  }
}

/**
 * The failure status for a handler that threw: a `status` the error carries, else the
 * service's own "unable to process" (0x0110 exists only for N-services, PS3.7 C.4).
 */
function failureStatusFor(commandField: number, err: unknown): number {
  const carried = (err as { status?: unknown } | null)?.status;
  if (typeof carried === 'number' && statusCategory(carried) === 'failure') return carried;
  switch (commandField) {
    case CommandField.C_FIND_RQ:
    case CommandField.C_MOVE_RQ:
    case CommandField.C_GET_RQ:
      return Status.UnableToProcess;
    case CommandField.C_STORE_RQ:
      return Status.CannotUnderstand;
    default:
      return Status.ProcessingFailure;
  }
}

function isNRequest(field: number): boolean {
  return field >= 0x0100 && field <= 0x0150 && (field & 0x000f) === 0;
}

function simpleResponse(msg: IncomingMessage, status: number): CommandSet {
  return {
    commandField: msg.command.commandField | 0x8000,
    messageIdBeingRespondedTo: msg.command.messageId,
    affectedSopClassUid: msg.command.affectedSopClassUid,
    status,
    hasDataset: false,
  };
}

interface SubOperationCounts {
  remaining: number;
  completed: number;
  failed: number;
  warning: number;
}

function tally(counts: SubOperationCounts, status: number): void {
  counts.remaining--;
  const category = statusCategory(status);
  if (category === 'success') counts.completed++;
  else if (category === 'warning') counts.warning++;
  else counts.failed++;
}

function finalRetrieveStatus(counts: SubOperationCounts, cancelled: boolean): number {
  if (cancelled) return Status.Cancel;
  if (counts.failed > 0 || counts.warning > 0) return Status.SubOperationsCompleteWithFailures;
  return Status.Success;
}

function retrieveResponse(msg: IncomingMessage, status: number, counts: SubOperationCounts): CommandSet {
  return {
    ...simpleResponse(msg, status),
    numberOfRemainingSuboperations: counts.remaining,
    numberOfCompletedSuboperations: counts.completed,
    numberOfFailedSuboperations: counts.failed,
    numberOfWarningSuboperations: counts.warning,
  };
}

/** A listen failure, named: a taken port or an address not on this machine is a network error. */
function listenError(err: NodeJS.ErrnoException, options: ListenOptions): Error {
  const where = options.host ? ` on ${options.host}` : '';
  if (err.code === 'EADDRINUSE')
    return new NetworkError('ERR_ADDRESS_IN_USE', `port ${options.port} is already in use${where}`, {
      cause: err,
    });
  if (err.code === 'EADDRNOTAVAIL')
    return new NetworkError('ERR_ADDRESS_NOT_AVAILABLE', `cannot listen${where}: no such local address`, {
      cause: err,
    });
  if (err.code === 'EACCES')
    return new NetworkError(
      'ERR_PORT_NOT_PERMITTED',
      `not permitted to listen on port ${options.port}${where}`,
      {
        cause: err,
      },
    );
  return err;
}

/** The handler name of a request's command field, for `'handlerError'`. */
function serviceOf(commandField: number): string {
  switch (commandField) {
    case CommandField.C_ECHO_RQ:
      return 'echo';
    case CommandField.C_FIND_RQ:
      return 'find';
    case CommandField.C_MOVE_RQ:
      return 'move';
    case CommandField.C_GET_RQ:
      return 'get';
    default:
      return 'nService';
  }
}

/** The store handler's argument: a plain copy of the sink whose `readDataset` works detached. */
function storeRequestOf(sink: StoreSink, association: AssociationInfo): StoreRequest {
  const request: StoreRequest = {
    file: sink.file,
    sopClassUid: sink.sopClassUid,
    sopInstanceUid: sink.sopInstanceUid,
    transferSyntaxUid: sink.transferSyntaxUid,
    readDataset: () => sink.readDataset(),
    association,
  };
  if (sink.callingAet !== undefined) request.callingAet = sink.callingAet;
  return request;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function truncate(s: string): string {
  return s.length > 64 ? s.slice(0, 64) : s;
}

export { findSopClass, isStorageSopClass, SopClass };
