/**
 * Who may do what on a DICOM server: one pure decision from the peer (calling AE title and
 * whether it showed a verified client certificate), the service it wants and, for C-MOVE
 * and MPPS N-SET, the target. The server asks it at negotiation and per request; nothing
 * else decides access.
 */
import { isStorageSopClass, SopClass } from './sop-classes.js';

/** The services access is granted by (config `access.*`, `peers.X.allow`). */
export const ACCESS_SERVICES = [
  'echo',
  'store',
  'find',
  'get',
  'move',
  'worklist',
  'mpps',
  'commitment',
] as const;

/** One service of {@link ACCESS_SERVICES}. */
export type AccessService = (typeof ACCESS_SERVICES)[number];

/** What one configured peer may do. */
export interface PeerAccess {
  /** Services the peer may use; absent = all of them. */
  allow?: readonly AccessService[];
  /**
   * Configured peers it may C-MOVE to; absent = itself only; `'*'` (alone or in the list) =
   * any configured peer.
   */
  moveDestinations?: readonly string[];
}

/**
 * The access model of a server (DESIGN.md "Access control"). A calling AE title listed in
 * `peers` is a configured peer; any other is an authenticated peer when its TLS client
 * certificate was verified against the server's CA, else an unknown peer.
 */
export interface AccessPolicy {
  /** What a calling AE not under `peers` without a verified client certificate may do. */
  unknownPeers: readonly AccessService[];
  /** What a calling AE not under `peers` with a verified client certificate may do. */
  authenticatedPeers: readonly AccessService[];
  /** Configured peers by AE title (also the only possible C-MOVE destinations). */
  peers: Readonly<Record<string, PeerAccess>>;
}

/** The defaults `dicomnet serve` applies: echo and store for anyone, more for certificate holders. */
export const DEFAULT_UNKNOWN_PEER_SERVICES: readonly AccessService[] = ['echo', 'store'];
export const DEFAULT_AUTHENTICATED_PEER_SERVICES: readonly AccessService[] = [
  'echo',
  'store',
  'find',
  'get',
  'worklist',
  'mpps',
  'commitment',
];

/** How the server classes a peer. */
export type PeerKind = 'configured' | 'authenticated' | 'unknown';

/** Who asks. */
export interface AccessPeer {
  callingAet: string;
  /**
   * True when the peer came over TLS with a client certificate the server verified (on a
   * dicomnet server, any client certificate it reports was verified against its CA).
   */
  verifiedCertificate: boolean;
}

/** One access question. */
export interface AccessRequest extends AccessPeer {
  service: AccessService;
  /** C-MOVE: the Move Destination AE title. */
  moveDestination?: string;
  /** MPPS N-SET: the calling AE title that created the step. */
  stepCreator?: string;
}

/** The answer: which rule decided, and why in words when it refused. */
export type AccessDecision =
  | { allowed: true; kind: PeerKind; rule: string }
  | { allowed: false; kind: PeerKind; rule: string; reason: string };

/** The peer kind of `peer` under `policy`. */
export function peerKind(policy: AccessPolicy, peer: AccessPeer): PeerKind {
  if (Object.hasOwn(policy.peers, peer.callingAet)) return 'configured';
  return peer.verifiedCertificate ? 'authenticated' : 'unknown';
}

const KIND_RULE: Record<Exclude<PeerKind, 'configured'>, string> = {
  unknown: 'access.unknownPeers',
  authenticated: 'access.authenticatedPeers',
};

