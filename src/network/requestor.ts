/** The requestor side of negotiation: build the A-ASSOCIATE-RQ, send it, and read what was agreed from the A-ASSOCIATE-AC. */
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { toError, UsageError } from '../errors.js';
import { type Logger, silentLogger } from '../log.js';
import { Association } from './association.js';
import type { AssociationChannel, NegotiatedAssociation, NegotiatedContext } from './channel.js';
import { AssociationRejectedError, NetworkError } from './errors.js';
import {
  DICOM_APPLICATION_CONTEXT,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
} from './implementation.js';
import { encodePdu } from './pdu/encode.js';
import {
  ASSUMED_PEER_MAX_PDU_LENGTH,
  DEFAULT_MAX_PDU_LENGTH,
  DEFAULT_ROLES,
  minWindow,
} from './negotiation.js';
import {
  type AssociateAcPdu,
  type AssociateRqPdu,
  emptyUserInformation,
  type RoleSelectionItem,
  type SopClassCommonExtendedNegotiationItem,
  type SopClassExtendedNegotiationItem,
} from './pdu/types.js';

/** A presentation context the requestor proposes. */
export interface PresentationContextProposal {
  /** Odd 1..255; assigned (1, 3, 5, … skipping given ones) when absent. */
  id?: number;
  abstractSyntax: string;
  /** In our order of preference. */
  transferSyntaxes: string[];
  /** Propose SCP/SCU role selection for this abstract syntax (PS3.7 D.3.3.4); absent = default roles. */
  scuRole?: boolean;
  scpRole?: boolean;
}

/** User identity to send (PS3.7 D.3.3.7). Strings are sent as UTF-8. */
export interface UserIdentityProposal {
  /** 1 username, 2 username + passcode, 3 Kerberos, 4 SAML, 5 JWT. */
  type: 1 | 2 | 3 | 4 | 5;
  primaryField: Buffer | string;
  /** Passcode (type 2 only). */
  secondaryField?: Buffer | string;
  positiveResponseRequested?: boolean;
}

/** Parameters of {@link requestAssociation}. */
export interface RequestAssociationParams {
  callingAet: string;
  calledAet: string;
  contexts: PresentationContextProposal[];
  /** Largest P-DATA-TF we accept (default 16384, as DCMTK); 0 = unlimited (we still buffer at most `hardMaxPduLength`). */
  maxPduLength?: number;
  /** Asynchronous operations window to propose; absent or 1/1 = synchronous, not proposed. */
  asyncOps?: { invoked: number; performed: number };
  implementationClassUid?: string;
  implementationVersionName?: string;
  userIdentity?: UserIdentityProposal;
  extendedNegotiations?: SopClassExtendedNegotiationItem[];
  commonExtendedNegotiations?: SopClassCommonExtendedNegotiationItem[];
  /** Wait for A-ASSOCIATE-AC/RJ, A-RELEASE-RP and the ARTIM timer (ms; default 30 000). */
  timeoutMs?: number;
  /** Abort after this long without traffic once established (ms; default never). */
  idleTimeoutMs?: number;
  /** Largest PDU of any type buffered (default 16 MiB). */
  hardMaxPduLength?: number;
  logger?: Logger;
}

