import type { ChannelCloseReason } from '../network/index.js';
import type { AssociationInfo } from '../services/server.js';
import type { StudyTransfer } from './audit.js';

/** What happened on one association, for its summary log line and the audit trail. */
export interface AssociationActivity {
  info: AssociationInfo;
  startedAt: number;
  /** Instances received and stored (or kept as duplicates). */
  instancesStored: number;
  /** Bytes of the instances received (Part 10 files as stored). */
  bytesReceived: number;
  /** C-STOREs answered with a failure status. */
  storeFailures: number;
  /** Instances stored per Study Instance UID, with the study's patient. */
  studies: Map<string, StudyTransfer>;
  /** Instances that replaced an earlier one of the same SOP Instance UID, per study (audited as updates). */
  updatedStudies: Map<string, StudyTransfer>;
  queries: number;
  /** Instances designated by C-MOVE / C-GET requests. */
  instancesRetrieved: number;
  commitmentRequests: number;
  mppsRequests: number;
}

/** The summary written at the end of an association (one log line). */
export interface AssociationSummary {
  association: number;
  peer: string;
  callingAet: string;
  calledAet: string;
  tls?: { protocol: string; cipherSuite: string; peerCertificate?: string };
  durationMs: number;
  instances: number;
  bytes: number;
  storeFailures: number;
  studies: number;
  queries: number;
  retrieved: number;
  commitmentRequests: number;
  mppsRequests: number;
  end: string;
}

/** Per-association counters, created on 'association' and summarised on 'associationClosed'. */
export class ActivityTracker {
  readonly #byId = new Map<number, AssociationActivity>();

  /** Start tracking an association. */
  open(info: AssociationInfo): AssociationActivity {
    const activity = newActivity(info);
    this.#byId.set(info.id, activity);
    return activity;
  }

  /** The counters of a running association (detached ones, counted nowhere, once it has ended). */
  of(info: AssociationInfo): AssociationActivity {
    return this.#byId.get(info.id) ?? newActivity(info);
  }

  /** True while the association is open. */
  isOpen(id: number): boolean {
    return this.#byId.has(id);
  }

  /** Stop tracking and return the summary. */
  close(info: AssociationInfo, reason: ChannelCloseReason | undefined): AssociationSummary {
    const a = this.#byId.get(info.id) ?? newActivity(info);
    this.#byId.delete(info.id);
    const summary: AssociationSummary = {
      association: info.id,
      peer: `${info.remoteAddress}:${info.remotePort}`,
      callingAet: info.callingAet,
      calledAet: info.calledAet,
      durationMs: Math.round(performance.now() - a.startedAt),
      instances: a.instancesStored,
      bytes: a.bytesReceived,
      storeFailures: a.storeFailures,
      studies: new Set([...a.studies.keys(), ...a.updatedStudies.keys()]).size,
      queries: a.queries,
      retrieved: a.instancesRetrieved,
      commitmentRequests: a.commitmentRequests,
      mppsRequests: a.mppsRequests,
      end: describeEnd(reason),
    };
    if (info.secureLink) {
      summary.tls = { protocol: info.secureLink.protocol, cipherSuite: info.secureLink.cipherSuite };
      const subject = info.secureLink.peerCertificate?.subject;
      if (subject) summary.tls.peerCertificate = subject;
    }
    return summary;
  }

  /** The studies and counts an association stored (for the audit trail). */
  studiesOf(info: AssociationInfo): ReadonlyMap<string, StudyTransfer> {
    return this.#byId.get(info.id)?.studies ?? new Map();
  }

  /** The studies and counts whose instances an association replaced (for the audit trail). */
  updatedStudiesOf(info: AssociationInfo): ReadonlyMap<string, StudyTransfer> {
    return this.#byId.get(info.id)?.updatedStudies ?? new Map();
  }

  /** Number of associations being tracked. */
  get size(): number {
    return this.#byId.size;
  }
}

function newActivity(info: AssociationInfo): AssociationActivity {
  return {
    info,
    startedAt: performance.now(),
    instancesStored: 0,
    bytesReceived: 0,
    storeFailures: 0,
    studies: new Map(),
    updatedStudies: new Map(),
    queries: 0,
    instancesRetrieved: 0,
    commitmentRequests: 0,
    mppsRequests: 0,
  };
}

function describeEnd(reason: ChannelCloseReason | undefined): string {
  if (!reason) return 'closed';
  if (reason.kind === 'released') return 'released';
  const r = reason as { source?: number; reason?: number };
  if (r.source === -1) return 'connection closed';
  return `aborted (source ${r.source ?? '?'}, reason ${r.reason ?? '?'})`;
}
