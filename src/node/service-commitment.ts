import { existsSync } from 'node:fs';
import { type Dataset, datasetFromJson } from '../data/index.js';
import { CommandField, Status, statusCategory } from '../dimse/index.js';
import type { Logger } from '../log.js';
import { connect } from '../services/client.js';
import { UNCOMPRESSED_TRANSFER_SYNTAXES } from '../services/presentation.js';
import type { AssociationInfo, NRequest, NResponse, ServerAssociation } from '../services/server.js';
import { SopClass } from '../services/sop-classes.js';
import type { TlsOptions } from '../tls/types.js';
import type { CommitmentReference, CommitmentResult } from './commitment.js';
import type { PeerConfig } from './config.js';
import type { Index } from './index-db.js';
import { peerTlsOptions } from './peer-tls.js';

/** Event Type ID of the N-EVENT-REPORT (PS3.4 J.3.3): 1 all committed, 2 some failed. */
export const CommitmentEventType = { Success: 1, Failures: 2 } as const;

/** How a commitment report reached (or did not reach) the requestor. */
export type CommitmentDelivery =
  | { via: 'same-association'; status: number }
  | { via: 'new-association'; status: number; peer: string }
  | { via: 'undelivered'; reason: string };

/** A parsed N-ACTION request of the Storage Commitment Push Model. */
export interface CommitmentRequest {
  transactionUid: string;
  references: CommitmentReference[];
}

/** What {@link StorageCommitmentScp} needs from the node. */
export interface StorageCommitmentOptions {
  aet: string;
  index: Index;
  peers: Record<string, PeerConfig>;
  /** Client credentials for peers with `tls: true`. */
  clientTls?: TlsOptions;
  log: Logger;
  /** Is the association still open (so the report can go back on it)? */
  isOpen: (association: AssociationInfo) => boolean;
  /** Wrap the report delivery (shutdown waits for it). */
  track: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Called after each delivery attempt (tests, logs). */
  onReport?: (report: {
    transactionUid: string;
    result: CommitmentResult;
    delivery: CommitmentDelivery;
  }) => void;
  /** Connect timeout for the new-association path (ms). */
  timeoutMs?: number;
  /**
   * Retries leave a report never attempted yet alone for this long after its request (ms):
   * in a cluster, the worker that took the request may be sending it right now, and only
   * a report whose first attempt failed (or that is this old) is the retry queue's.
   * Default: none (one process sees every attempt in flight).
   */
  firstAttemptGraceMs?: number;
  /**
   * Before a report goes to a peer on a new association: undefined when the peer may
   * receive it, else why not (the access policy; e.g. its `allow` no longer has commitment).
   */
  mayReceiveReports?: (aet: string) => string | undefined;
}

/** Delivery attempts after which an undelivered report is no longer retried automatically. */
export const COMMITMENT_MAX_ATTEMPTS = 20;

const UID = /^[0-9]+(\.[0-9]+)*$/;

/** Read TransactionUID and Referenced SOP Sequence from the N-ACTION-RQ data set, or say what is wrong. */
export function parseCommitmentRequest(ds: Dataset | undefined): CommitmentRequest | string {
  if (!ds) return 'N-ACTION has no data set (Transaction UID, Referenced SOP Sequence)';
  const transactionUid = (ds.getString('TransactionUID') ?? '').trim();
  if (!UID.test(transactionUid) || transactionUid.length > 64)
    return `Transaction UID ${JSON.stringify(transactionUid)} is not a UID`;
  const items = ds.getSequence('ReferencedSOPSequence');
  if (!items || items.length === 0) return 'Referenced SOP Sequence is missing or empty';
  const references: CommitmentReference[] = [];
  for (const [i, item] of items.entries()) {
    const sopClassUid = (item.getString('ReferencedSOPClassUID') ?? '').trim();
    const sopInstanceUid = (item.getString('ReferencedSOPInstanceUID') ?? '').trim();
    if (!sopClassUid || !sopInstanceUid)
      return `Referenced SOP Sequence item ${i + 1} lacks Referenced SOP Class/Instance UID`;
    references.push({ sopClassUid, sopInstanceUid });
  }
  return { transactionUid, references };
}

/** The N-EVENT-REPORT data set (PS3.4 J.3.3.1): references committed and, for event type 2, those that failed. */
export function commitmentReportDataset(
  aet: string,
  transactionUid: string,
  result: CommitmentResult,
): Dataset {
  const json: Record<string, unknown> = {
    '00081195': { vr: 'UI', Value: [transactionUid] },
  };
  if (result.success.length > 0) {
    json['00080054'] = { vr: 'AE', Value: [aet] };
    json['00081199'] = {
      vr: 'SQ',
      Value: result.success.map((r) => ({
        '00081150': { vr: 'UI', Value: [r.sopClassUid] },
        '00081155': { vr: 'UI', Value: [r.sopInstanceUid] },
      })),
    };
  }
  if (result.failed.length > 0) {
    json['00081198'] = {
      vr: 'SQ',
      Value: result.failed.map((r) => ({
        '00081150': { vr: 'UI', Value: [r.sopClassUid] },
        '00081155': { vr: 'UI', Value: [r.sopInstanceUid] },
        '00081197': { vr: 'US', Value: [r.reason] },
      })),
    };
  }
  return datasetFromJson(json);
}

