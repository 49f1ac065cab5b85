import { join } from 'node:path';
import { Status } from '../dimse/index.js';
import { errorKind } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import type { AssociationRejectedError, ChannelCloseReason } from '../network/index.js';
import {
  type AccessRefusal,
  type AssociationInfo,
  DicomServer,
  type MoveTarget,
  type NRequest,
  type NResponse,
  type RequestContext,
  type RetrieveFiles,
  type ServerAssociation,
  type ServerHandlers,
} from '../services/server.js';
import { AdmissionRefusedError } from '../services/admission.js';
import {
  type AccessPolicy,
  DEFAULT_AUTHENTICATED_PEER_SERVICES,
  DEFAULT_UNKNOWN_PEER_SERVICES,
  decideAccess,
} from '../services/authorization.js';
import { SopClass } from '../services/sop-classes.js';
import type { TlsError } from '../tls/errors.js';
import type { TlsOptions } from '../tls/types.js';
import { ActivityTracker } from './activity.js';
import {
  type AuditOptions,
  AuditTrail,
  createAuditSinks,
  isTlsAuthenticationFailure,
  studyCounts,
} from './audit.js';
import type { NodeAcceptConfig, NodeAccessConfig, NodeLimits, PeerConfig } from './config.js';
import { serverLimits } from './limits.js';
import { RefusalFolder } from './refusal-audit.js';
import type { ConsistencySummary } from './consistency.js';
import type { NodeClusterRole } from './cluster-worker.js';
import { noConsistencyCheck, startupCheck } from './startup-check.js';
import { type Index, SqliteIndex } from './index-db.js';
import { PgIndex, redactUrl } from './index-pg.js';
import { type CommitmentDelivery, StorageCommitmentScp } from './service-commitment.js';
import type { CommitmentResult } from './commitment.js';
import { peerTlsOptions } from './peer-tls.js';
import { MppsScp } from './service-mpps.js';
import {
  DEFAULT_MAX_QUERY_RESULTS,
  findHandler,
  retrieveAuditOutcome,
  retrieveItems,
  studiesOf,
  transferredItems,
} from './service-query.js';
import { storeHandler } from './service-store.js';
import { InFlight } from './shutdown.js';
import { type DuplicatePolicy, FileStorage } from './storage.js';

export { queryKeysOf } from './service-query.js';
export { instanceRecordOf } from './service-store.js';

/** Everything the secure node needs to run. */
export interface NodeOptions {
  aet: string;
  /** Plain DICOM port; false disables it. */
  port: number | false;
  /** TLS port; false disables it. */
  tlsPort: number | false;
  /** Interface of the TLS listener (default: all). */
  host?: string;
  /** Interface of the plain listener (default 127.0.0.1: plain DICOM is unauthenticated). */
  plainHost?: string;
  /** What peers not under `peers` may do (default: DESIGN.md's, unknown peers echo and store). */
  access?: NodeAccessConfig;
  /** Reject calling AE titles not bound to a certificate identity. */
  requireBoundAeTitles?: boolean;
  storageDir: string;
  /**
   * The Q/R index: absent = SQLite in `storageDir`; a `postgres://USER@HOST:PORT/DB` URL =
   * PostgreSQL (optional package `pg`), which several nodes sharing `storageDir` can use.
   */
  indexUrl?: string;
  duplicates?: DuplicatePolicy;
  /** Accept any Called AE Title (default true); false answers only to `aet`. */
  acceptAnyCalledAet?: boolean;
  /** Server TLS credentials (required when tlsPort is set). */
  tls?: TlsOptions;
  /** TLS credentials the node uses as a client (C-MOVE and commitment reports to TLS peers). */
  clientTls?: TlsOptions;
  peers?: Record<string, PeerConfig>;
  /** Storage SOP classes and transfer syntaxes accepted (absent: all dicomnet knows). */
  accept?: NodeAcceptConfig;
  /** Directory of DICOM JSON worklist items, loaded at start. */
  worklistDir?: string;
  maxAssociations?: number;
  maxPduLength?: number;
  idleTimeoutMs?: number;
  /** Every resource limit (docs/limits.md); wins over the three fields above. */
  limits?: NodeLimits;
  logger?: Logger;
  /** Audit file and syslog collector (the audit events always go to the log too). */
  audit?: AuditOptions;
  /**
   * How often undelivered storage commitment reports are sent again (ms; default 60 000,
   * 0 = only once at start).
   */
  commitmentRetryMs?: number;
  /**
   * This process is one worker of a `serve --workers N` cluster: its primary did the start-up
   * check, holds the listeners, the association slots and the audit sinks.
   */
  cluster?: NodeClusterRole;
  /** Called after each storage commitment report attempt. */
  onCommitmentReport?: (report: {
    transactionUid: string;
    result: CommitmentResult;
    delivery: CommitmentDelivery;
  }) => void;
}

