/** The upper layer's public surface: what other layers and the package index import from network/. */
export type {
  AssociationChannel,
  ChannelCloseReason,
  NegotiatedAssociation,
  NegotiatedContext,
  Pdv,
} from './channel.js';
export {
  AssociationAbortedError,
  AssociationRejectedError,
  NetworkError,
  type NetworkErrorCode,
  PduParseError,
  type PduParseErrorCode,
} from './errors.js';
export {
  DICOM_APPLICATION_CONTEXT,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION_NAME,
} from './implementation.js';
export {
  type PresentationContextProposal,
  type RequestAssociationParams,
  type UserIdentityProposal,
  buildAssociateRq,
  negotiatedFromAc,
  requestAssociation,
} from './requestor.js';
export {
  type AcceptorPolicy,
  type AssociationDecision,
  type AssociationRejection,
  type AssociationRequest,
  acceptAssociation,
  answerAssociateRq,
  negotiateContexts,
} from './acceptor.js';
export { type ConnectTcpOptions, connectTcp } from './tcp.js';
export { DEFAULT_MAX_PDU_LENGTH } from './negotiation.js';
export { DEFAULT_ARTIM_TIMEOUT_MS, UNLIMITED_PEER_PDU_CAP } from './association-options.js';
export { ByteBudget } from './byte-budget.js';
export * from './pdu/types.js';
export { decodePDataParts, decodePdu, decodePduBody } from './pdu/decode.js';
export { encodePdu, encodePDataTfParts } from './pdu/encode.js';
export { DEFAULT_HARD_MAX_PDU_LENGTH, type PduFrame, PduFramer, type PduFramerLimits } from './pdu/framer.js';
export {
  describeAbortReason,
  describeAbortSource,
  describeContextResult,
  describeRejectReason,
} from './pdu/reasons.js';
export {
  ACTIONS,
  type ActionName,
  BLANK_CELLS,
  type BlankCell,
  type Cell,
  EVENTS,
  type FsmEvent,
  isBlankCell,
  STATES,
  type State,
  transition,
} from './fsm.js';