/** May `request.callingAet` use `request.service` (on `request.moveDestination` / `stepCreator`)? */
export function decideAccess(policy: AccessPolicy, request: AccessRequest): AccessDecision {
  const kind = peerKind(policy, request);
  const aet = request.callingAet;
  const configured = kind === 'configured' ? policy.peers[aet] : undefined;
  const rule = configured ? `peers.${aet}.allow` : KIND_RULE[kind as Exclude<PeerKind, 'configured'>];
  const services = configured
    ? (configured.allow ?? ACCESS_SERVICES)
    : kind === 'authenticated'
      ? policy.authenticatedPeers
      : policy.unknownPeers;
  if (!services.includes(request.service))
    return {
      allowed: false,
      kind,
      rule,
      reason: `${request.service} is not allowed for ${describePeer(kind, aet)} (${rule})`,
    };
  if (request.service === 'move' && request.moveDestination !== undefined)
    return decideMoveDestination(policy, kind, aet, configured, request.moveDestination);
  if (request.service === 'mpps' && request.stepCreator !== undefined && request.stepCreator !== aet) {
    // a configured peer is trusted by the operator (e.g. an MPPS manager relaying a modality's steps)
    if (kind === 'configured') return { allowed: true, kind, rule: `peers.${aet}.allow` };
    return {
      allowed: false,
      kind,
      rule: 'mpps.stepCreator',
      reason: `the step was created by ${request.stepCreator}; only its creator or a configured peer may change it (${describePeer(kind, aet)})`,
    };
  }
  return { allowed: true, kind, rule };
}

function decideMoveDestination(
  policy: AccessPolicy,
  kind: PeerKind,
  aet: string,
  configured: PeerAccess | undefined,
  destination: string,
): AccessDecision {
  const rule = configured
    ? `peers.${aet}.moveDestinations`
    : KIND_RULE[kind as Exclude<PeerKind, 'configured'>];
  const refuse = (why: string): AccessDecision => ({
    allowed: false,
    kind,
    rule,
    reason: `${destination} is not an allowed destination for ${aet}${why}`,
  });
  if (!configured) return refuse(' (only configured peers have move destinations)');
  if (!Object.hasOwn(policy.peers, destination)) return refuse(` (${destination} is not a configured peer)`);
  const allowed = configured.moveDestinations ?? [aet];
  if (allowed.includes('*') || allowed.includes(destination)) return { allowed: true, kind, rule };
  return refuse(` (${rule})`);
}

/** The peer in words, for refusal reasons. */
export function describePeer(kind: PeerKind, aet: string): string {
  switch (kind) {
    case 'configured':
      return `configured peer ${aet}`;
    case 'authenticated':
      return `${aet} (authenticated by certificate, not a configured peer)`;
    case 'unknown':
      return `${aet} (unknown peer: not configured, no verified client certificate)`;
  }
}

/**
 * The service a presentation context's abstract syntax belongs to; undefined for SOP
 * classes access does not govern (they are refused or accepted on other grounds). A storage
 * SOP class is `store` (the requestor sends) — as SCP role for C-GET it is `get`'s, which
 * the server checks separately.
 */
export function serviceOfAbstractSyntax(abstractSyntax: string): AccessService | undefined {
  switch (abstractSyntax) {
    case SopClass.Verification:
      return 'echo';
    case SopClass.PatientRootFind:
    case SopClass.StudyRootFind:
    case SopClass.PatientStudyOnlyFind:
      return 'find';
    case SopClass.ModalityWorklistFind:
      return 'worklist';
    case SopClass.PatientRootMove:
    case SopClass.StudyRootMove:
    case SopClass.PatientStudyOnlyMove:
      return 'move';
    case SopClass.PatientRootGet:
    case SopClass.StudyRootGet:
    case SopClass.PatientStudyOnlyGet:
      return 'get';
    case SopClass.StorageCommitmentPushModel:
      return 'commitment';
    case SopClass.ModalityPerformedProcedureStep:
      return 'mpps';
    default:
      return isStorageSopClass(abstractSyntax) ? 'store' : undefined;
  }
}

/** The DIMSE name a person knows a service by, for refusal lines (`C-FIND`, `MPPS`…). */
export function serviceLabel(service: AccessService): string {
  switch (service) {
    case 'echo':
      return 'C-ECHO';
    case 'store':
      return 'C-STORE';
    case 'find':
      return 'C-FIND';
    case 'get':
      return 'C-GET';
    case 'move':
      return 'C-MOVE';
    case 'worklist':
      return 'Modality Worklist C-FIND';
    case 'mpps':
      return 'MPPS';
    case 'commitment':
      return 'Storage Commitment';
  }
}