/**
 * Storage Commitment Push Model SCP (PS3.4 Annex J): answers N-ACTION (action type 1)
 * at once, then checks the references against the index and sends the N-EVENT-REPORT
 * (event type 1 or 2) on the same association while it is open; otherwise (or if the
 * requestor refuses it there) on a new association to the peer configured under the
 * requestor's AE title, over TLS when that peer is configured so.
 *
 * Every accepted request is persisted (durably, before the N-ACTION-RSP) with the result
 * of its check and whether its report was delivered; {@link StorageCommitmentScp.retryPending}
 * sends undelivered reports again on a new association (at start and periodically).
 */
export class StorageCommitmentScp {
  /** Transactions whose report is being sent right now (no second attempt meanwhile). */
  readonly #inFlight = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StorageCommitmentOptions) {}

  /** Handle an N-ACTION-RQ; the report follows asynchronously after the response. */
  async handle(request: NRequest, association: AssociationInfo, peer: ServerAssociation): Promise<NResponse> {
    if (request.commandField !== CommandField.N_ACTION_RQ) return { status: Status.UnrecognizedOperation };
    if (
      request.sopInstanceUid !== undefined &&
      request.sopInstanceUid !== SopClass.StorageCommitmentPushModelInstance
    )
      return { status: Status.NoSuchSopInstance };
    if (request.actionTypeId !== 1) return { status: Status.NoSuchAction };
    const parsed = parseCommitmentRequest(request.dataset);
    if (typeof parsed === 'string') {
      this.options.log.warn({ association: association.id }, `storage commitment refused: ${parsed}`);
      return { status: Status.InvalidArgumentValue };
    }
    try {
      this.options.index.commitments.requested(
        parsed.transactionUid,
        association.callingAet,
        parsed.references,
      );
      await this.options.index.flush();
    } catch (err) {
      this.options.log.error({ err, association: association.id }, 'storage commitment request not recorded');
      return { status: Status.ProcessingFailure };
    }
    this.#inFlight.add(parsed.transactionUid);
    // The response must reach the requestor before the report: start after this turn.
    setImmediate(() => {
      void this.options
        .track(() => this.report(parsed, association, peer))
        .catch((err: unknown) => this.options.log.error({ err }, 'storage commitment report failed'))
        .finally(() => this.#inFlight.delete(parsed.transactionUid));
    });
    return { status: Status.Success, sopInstanceUid: SopClass.StorageCommitmentPushModelInstance };
  }

  private async report(
    request: CommitmentRequest,
    association: AssociationInfo,
    peer: ServerAssociation,
  ): Promise<void> {
    const { index } = this.options;
    const result = await index.checkCommitment(request.references, (path) => existsSync(path));
    this.#persist(() => index.commitments.decided(request.transactionUid, result));
    const { command, dataset } = this.#reportMessage(request.transactionUid, result);
    let delivery: CommitmentDelivery | undefined;
    let sameAssociationProblem = 'association closed';
    if (this.options.isOpen(association)) {
      try {
        const rsp = await peer.request(SopClass.StorageCommitmentPushModel, command, dataset);
        const status = rsp.status ?? Status.ProcessingFailure;
        if (statusCategory(status) === 'success' || statusCategory(status) === 'warning')
          delivery = { via: 'same-association', status };
        else sameAssociationProblem = `requestor answered 0x${status.toString(16).padStart(4, '0')}`;
      } catch (err) {
        sameAssociationProblem = err instanceof Error ? err.message : String(err);
      }
    }
    if (!delivery)
      delivery = await this.reportOnNewAssociation(
        association.callingAet,
        command,
        dataset,
        sameAssociationProblem,
      );
    const fields = {
      association: association.id,
      callingAet: association.callingAet,
      transactionUid: request.transactionUid,
      committed: result.success.length,
      failed: result.failed.length,
      delivery,
    };
    this.#settled(request.transactionUid, result, delivery, fields);
  }

  /**
   * Send the reports that have not reached their requestor yet (an earlier attempt failed,
   * or the node stopped first), each on a new association to the peer configured under
   * the requestor's AE title. Resolves with the number delivered.
   */
  async retryPending(): Promise<number> {
    const { index, log } = this.options;
    let pending;
    try {
      pending = index.commitments.pending(COMMITMENT_MAX_ATTEMPTS);
    } catch (err) {
      log.error({ err }, 'storage commitment: cannot read pending reports');
      return 0;
    }
    let delivered = 0;
    const grace = this.options.firstAttemptGraceMs;
    const freshSince = grace ? new Date(Date.now() - grace).toISOString() : undefined;
    for (const p of pending) {
      if (this.#inFlight.has(p.transactionUid)) continue;
      // not attempted yet and recent: the process that took the request is sending it
      if (freshSince && p.attempts === 0 && p.requestedAt > freshSince) continue;
      this.#inFlight.add(p.transactionUid);
      try {
        await this.options.track(async () => {
          const result = p.result ?? (await index.checkCommitment(p.references, (path) => existsSync(path)));
          if (!p.result) this.#persist(() => index.commitments.decided(p.transactionUid, result));
          const { command, dataset } = this.#reportMessage(p.transactionUid, result);
          const delivery = await this.reportOnNewAssociation(
            p.callingAet,
            command,
            dataset,
            `earlier attempt failed (${p.lastError ?? 'node stopped'})`,
          );
          if (delivery.via !== 'undelivered') delivered++;
          this.#settled(p.transactionUid, result, delivery, {
            callingAet: p.callingAet,
            transactionUid: p.transactionUid,
            attempt: p.attempts + 1,
            committed: result.success.length,
            failed: result.failed.length,
            delivery,
          });
        });
      } finally {
        this.#inFlight.delete(p.transactionUid);
      }
    }
    return delivered;
  }

