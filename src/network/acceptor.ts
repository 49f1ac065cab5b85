/** The acceptor side of negotiation: answer an A-ASSOCIATE-RQ per the policy (contexts, roles, identity, windows) with an AC or an RJ. */
import type { Duplex } from 'node:stream';
import { toError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { Association } from './association.js';
import type { ByteBudget } from './byte-budget.js';
import type { AssociationChannel, NegotiatedAssociation, NegotiatedContext } from './channel.js';
import { AssociationRejectedError, NetworkError } from './errors.js';
import {
  DICOM_APPLICATION_CONTEXT,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
} from './implementation.js';
import {
  ASSUMED_PEER_MAX_PDU_LENGTH,
  DEFAULT_MAX_PDU_LENGTH,
  DEFAULT_ROLES,
  minWindow,
} from './negotiation.js';
import {
  type AssociateAcPdu,
  type AssociateRjPdu,
  type AssociateRqPdu,
  emptyUserInformation,
  type PresentationContextAcItem,
  type RoleSelectionItem,
  type SopClassExtendedNegotiationItem,
  type UserIdentityRqItem,
} from './pdu/types.js';

/** An association request as the acceptor's policy hook sees it, with the answer we are about to give. */
export interface AssociationRequest {
  callingAet: string;
  calledAet: string;
  /** Our per-context answer (after transfer syntax and role negotiation). */
  contexts: NegotiatedContext[];
  userIdentity?: UserIdentityRqItem;
  peerImplementationClassUid?: string;
  peerImplementationVersionName?: string;
  /** The peer's maximum length (0 = unlimited). */
  peerMaxPduLength: number;
  /** The A-ASSOCIATE-RQ as received. */
  pdu: AssociateRqPdu;
}

/** Reject an association: A-ASSOCIATE-RJ fields (PS3.8 Table 9-21). */
export interface AssociationRejection {
  accept?: false;
  /** 1 rejected-permanent, 2 rejected-transient. */
  result: 1 | 2;
  /** 1 service user, 2 service provider (ACSE), 3 service provider (presentation). */
  source: 1 | 2 | 3;
  reason: number;
}

/** What {@link AcceptorPolicy.onAssociationRequest} decides. */
export type AssociationDecision = { accept: true } | AssociationRejection;

/** How an acceptor answers association requests. */
export interface AcceptorPolicy {
  /** Called AE titles we answer to; undefined = any (as DCMTK storescp). Others are rejected with reason 7. */
  calledAets?: readonly string[];
  /** Calling AE titles we accept; undefined = any. Others are rejected with reason 3. */
  callingAets?: readonly string[];
  /**
   * Transfer syntaxes acceptable for an abstract syntax, in OUR order of
   * preference; undefined or empty = abstract syntax not supported (result 3).
   * Rule: per context we accept the first syntax of this list that the
   * requestor proposed in that context; none → transfer syntaxes not supported (result 4).
   */
  transferSyntaxesFor: (abstractSyntax: string) => readonly string[] | undefined;
  /**
   * Contexts the acceptor, as service user, will not accept whatever their syntaxes (e.g.
   * access control): answered result 1 "user rejection". Asked only for contexts it would
   * otherwise accept.
   */
  userRejectsContext?: (abstractSyntax: string, rq: AssociateRqPdu) => boolean;
  /**
   * Answer to a proposed SCP/SCU role selection; only roles the requestor
   * proposed can be granted. Default: SCU role as proposed, SCP role refused.
   */
  roleSelection?: (
    abstractSyntax: string,
    proposed: { scu: boolean; scp: boolean },
    rq: AssociateRqPdu,
  ) => { scu: boolean; scp: boolean };
  /** SOP class extended negotiation: the application information to answer, or undefined to leave it out. */
  extendedNegotiation?: (item: SopClassExtendedNegotiationItem) => Buffer | undefined;
  /**
   * User identity check. false → reject (permanent, service user, no reason given);
   * true → accept; a Buffer → accept and send it as the server response when one was requested.
   * Absent: identity is accepted without a response.
   */
  userIdentity?: (identity: UserIdentityRqItem) => boolean | Buffer | Promise<boolean | Buffer>;
  /** Final say after the built-in checks (e.g. AE title ↔ certificate binding). */
  onAssociationRequest?: (request: AssociationRequest) => AssociationDecision | Promise<AssociationDecision>;
  /** Largest P-DATA-TF we accept (default 16384); 0 = unlimited (still capped by `hardMaxPduLength`). */
  maxPduLength?: number;
  /** Operations we may invoke / perform asynchronously (default 1 each); answered only when proposed. */
  maxOperationsInvoked?: number;
  maxOperationsPerformed?: number;
  implementationClassUid?: string;
  implementationVersionName?: string;
  /** ARTIM timeout (ms; default 30 000): wait for A-ASSOCIATE-RQ, and for the transport to close afterwards. */
  timeoutMs?: number;
  /** Abort after this long without traffic once established (ms; default never). */
  idleTimeoutMs?: number;
  /** Largest PDU of any type buffered (default 16 MiB). */
  hardMaxPduLength?: number;
  /** Budget of A-ASSOCIATE-RQ bytes shared by the server's pending connections (see `AssociationOptions.requestBudget`). */
  requestBudget?: ByteBudget;
  logger?: Logger;
}

function rejection(result: 1 | 2, source: 1 | 2 | 3, reason: number): AssociateRjPdu {
  return { type: 'A-ASSOCIATE-RJ', result, source, reason };
}

// The A-ASSOCIATE-RJ answers of PS3.8 Table 9-21 this acceptor gives (result, source, reason).
/** Permanent, service provider (ACSE): protocol version not supported. */
const REJECT_PROTOCOL_VERSION = Object.freeze(rejection(1, 2, 2));
/** Permanent, service user: application context name not supported. */
const REJECT_APPLICATION_CONTEXT = Object.freeze(rejection(1, 1, 2));
/** Permanent, service user: called AE title not recognized. */
const REJECT_CALLED_AET = Object.freeze(rejection(1, 1, 7));
/** Permanent, service user: calling AE title not recognized. */
const REJECT_CALLING_AET = Object.freeze(rejection(1, 1, 3));
/** Permanent, service user, no reason given: the user identity was refused. */
const REJECT_USER_IDENTITY = Object.freeze(rejection(1, 1, 1));
/** Transient, service user, no reason given: the policy failed while deciding. */
const REJECT_POLICY_FAILED = Object.freeze(rejection(2, 1, 1));

/** Per-context answers: the first of our syntaxes the requestor proposed (see {@link AcceptorPolicy.transferSyntaxesFor}). */
export function negotiateContexts(
  rq: AssociateRqPdu,
  policy: Pick<AcceptorPolicy, 'transferSyntaxesFor' | 'roleSelection' | 'userRejectsContext'>,
): { items: PresentationContextAcItem[]; contexts: NegotiatedContext[]; roles: RoleSelectionItem[] } {
  const roleAnswers = new Map<string, RoleSelectionItem>();
  for (const proposed of rq.userInfo.roleSelections) {
    if (roleAnswers.has(proposed.sopClassUid)) continue;
    const wanted = policy.roleSelection
      ? policy.roleSelection(proposed.sopClassUid, { scu: proposed.scuRole, scp: proposed.scpRole }, rq)
      : { scu: proposed.scuRole, scp: false };
    roleAnswers.set(proposed.sopClassUid, {
      sopClassUid: proposed.sopClassUid,
      scuRole: proposed.scuRole && wanted.scu,
      scpRole: proposed.scpRole && wanted.scp,
    });
  }
  const items: PresentationContextAcItem[] = [];
  const contexts: NegotiatedContext[] = [];
  for (const pc of rq.presentationContexts) {
    const ours = policy.transferSyntaxesFor(pc.abstractSyntax);
    let result: NegotiatedContext['result'];
    let transferSyntax: string | undefined;
    if (!ours || ours.length === 0) result = 3;
    else {
      transferSyntax = ours.find((ts) => pc.transferSyntaxes.includes(ts));
      result = transferSyntax ? 0 : 4;
      if (result === 0 && policy.userRejectsContext?.(pc.abstractSyntax, rq)) {
        result = 1;
        transferSyntax = undefined;
      }
    }
    const role = roleAnswers.get(pc.abstractSyntax);
    const ctx: NegotiatedContext = {
      id: pc.id,
      abstractSyntax: pc.abstractSyntax,
      result,
      requestorIsScu: role ? role.scuRole : DEFAULT_ROLES.requestorIsScu,
      requestorIsScp: role ? role.scpRole : DEFAULT_ROLES.requestorIsScp,
    };
    const item: PresentationContextAcItem = { id: pc.id, result };
    if (transferSyntax) {
      ctx.transferSyntax = transferSyntax;
      item.transferSyntax = transferSyntax;
    }
    contexts.push(ctx);
    items.push(item);
  }
  return { items, contexts, roles: [...roleAnswers.values()] };
}

/** The provider's own check in AE-6: protocol version 1 must be offered (PS3.8 9.3.2). */
function providerCheck(rq: AssociateRqPdu): AssociateRjPdu | undefined {
  if ((rq.protocolVersion & 1) === 0) return REJECT_PROTOCOL_VERSION;
  return undefined;
}

/** Decide on an A-ASSOCIATE-RQ: an AC (with what was agreed) or an RJ. */
export async function answerAssociateRq(
  rq: AssociateRqPdu,
  policy: AcceptorPolicy,
): Promise<{ ac: AssociateAcPdu; negotiated: NegotiatedAssociation } | { rj: AssociateRjPdu }> {
  if (rq.applicationContext !== DICOM_APPLICATION_CONTEXT) return { rj: REJECT_APPLICATION_CONTEXT };
  if (policy.calledAets && !policy.calledAets.includes(rq.calledAet)) return { rj: REJECT_CALLED_AET };
  if (policy.callingAets && !policy.callingAets.includes(rq.callingAet)) return { rj: REJECT_CALLING_AET };
  const { items, contexts, roles } = negotiateContexts(rq, policy);
  const ownMax = policy.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH;
  const userInfo = emptyUserInformation();
  userInfo.maxLength = ownMax;
  userInfo.implementationClassUid = policy.implementationClassUid ?? IMPLEMENTATION_CLASS_UID;
  userInfo.implementationVersionName = policy.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME;
  userInfo.roleSelections = roles;
  let invoked = 1;
  let performed = 1;
  const proposedOps = rq.userInfo.asyncOpsWindow;
  if (proposedOps) {
    invoked = minWindow(policy.maxOperationsInvoked ?? 1, proposedOps.performed);
    performed = minWindow(policy.maxOperationsPerformed ?? 1, proposedOps.invoked);
    userInfo.asyncOpsWindow = { invoked, performed };
  }
  if (policy.extendedNegotiation) {
    for (const item of rq.userInfo.extendedNegotiations) {
      const answer = policy.extendedNegotiation(item);
      if (answer)
        userInfo.extendedNegotiations.push({ sopClassUid: item.sopClassUid, applicationInfo: answer });
    }
  }
  const identity = rq.userInfo.userIdentity;
  if (identity && policy.userIdentity) {
    const verdict = await policy.userIdentity(identity);
    if (verdict === false) return { rj: REJECT_USER_IDENTITY };
    if (identity.positiveResponseRequested) {
      userInfo.userIdentityResponse = Buffer.isBuffer(verdict) ? verdict : Buffer.alloc(0);
    }
  }
  const negotiated: NegotiatedAssociation = {
    callingAet: rq.callingAet,
    calledAet: rq.calledAet,
    contexts: new Map(contexts.map((c) => [c.id, c])),
    peerMaxPduLength: rq.userInfo.maxLength ?? ASSUMED_PEER_MAX_PDU_LENGTH,
    ownMaxPduLength: ownMax,
    maxOperationsInvoked: invoked,
    maxOperationsPerformed: performed,
  };
  if (rq.userInfo.implementationClassUid)
    negotiated.peerImplementationClassUid = rq.userInfo.implementationClassUid;
  if (rq.userInfo.implementationVersionName) {
    negotiated.peerImplementationVersionName = rq.userInfo.implementationVersionName;
  }
  if (identity) negotiated.userIdentity = { ...identity };
  if (userInfo.extendedNegotiations.length > 0)
    negotiated.extendedNegotiations = userInfo.extendedNegotiations;
  if (policy.onAssociationRequest) {
    const request: AssociationRequest = {
      callingAet: rq.callingAet,
      calledAet: rq.calledAet,
      contexts,
      peerMaxPduLength: negotiated.peerMaxPduLength,
      pdu: rq,
    };
    if (identity) request.userIdentity = identity;
    if (negotiated.peerImplementationClassUid)
      request.peerImplementationClassUid = negotiated.peerImplementationClassUid;
    if (negotiated.peerImplementationVersionName) {
      request.peerImplementationVersionName = negotiated.peerImplementationVersionName;
    }
    const decision = await policy.onAssociationRequest(request);
    if (decision.accept !== true) return { rj: rejection(decision.result, decision.source, decision.reason) };
  }
  const ac: AssociateAcPdu = {
    type: 'A-ASSOCIATE-AC',
    protocolVersion: 1,
    calledAet: rq.calledAet,
    callingAet: rq.callingAet,
    applicationContext: DICOM_APPLICATION_CONTEXT,
    presentationContexts: items,
    userInfo,
  };
  return { ac, negotiated };
}

/**
 * Wait for an A-ASSOCIATE-RQ on an accepted stream and answer it per `policy`.
 * Like DCMTK and pynetdicom, an association whose contexts are all rejected is
 * still accepted (an AC listing the rejections); DIMSE then has nothing to use.
 *
 * Resolves the established channel; rejects with {@link AssociationRejectedError}
 * when we rejected the request (the RJ has been sent), `AssociationAbortedError`
 * or `NetworkError` (ARTIM timeout, peer gone) otherwise.
 */
export function acceptAssociation(stream: Duplex, policy: AcceptorPolicy): Promise<AssociationChannel> {
  const log = policy.logger ?? silentLogger();
  const ownMax = policy.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH;
  if (stream.destroyed || !stream.readable) {
    return Promise.reject(
      new NetworkError('ERR_CONNECTION_CLOSED', 'transport connection is already closed'),
    );
  }
  return new Promise<AssociationChannel>((resolve, reject) => {
    let settled = false;
    const settle = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve(assoc);
    };
    const decide = async (rq: AssociateRqPdu): Promise<void> => {
      let answer: Awaited<ReturnType<typeof answerAssociateRq>>;
      try {
        answer = await answerAssociateRq(rq, policy);
      } catch (err) {
        log.error({ err }, 'association policy failed; rejecting (transient, no reason given)');
        answer = { rj: REJECT_POLICY_FAILED };
      }
      if (!assoc.awaitingOurAnswer) return; // the peer aborted or left while we decided
      if ('rj' in answer) {
        const err = new AssociationRejectedError(answer.rj.result, answer.rj.source, answer.rj.reason);
        err.request = { callingAet: rq.callingAet, calledAet: rq.calledAet };
        log.info({ callingAet: rq.callingAet, calledAet: rq.calledAet }, `rejecting: ${err.message}`);
        assoc.rejectRequest(answer.rj);
        settle(err);
        return;
      }
      assoc.acceptRequest(answer.ac, answer.negotiated);
      log.info(
        {
          callingAet: rq.callingAet,
          calledAet: rq.calledAet,
          accepted: answer.ac.presentationContexts.filter((c) => c.result === 0).length,
          proposed: rq.presentationContexts.length,
        },
        'association accepted',
      );
      settle(undefined);
    };
    const assoc = new Association(stream, {
      isRequestor: false,
      logger: log,
      ownMaxPduLength: ownMax,
      hardMaxPduLength: policy.hardMaxPduLength,
      requestBudget: policy.requestBudget,
      artimTimeoutMs: policy.timeoutMs,
      idleTimeoutMs: policy.idleTimeoutMs,
      providerCheck,
      onNegotiationFailed: settle,
      onNegotiation: (ind) => {
        if (ind.kind === 'associate-rq') {
          decide(ind.pdu).catch((err: unknown) => {
            log.error({ err }, 'accepting association failed');
            assoc.abort();
            settle(toError(err));
          });
        } else if (ind.kind === 'associate-rj') {
          // AE-6 provider rejection (e.g. protocol version): already sent.
          settle(new AssociationRejectedError(ind.pdu.result, ind.pdu.source, ind.pdu.reason));
        }
      },
    });
    try {
      assoc.startAsAcceptor();
    } catch (err) {
      settle(toError(err));
    }
  });
}