/** A running node. */
export interface RunningNode {
  server: DicomServer;
  index: Index;
  storage: FileStorage;
  ports: { plain?: number; tls?: number };
  consistency: ConsistencySummary;
  /** Worklist items loaded from `worklistDir` at start. */
  worklistItems: number;
  /**
   * Stop accepting, let associations finish within `graceMs`, then abort them, wait for
   * commits in flight and close the index. A second call while closing aborts at once.
   */
  close(graceMs?: number): Promise<void>;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Start `dicomnet serve`: storage, index, consistency check, listeners. */
export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const log = options.logger ?? silentLogger();
  const audit = new AuditTrail(
    log,
    options.aet,
    options.cluster ? options.cluster.auditSinks : createAuditSinks(options.audit, log),
  );
  const activity = new ActivityTracker();
  const inFlight = new InFlight();
  const track = <T>(fn: () => Promise<T>) => inFlight.run(fn);
  const storage = new FileStorage(options.storageDir);
  const index: Index =
    options.indexUrl === undefined
      ? new SqliteIndex(options.storageDir)
      : await PgIndex.open(options.indexUrl, { localDir: options.storageDir, log });
  if (options.indexUrl !== undefined) log.info({ index: redactUrl(options.indexUrl) }, 'index: PostgreSQL');
  const consistency = options.cluster ? noConsistencyCheck() : await startupCheck(storage, index, log);
  let worklistItems = 0;
  if (options.worklistDir && !options.cluster) {
    worklistItems = index.worklist.loadDirectory(options.worklistDir);
    log.info({ worklistDir: options.worklistDir, items: worklistItems }, 'worklist loaded');
  }
  const peers = options.peers ?? {};
  const access = accessPolicyOf(options.access, peers);

  const commitment = new StorageCommitmentScp({
    aet: options.aet,
    index,
    peers,
    clientTls: options.clientTls,
    log,
    isOpen: (info) => activity.isOpen(info.id),
    track,
    onReport: options.onCommitmentReport,
    // another worker may still be sending a report it has just been asked for
    firstAttemptGraceMs: options.cluster ? 10 * 60_000 : undefined,
    mayReceiveReports: (aet) => {
      const decision = decideAccess(access, {
        callingAet: aet,
        verifiedCertificate: false,
        service: 'commitment',
      });
      return decision.allowed ? undefined : decision.reason;
    },
  });
  const mpps = new MppsScp(index.mpps, log);

  const nService = async (
    request: NRequest,
    ctx: RequestContext & { peer: ServerAssociation },
  ): Promise<NResponse> => {
    const counters = activity.of(ctx.association);
    switch (request.sopClassUid) {
      case SopClass.StorageCommitmentPushModel:
        counters.commitmentRequests++;
        return commitment.handle(request, ctx.association, ctx.peer);
      case SopClass.ModalityPerformedProcedureStep:
        counters.mppsRequests++;
        return mpps.handle(request, ctx.association, ctx.authorize);
      default:
        return { status: Status.NoSuchSopClass };
    }
  };

  const retrieve = async (
    query: Parameters<typeof retrieveItems>[1],
    ctx: RequestContext,
    destination?: string,
  ): Promise<RetrieveFiles> => {
    const items = await retrieveItems(index, query, ctx.sopClassUid);
    return {
      files: items.map((i) => i.path),
      // counted and audited once the sub-operations are done: the instances sent, not those selected
      onComplete: (outcome) => {
        const sent = transferredItems(items, outcome);
        activity.of(ctx.association).instancesRetrieved += sent.length;
        audit.instancesTransferred('R', ctx.association, studiesOf(sent), {
          destination,
          ...retrieveAuditOutcome(outcome, sent.length),
        });
      },
    };
  };