function toBuffer(v: Buffer | string | undefined): Buffer {
  if (v === undefined) return Buffer.alloc(0);
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/** Give every proposal an odd context ID, keeping the ones given. */
export function assignContextIds(
  contexts: readonly PresentationContextProposal[],
): (PresentationContextProposal & { id: number })[] {
  const used = new Set<number>();
  for (const c of contexts) {
    if (c.id === undefined) continue;
    if (c.id < 1 || c.id > 255 || c.id % 2 === 0) {
      throw new UsageError(
        'ERR_BAD_CONTEXT_ID',
        `presentation context ID ${c.id} is not an odd number 1..255`,
      );
    }
    if (used.has(c.id))
      throw new UsageError('ERR_BAD_CONTEXT_ID', `presentation context ID ${c.id} is used twice`);
    used.add(c.id);
  }
  let next = 1;
  return contexts.map((c) => {
    if (c.id !== undefined) return { ...c, id: c.id };
    while (used.has(next)) next += 2;
    if (next > 255)
      throw new UsageError('ERR_TOO_MANY_CONTEXTS', `more than 128 presentation contexts proposed`);
    used.add(next);
    return { ...c, id: next };
  });
}

/** The A-ASSOCIATE-RQ for these parameters. */
export function buildAssociateRq(params: RequestAssociationParams): AssociateRqPdu {
  if (params.contexts.length === 0)
    throw new UsageError('ERR_NO_CONTEXTS', 'no presentation context proposed');
  const contexts = assignContextIds(params.contexts);
  const userInfo = emptyUserInformation();
  userInfo.maxLength = params.maxPduLength ?? DEFAULT_MAX_PDU_LENGTH;
  userInfo.implementationClassUid = params.implementationClassUid ?? IMPLEMENTATION_CLASS_UID;
  userInfo.implementationVersionName = params.implementationVersionName ?? IMPLEMENTATION_VERSION_NAME;
  const ops = params.asyncOps;
  if (ops && (ops.invoked !== 1 || ops.performed !== 1)) userInfo.asyncOpsWindow = { ...ops };
  const roles = new Map<string, RoleSelectionItem>();
  for (const c of contexts) {
    if (c.scuRole === undefined && c.scpRole === undefined) continue;
    if (roles.has(c.abstractSyntax)) continue;
    roles.set(c.abstractSyntax, {
      sopClassUid: c.abstractSyntax,
      scuRole: c.scuRole ?? true,
      scpRole: c.scpRole ?? false,
    });
  }
  userInfo.roleSelections = [...roles.values()];
  userInfo.extendedNegotiations = params.extendedNegotiations ?? [];
  userInfo.commonExtendedNegotiations = params.commonExtendedNegotiations ?? [];
  if (params.userIdentity) {
    const id = params.userIdentity;
    userInfo.userIdentity = {
      type: id.type,
      positiveResponseRequested: id.positiveResponseRequested ?? false,
      primaryField: toBuffer(id.primaryField),
      secondaryField: toBuffer(id.secondaryField),
    };
  }
  return {
    type: 'A-ASSOCIATE-RQ',
    protocolVersion: 1,
    calledAet: params.calledAet,
    callingAet: params.callingAet,
    applicationContext: DICOM_APPLICATION_CONTEXT,
    presentationContexts: contexts.map((c) => ({
      id: c.id,
      abstractSyntax: c.abstractSyntax,
      transferSyntaxes: [...c.transferSyntaxes],
    })),
    userInfo,
  };
}

/** What was agreed, from our A-ASSOCIATE-RQ and the peer's A-ASSOCIATE-AC. */
export function negotiatedFromAc(rq: AssociateRqPdu, ac: AssociateAcPdu): NegotiatedAssociation {
  const answers = new Map(ac.presentationContexts.map((pc) => [pc.id, pc]));
  const ourRoles = new Map(rq.userInfo.roleSelections.map((r) => [r.sopClassUid, r]));
  const theirRoles = new Map(ac.userInfo.roleSelections.map((r) => [r.sopClassUid, r]));
  const contexts = new Map<number, NegotiatedContext>();
  for (const pc of rq.presentationContexts) {
    const answer = answers.get(pc.id);
    const result = (answer && answer.result <= 4 ? answer.result : 2) as NegotiatedContext['result'];
    const proposedRole = ourRoles.get(pc.abstractSyntax);
    const answeredRole = proposedRole ? theirRoles.get(pc.abstractSyntax) : undefined;
    const ctx: NegotiatedContext = {
      id: pc.id,
      abstractSyntax: pc.abstractSyntax,
      result,
      requestorIsScu: answeredRole
        ? answeredRole.scuRole && proposedRole?.scuRole === true
        : DEFAULT_ROLES.requestorIsScu,
      requestorIsScp: answeredRole
        ? answeredRole.scpRole && proposedRole?.scpRole === true
        : DEFAULT_ROLES.requestorIsScp,
    };
    if (result === 0 && answer?.transferSyntax) ctx.transferSyntax = answer.transferSyntax;
    if (result === 0 && !ctx.transferSyntax) ctx.result = 2;
    contexts.set(pc.id, ctx);
  }
  const ownOps = rq.userInfo.asyncOpsWindow ?? { invoked: 1, performed: 1 };
  const peerOps = ac.userInfo.asyncOpsWindow;
  const negotiated: NegotiatedAssociation = {
    callingAet: rq.callingAet,
    calledAet: rq.calledAet,
    contexts,
    peerMaxPduLength: ac.userInfo.maxLength ?? ASSUMED_PEER_MAX_PDU_LENGTH,
    ownMaxPduLength: rq.userInfo.maxLength ?? DEFAULT_MAX_PDU_LENGTH,
    maxOperationsInvoked: peerOps ? minWindow(ownOps.invoked, peerOps.performed) : 1,
    maxOperationsPerformed: peerOps ? minWindow(ownOps.performed, peerOps.invoked) : 1,
  };
  if (ac.userInfo.implementationClassUid)
    negotiated.peerImplementationClassUid = ac.userInfo.implementationClassUid;
  if (ac.userInfo.implementationVersionName) {
    negotiated.peerImplementationVersionName = ac.userInfo.implementationVersionName;
  }
  if (ac.userInfo.userIdentityResponse) negotiated.userIdentityResponse = ac.userInfo.userIdentityResponse;
  if (ac.userInfo.extendedNegotiations.length > 0)
    negotiated.extendedNegotiations = ac.userInfo.extendedNegotiations;
  return negotiated;
}

/**
 * A plain connection closed by the peer right after our A-ASSOCIATE-RQ is what a TLS-only port
 * does (it read our request as a broken ClientHello): say so, and how to try TLS.
 */
function plainHint(err: Error, stream: Duplex): Error {
  if (stream instanceof TLSSocket || !(err instanceof NetworkError)) return err;
  if (!['ERR_CONNECTION_CLOSED', 'ERR_CONNECTION_RESET', 'ERR_ASSOCIATION_CLOSED'].includes(err.code))
    return err;
  return new NetworkError(
    err.code,
    `${err.message} right after our A-ASSOCIATE-RQ: the port may expect TLS (try --tls, or the tls option)`,
    { cause: err },
  );
}

/**
 * Negotiate an association as requestor over an already connected stream
 * (a `net.Socket`, a `tls.TLSSocket`, any Duplex).
 *
 * Resolves the established {@link AssociationChannel}; rejects with
 * {@link AssociationRejectedError} (A-ASSOCIATE-RJ), `AssociationAbortedError`
 * (A-ABORT), or {@link NetworkError} (`ERR_ASSOCIATION_TIMEOUT`,
 * `ERR_CONNECTION_CLOSED`). On failure the stream is closed.
 */
export function requestAssociation(
  stream: Duplex,
  params: RequestAssociationParams,
): Promise<AssociationChannel> {
  const log = params.logger ?? silentLogger();
  const timeoutMs = params.timeoutMs ?? 30_000;
  let rq: AssociateRqPdu;
  try {
    rq = buildAssociateRq(params);
    encodePdu(rq); // surfaces encoding errors (AE title too long, oversized items) as UsageError before any I/O
  } catch (err) {
    return Promise.reject(err);
  }
  if (stream.destroyed || !stream.writable) {
    return Promise.reject(
      new NetworkError('ERR_CONNECTION_CLOSED', 'transport connection is already closed'),
    );
  }
  return new Promise<AssociationChannel>((resolve, reject) => {
    let settled = false;
    const settle = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        reject(err);
        return;
      }
      resolve(assoc);
    };
    const assoc = new Association(stream, {
      isRequestor: true,
      logger: log,
      ownMaxPduLength: rq.userInfo.maxLength ?? DEFAULT_MAX_PDU_LENGTH,
      hardMaxPduLength: params.hardMaxPduLength,
      artimTimeoutMs: timeoutMs,
      idleTimeoutMs: params.idleTimeoutMs,
      onNegotiationFailed: (err) => settle(plainHint(err, stream)),
      onNegotiation: (ind) => {
        if (ind.kind === 'associate-ac') {
          const negotiated = negotiatedFromAc(rq, ind.pdu);
          assoc.establish(negotiated);
          const accepted = [...negotiated.contexts.values()].filter((c) => c.result === 0).length;
          log.info(
            {
              calledAet: params.calledAet,
              accepted,
              proposed: negotiated.contexts.size,
              peerMaxPduLength: negotiated.peerMaxPduLength,
              peerImplementation: negotiated.peerImplementationVersionName,
            },
            'association accepted',
          );
          settle(undefined);
        } else if (ind.kind === 'associate-rj') {
          const { result, source, reason } = ind.pdu;
          // a TLS port of a dicomnet node answers a plaintext request so (tls/acceptor.ts)
          const maybeTls = !(stream instanceof TLSSocket) && result === 1 && source === 1 && reason === 1;
          const err = new AssociationRejectedError(
            result,
            source,
            reason,
            maybeTls ? 'if this is a TLS port, try --tls (or the tls option)' : undefined,
          );
          // info, not warn: the rejection is what the caller gets; the CLI prints it once
          log.info({ result: ind.pdu.result, source: ind.pdu.source, reason: ind.pdu.reason }, err.message);
          settle(err);
        }
      },
    });
    const timer = setTimeout(() => {
      settle(
        new NetworkError(
          'ERR_ASSOCIATION_TIMEOUT',
          `no A-ASSOCIATE-AC or -RJ from ${params.calledAet} within ${timeoutMs} ms`,
        ),
      );
      assoc.abort(); // A-ABORT, then the transport closes once it is flushed (ARTIM bounds the wait)
    }, timeoutMs);
    try {
      assoc.startAsRequestor(rq);
    } catch (err) {
      settle(toError(err));
    }
  });
}