  /** Call {@link retryPending} every `intervalMs` until {@link stopRetries}. */
  startRetries(intervalMs: number): void {
    this.stopRetries();
    let running = false;
    this.#timer = setInterval(() => {
      if (running) return;
      running = true;
      void this.retryPending().finally(() => {
        running = false;
      });
    }, intervalMs);
    this.#timer.unref();
  }

  stopRetries(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #reportMessage(transactionUid: string, result: CommitmentResult) {
    const eventTypeId =
      result.failed.length === 0 ? CommitmentEventType.Success : CommitmentEventType.Failures;
    return {
      command: {
        commandField: CommandField.N_EVENT_REPORT_RQ,
        affectedSopClassUid: SopClass.StorageCommitmentPushModel,
        affectedSopInstanceUid: SopClass.StorageCommitmentPushModelInstance,
        eventTypeId,
        hasDataset: true,
      },
      dataset: commitmentReportDataset(this.options.aet, transactionUid, result),
    };
  }

  /** Record and log how a delivery attempt ended. */
  #settled(
    transactionUid: string,
    result: CommitmentResult,
    delivery: CommitmentDelivery,
    fields: Record<string, unknown>,
  ): void {
    const { index, log } = this.options;
    if (delivery.via === 'undelivered') {
      this.#persist(() => index.commitments.undelivered(transactionUid, delivery.reason));
      log.warn(fields, `storage commitment report not delivered: ${delivery.reason}`);
    } else {
      this.#persist(() => index.commitments.delivered(transactionUid));
      log.info(fields, 'storage commitment report sent');
    }
    this.options.onReport?.({ transactionUid, result, delivery });
  }

  /** A bookkeeping write that must not stop the report (e.g. the index closing at shutdown). */
  #persist(write: () => void): void {
    try {
      write();
    } catch (err) {
      this.options.log.error({ err }, 'storage commitment: cannot record the transaction state');
    }
  }

  private async reportOnNewAssociation(
    callingAet: string,
    command: Parameters<ServerAssociation['request']>[1],
    dataset: Dataset,
    sameAssociationProblem: string,
  ): Promise<CommitmentDelivery> {
    const { peers } = this.options;
    const peer = Object.hasOwn(peers, callingAet) ? peers[callingAet] : undefined;
    if (!peer?.host || peer.port === undefined)
      return {
        via: 'undelivered',
        reason: peer
          ? `${sameAssociationProblem}, and peer ${callingAet} has no host and port for a new association`
          : `${sameAssociationProblem}, and no peer ${callingAet} is configured for a new association`,
      };
    const refusal = this.options.mayReceiveReports?.(callingAet);
    if (refusal) return { via: 'undelivered', reason: `${sameAssociationProblem}, and ${refusal}` };
    const where = `${callingAet}@${peer.host}:${peer.port}${peer.tls ? ' (TLS)' : ''}`;
    try {
      const assoc = await connect({
        host: peer.host,
        port: peer.port,
        callingAet: this.options.aet,
        calledAet: callingAet,
        tls: peerTlsOptions(peer, this.options.clientTls),
        timeoutMs: this.options.timeoutMs ?? 30_000,
        contexts: [
          {
            abstractSyntax: SopClass.StorageCommitmentPushModel,
            transferSyntaxes: [...UNCOMPRESSED_TRANSFER_SYNTAXES],
          },
        ],
        logger: this.options.log,
      });
      try {
        const rsp = await assoc.request(SopClass.StorageCommitmentPushModel, command, dataset);
        return {
          via: 'new-association',
          status: rsp.command.status ?? Status.ProcessingFailure,
          peer: where,
        };
      } finally {
        await assoc.release().catch(() => assoc.abort());
      }
    } catch (err) {
      return {
        via: 'undelivered',
        reason: `${sameAssociationProblem}; new association to ${where} failed: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  }
}