  const handlers: ServerHandlers = {
    store: storeHandler({
      storage,
      index,
      policy: options.duplicates ?? 'keep',
      activity,
      log,
      track,
      maxDatasetDepth: options.limits?.maxDatasetDepth,
    }),
    find: findHandler({
      index,
      audit,
      activity,
      maxResults: options.limits?.maxQueryResults ?? DEFAULT_MAX_QUERY_RESULTS,
    }),
    move: async (query, ctx): Promise<MoveTarget | number> => {
      // own properties only: a destination AE like `constructor` is not a peer
      const peer = Object.hasOwn(peers, ctx.destination) ? peers[ctx.destination] : undefined;
      if (!peer?.host || peer.port === undefined) {
        const why = peer ? 'has no host and port' : 'is not a configured peer';
        log.warn(
          { association: ctx.association.id, destination: ctx.destination },
          `C-MOVE refused: destination ${ctx.destination} ${why} (0xA801)`,
        );
        audit.instancesTransferred('R', ctx.association, new Map(), {
          outcome: 4,
          destination: ctx.destination,
          description: `move destination ${ctx.destination} unknown (0xA801)`,
        });
        return Status.MoveDestinationUnknown;
      }
      return {
        host: peer.host,
        port: peer.port,
        calledAet: ctx.destination,
        tls: peerTlsOptions(peer, options.clientTls),
        ...(await retrieve(query, ctx, ctx.destination)),
      };
    },
    get: async (query, ctx) => retrieve(query, ctx, ctx.association.callingAet),
    nService,
  };

  // peers with `identity` bind their AE title to certificate identities (CN / SAN)
  const aeTitleBindings: Record<string, string[]> = {};
  for (const [aet, peer] of Object.entries(peers)) if (peer.identity) aeTitleBindings[aet] = peer.identity;

  const server = new DicomServer({
    aet: options.aet,
    acceptAnyCalledAet: options.acceptAnyCalledAet ?? true,
    aeTitleBindings,
    requireBoundAeTitles: options.requireBoundAeTitles,
    authorize: access,
    tls: options.tls,
    handlers,
    maxAssociations: options.maxAssociations,
    maxPduLength: options.maxPduLength,
    idleTimeoutMs: options.idleTimeoutMs,
    ...(options.limits ? serverLimits(options.limits) : {}),
    tempDir: options.cluster ? join(storage.tempDir(), options.cluster.tempSubdir) : storage.tempDir(),
    associationSlots: options.cluster?.slots,
    storageAcceptance: options.accept,
    logger: log,
  });
  server.on('secureLinkReady', (info, peer: { remoteAddress: string; remotePort: number }) => {
    log.debug(
      {
        peer: `${peer.remoteAddress}:${peer.remotePort}`,
        protocol: info.protocol,
        cipherSuite: info.cipherSuite,
        peerCertificate: info.peerCertificate?.subject,
      },
      'TLS handshake done',
    );
  });
  server.on('association', (info: AssociationInfo) => {
    activity.open(info);
    // a bound AE title was checked against the certificate before the association was accepted
    audit.associationAccepted(info, { aeTitleBound: Object.hasOwn(aeTitleBindings, info.callingAet) });
    if (info.userIdentity) audit.userAuthentication(info, info.userIdentity);
  });
  server.on('associationClosed', (info: AssociationInfo, reason: ChannelCloseReason | undefined) => {
    const studies = activity.studiesOf(info);
    if (studies.size > 0) audit.instancesTransferred('C', info, studies);
    const updated = activity.updatedStudiesOf(info);
    if (updated.size > 0) audit.instancesTransferred('U', info, updated);
    log.info(activity.close(info, reason), 'association ended');
  });
  // The server's own refusals (limits, AE title binding) come with the calling AE title;
  // they also end the connection with an error, which must not be audited twice.
  const auditedRejections = new Map<string, number>();
  server.on(
    'associationRejected',
    (rejection: { callingAet: string; remoteAddress: string; message: string }) => {
      auditedRejections.set(
        rejection.remoteAddress,
        (auditedRejections.get(rejection.remoteAddress) ?? 0) + 1,
      );
      audit.associationRejected(rejection, rejection.message);
    },
  );
  server.on('accessRefused', (refusal: AccessRefusal) => {
    // the A-ASSOCIATE-RJ that follows ends the connection with an error: audited here, not again
    if (refusal.associationRejected)
      auditedRejections.set(refusal.remoteAddress, (auditedRejections.get(refusal.remoteAddress) ?? 0) + 1);
    audit.accessRefused(refusal);
  });
  // refused before any exchange: audited, at most once per address, limit and minute
  const refusals = new RefusalFolder((folded) => audit.admissionRefused(folded));
  server.on('connectionError', (err: unknown, remoteAddress: string | undefined) => {
    const kind = errorKind(err);
    const code = (err as { code?: string }).code;
    if (err instanceof AdmissionRefusedError)
      refusals.refused(remoteAddress ?? 'unknown', err.limit, err.message);
    else if (kind === 'tls' && isTlsAuthenticationFailure(err as TlsError))
      audit.tlsFailure(remoteAddress, describe(err), (err as TlsError).peerCertificate?.subject);
    else if (code === 'ERR_ASSOCIATION_REJECTED') {
      const pending = auditedRejections.get(remoteAddress ?? '') ?? 0;
      if (pending > 0) {
        if (pending === 1) auditedRejections.delete(remoteAddress ?? '');
        else auditedRejections.set(remoteAddress ?? '', pending - 1);
      } else
        audit.associationRejected(
          { remoteAddress, callingAet: (err as AssociationRejectedError).request?.callingAet },
          describe(err),
        );
    }
  });

