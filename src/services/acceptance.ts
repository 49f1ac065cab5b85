import { allTransferSyntaxes, TransferSyntax } from '../data/index.js';
import type {
  AcceptorPolicy,
  AssociationDecision,
  AssociationRequest,
  ByteBudget,
} from '../network/index.js';
import type { AssociateRqPdu } from '../network/pdu/types.js';
import type { SecureLinkInfo } from '../tls/types.js';
import { type AccessService, decideAccess, serviceOfAbstractSyntax } from './authorization.js';
import type { DicomServerOptions } from './server.js';
import { isStorageSopClass, SopClass } from './sop-classes.js';

/** Transfer syntaxes for commands and query identifiers, in our order of preference. */
const UNCOMPRESSED: string[] = [
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
];

/**
 * Storage accepts every transfer syntax dicomnet knows: instances are stored as
 * received, never decoded. Uncompressed first, so a requestor offering several in
 * one context gets the most interoperable.
 */
function storageTransferSyntaxes(): string[] {
  const rest = allTransferSyntaxes()
    .map((t) => t.uid)
    .filter((uid) => !UNCOMPRESSED.includes(uid));
  return [...UNCOMPRESSED, ...rest];
}

/** Which abstract syntaxes a server offers, from the handlers it has. */
function offeredAbstractSyntax(options: DicomServerOptions, abstractSyntax: string): boolean {
  const h = options.handlers ?? {};
  switch (abstractSyntax) {
    case SopClass.Verification:
      return true;
    case SopClass.PatientRootFind:
    case SopClass.StudyRootFind:
    case SopClass.ModalityWorklistFind:
      return h.find !== undefined;
    case SopClass.PatientRootMove:
    case SopClass.StudyRootMove:
      return h.move !== undefined;
    case SopClass.PatientRootGet:
    case SopClass.StudyRootGet:
      return h.get !== undefined;
    case SopClass.StorageCommitmentPushModel:
    case SopClass.ModalityPerformedProcedureStep:
      return h.nService !== undefined;
    default:
      return isStorageSopClass(abstractSyntax) && (h.store !== undefined || h.get !== undefined);
  }
}

/** A-ASSOCIATE-RJ for "local limit exceeded": transient, service provider (presentation), reason 2 (PS3.8 Table 9-21). */
export const LOCAL_LIMIT_EXCEEDED = { result: 2, source: 3, reason: 2 } as const;

/** A-ASSOCIATE-RJ for "calling AE title not recognized": permanent, service user, reason 3. */
export const CALLING_AET_NOT_RECOGNIZED = { result: 1, source: 1, reason: 3 } as const;

/** What the server knows about the connection an association request came on. */
export interface ConnectionFacts {
  remoteAddress: string;
  secureLink?: SecureLinkInfo;
  /** Already over the association limit when the connection arrived (rejected: local limit exceeded). */
  overLimit?: boolean;
  /**
   * The server's own checks (limits, AE title binding), asked before the user's
   * `onAssociationRequest`: a rejection, or undefined to go on.
   */
  admit?: (
    request: AssociationRequest,
  ) => AssociationDecision | undefined | Promise<AssociationDecision | undefined>;
  /** Told the final decision (after the user's hook), e.g. to count an accepted association. */
  decided?: (request: AssociationRequest, decision: AssociationDecision) => void;
  /** The server's budget of A-ASSOCIATE-RQ bytes, shared by all its pending connections. */
  requestBudget?: ByteBudget;
}

/** The acceptor policy of a {@link DicomServer} for one incoming association. */
export function acceptancePolicy(options: DicomServerOptions, connection: ConnectionFacts): AcceptorPolicy {
  const aets = Array.isArray(options.aet) ? options.aet : [options.aet];
  const narrow = options.storageAcceptance;
  const policy = options.authorize;
  const verifiedCertificate = connection.secureLink?.peerCertificate !== undefined;
  const may = (rq: AssociateRqPdu, service: AccessService): boolean =>
    !policy || decideAccess(policy, { callingAet: rq.callingAet, verifiedCertificate, service }).allowed;
  const storageSyntaxes = narrow?.transferSyntaxes
    ? storageTransferSyntaxes().filter((uid) => narrow.transferSyntaxes?.includes(uid))
    : storageTransferSyntaxes();
  return {
    calledAets: options.acceptAnyCalledAet ? undefined : aets,
    transferSyntaxesFor: (abstractSyntax: string) => {
      if (!offeredAbstractSyntax(options, abstractSyntax)) return undefined;
      if (!isStorageSopClass(abstractSyntax)) return UNCOMPRESSED;
      if (narrow?.sopClasses && !narrow.sopClasses.includes(abstractSyntax)) return undefined;
      return storageSyntaxes;
    },
    // C-GET: the requestor may act as storage SCP on this association, if it may retrieve.
    roleSelection: (abstractSyntax, proposed, rq) => ({
      scu: proposed.scu,
      scp: proposed.scp && isStorageSopClass(abstractSyntax) && may(rq, 'get'),
    }),
    userRejectsContext: policy
      ? (abstractSyntax, rq) => {
          const service = serviceOfAbstractSyntax(abstractSyntax);
          if (service === undefined) return false;
          // a storage context also carries C-GET's sub-operations (requestor as SCP)
          if (service === 'store')
            return !may(rq, 'store') && !(may(rq, 'get') && proposesScpRole(rq, abstractSyntax));
          return !may(rq, service);
        }
      : undefined,
    maxPduLength: options.maxPduLength,
    hardMaxPduLength:
      options.hardMaxPduLength === undefined
        ? undefined
        : Math.max(options.hardMaxPduLength, options.maxPduLength ?? 0),
    maxOperationsPerformed: options.maxOperations ?? 1,
    maxOperationsInvoked: options.maxOperations ?? 1,
    requestBudget: connection.requestBudget,
    timeoutMs: options.timeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
    logger: options.logger,
    onAssociationRequest: async (request) => {
      let decision: AssociationDecision | undefined = connection.overLimit
        ? { ...LOCAL_LIMIT_EXCEEDED }
        : await connection.admit?.(request);
      decision ??= options.onAssociationRequest
        ? await options.onAssociationRequest(request)
        : { accept: true };
      connection.decided?.(request, decision);
      return decision;
    },
  };
}

function proposesScpRole(rq: AssociateRqPdu, abstractSyntax: string): boolean {
  return rq.userInfo.roleSelections.some((r) => r.sopClassUid === abstractSyntax && r.scpRole);
}
