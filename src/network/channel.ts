/**
 * The seam between the upper layer (this folder) and DIMSE (src/dimse/): an
 * established association seen as a channel of presentation data values.
 * DIMSE never sees PDU bytes or sockets; the upper layer never sees DIMSE.
 */

/** One presentation data value (PS3.8 9.3.5.1, Annex E). */
export interface Pdv {
  /** Presentation context ID (odd, 1..255). */
  contextId: number;
  /** Message control header bit 0: true = command fragment, false = data set fragment. */
  command: boolean;
  /** Message control header bit 1: true = last fragment of the command or data set. */
  last: boolean;
  /** Fragment bytes (may be a slice of a larger receive buffer: copy it if kept). */
  data: Buffer;
}

/** An accepted or rejected presentation context after negotiation. */
export interface NegotiatedContext {
  id: number;
  abstractSyntax: string;
  /** The accepted transfer syntax (absent when rejected). */
  transferSyntax?: string;
  /** 0 acceptance, 1 user-rejection, 2 no-reason, 3 abstract syntax not supported, 4 transfer syntaxes not supported. */
  result: 0 | 1 | 2 | 3 | 4;
  /** SCP/SCU role selection outcome for this context's abstract syntax (defaults: requestor SCU, acceptor SCP). */
  requestorIsScu: boolean;
  requestorIsScp: boolean;
}

/** What both sides agreed on, known once the association is established. */
export interface NegotiatedAssociation {
  callingAet: string;
  calledAet: string;
  /** Contexts by ID, including rejected ones. */
  contexts: Map<number, NegotiatedContext>;
  /** Largest P-DATA-TF PDU (length field) the peer accepts; 0 = unlimited. */
  peerMaxPduLength: number;
  /** Largest P-DATA-TF PDU (length field) we accept. */
  ownMaxPduLength: number;
  /** Asynchronous operations window: invoked = ops we may have outstanding, performed = ops the peer may perform. 1/1 = synchronous. */
  maxOperationsInvoked: number;
  maxOperationsPerformed: number;
  peerImplementationClassUid?: string;
  peerImplementationVersionName?: string;
  /** User identity the requestor sent (acceptor side) — never logged with its secret. */
  userIdentity?: {
    type: number;
    primaryField: Buffer;
    secondaryField?: Buffer;
    positiveResponseRequested: boolean;
  };
  /** Added by the upper layer: the acceptor's user identity server response (requestor side, when one came). */
  userIdentityResponse?: Buffer;
  /** Added by the upper layer: SOP class extended negotiation as answered by the acceptor (service-class-application-information per SOP class). */
  extendedNegotiations?: { sopClassUid: string; applicationInfo: Buffer }[];
}

/** {@link ChannelCloseReason} `source` when no A-ABORT was exchanged: the transport closed or a timer expired. */
export const TRANSPORT_CLOSED_SOURCE = -1;

/** Why a channel closed. */
export type ChannelCloseReason =
  | { kind: 'released' }
  | {
      kind: 'aborted';
      /** 0 service user, 2 service provider; -1 (added by the upper layer) when no A-ABORT was exchanged: the transport closed or a timer expired. */
      source: number;
      reason: number;
      byPeer: boolean;
      message: string;
      /** Added by the upper layer: true when a timer (idle, ARTIM, response wait) ended the association. */
      timeout?: boolean;
    }
  | { kind: 'transport-error'; error: Error };

/**
 * An established association as a channel of PDVs. Implemented by the upper
 * layer; used by DIMSE.
 *
 * Events: `'pdvs'(pdvs: Pdv[])` one P-DATA-TF's PDVs in order;
 * `'releaseRequested'()` the peer sent A-RELEASE-RQ (answer with {@link respondRelease});
 * `'closed'(reason: ChannelCloseReason)` exactly once, last.
 */
export interface AssociationChannel {
  readonly negotiated: NegotiatedAssociation;
  /** Largest PDV data length we may send in one PDV (peer max PDU minus the 6-byte PDV header; capped when unlimited). */
  readonly maxSendPdvDataLength: number;
  /**
   * True when the channel never writes into a delivered PDV's `data` again (every receive buffer
   * is fresh): receivers may then keep the bytes without copying them. Absent = copy what you keep.
   */
  readonly pdvDataIsStable?: boolean;
  /**
   * True when the channel delivers PDVs on accepted presentation contexts only (it aborts the
   * association on any other): receivers need not check again. Absent = check.
   */
  readonly acceptedContextsOnly?: boolean;
  /**
   * True once this side sent A-RELEASE-RQ (Sta7 and after): P-DATA may still arrive (late
   * responses, PS3.8 AR-6) but none may be sent any more (PS3.8 7.2.2). Absent = never.
   */
  readonly releasing?: boolean;
  /**
   * Send PDVs, packed into as few P-DATA-TF PDUs as the peer max PDU allows. Resolves when the
   * transport accepted them (backpressure) and holds no reference to their `data` any more (it
   * was copied or written out), so the caller may then reuse those buffers. Rejects with `ERR_ASSOCIATION_NOT_OPEN`, having sent
   * nothing, when the association is not (or no longer) in a state that allows P-DATA.
   */
  sendPdvs(pdvs: Pdv[]): Promise<void>;
  /** Stop delivering `'pdvs'` (and stop reading the transport) until {@link resume}. */
  pause(): void;
  resume(): void;
  /** Requestor: A-RELEASE-RQ and wait for A-RELEASE-RP (handles release collision). */
  release(): Promise<void>;
  /** Answer a peer's A-RELEASE-RQ with A-RELEASE-RP and close. */
  respondRelease(): void;
  /** Send A-ABORT (source 0 = service user) and close the transport. */
  abort(reason?: number): void;
  on(event: 'pdvs', listener: (pdvs: Pdv[]) => void): this;
  on(event: 'releaseRequested', listener: () => void): this;
  on(event: 'closed', listener: (reason: ChannelCloseReason) => void): this;
  once(event: 'closed', listener: (reason: ChannelCloseReason) => void): this;
  off(event: string, listener: (...args: never[]) => void): this;
}