  const ports: RunningNode['ports'] = {};
  try {
    if (options.cluster) {
      if (options.tlsPort !== false) await server.prepareTls();
      options.cluster.serve((socket, secure, endPending) =>
        server.serveConnection(socket, secure, endPending),
      );
    } else {
      if (options.port !== false) {
        ports.plain = (
          await server.listen({ port: options.port, host: options.plainHost ?? '127.0.0.1', secure: false })
        ).port;
      }
      if (options.tlsPort !== false) {
        ports.tls = (await server.listen({ port: options.tlsPort, host: options.host, secure: true })).port;
      }
    }
  } catch (err) {
    await server.close(0);
    await index.close();
    await audit.close(0);
    throw err;
  }
  // a cluster's primary audits the node's start and stop, once
  if (!options.cluster) audit.applicationActivity('start', { ...ports, storage: storage.root });
  if (consistency.rowsRemoved > 0)
    audit.instancesDeleted(
      studyCounts(consistency.missingFiles),
      'instance files missing at start-up: their index rows were removed',
    );
  // reports a previous run could not deliver; in a cluster, one worker runs the queue
  if (!options.cluster || options.cluster.leader) {
    void commitment.retryPending();
    const retryMs = options.commitmentRetryMs ?? 60_000;
    if (retryMs > 0) commitment.startRetries(retryMs);
  }

  let closing: Promise<void> | undefined;
  return {
    server,
    index,
    storage,
    ports,
    consistency,
    worklistItems,
    close(graceMs = 10_000) {
      if (closing) {
        // already stopping: cut the running associations now
        server.abortAll();
        return closing;
      }
      commitment.stopRetries();
      closing = (async () => {
        await server.close(graceMs);
        refusals.flush();
        // Sockets are gone; commits already started finish (the file and row stay consistent).
        if (!(await inFlight.idle(Math.max(graceMs, 5_000))))
          log.warn({ running: inFlight.running }, 'closing the index with operations still running');
        if (!options.cluster) audit.applicationActivity('stop');
        await index.close();
        await audit.close(Math.max(1_000, Math.min(graceMs, 5_000)));
      })();
      return closing;
    },
  };
}

/** The server's access policy from the node's settings: peers not listed get `access`, each listed peer its own. */
export function accessPolicyOf(
  access: NodeAccessConfig | undefined,
  peers: Readonly<Record<string, PeerConfig>>,
): AccessPolicy {
  const table: AccessPolicy['peers'] = Object.create(null) as AccessPolicy['peers'];
  for (const [aet, peer] of Object.entries(peers)) {
    const entry: { allow?: PeerConfig['allow']; moveDestinations?: string[] } = {};
    if (peer.allow) entry.allow = peer.allow;
    if (peer.moveDestinations) entry.moveDestinations = peer.moveDestinations;
    (table as Record<string, typeof entry>)[aet] = entry;
  }
  return {
    unknownPeers: access?.unknownPeers ?? DEFAULT_UNKNOWN_PEER_SERVICES,
    authenticatedPeers: access?.authenticatedPeers ?? DEFAULT_AUTHENTICATED_PEER_SERVICES,
    peers: table,
  };
}
