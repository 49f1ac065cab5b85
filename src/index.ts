/**
 * dicomnet: DICOM networking with first-class TLS.
 *
 * The public API: {@link connect} and {@link DicomServer} for associations,
 * the data layer for data sets and Part 10 files, the TLS layer for security
 * profiles and the development PKI, and the typed errors every layer throws.
 */

// errors
export { DicomnetError, type ErrorKind, UsageError } from './errors.js';
export { DicomParseError, type DicomParseErrorCode } from './data/index.js';
export {
  AssociationAbortedError,
  AssociationRejectedError,
  NetworkError,
  type NetworkErrorCode,
  PduParseError,
  type AssociationRejection,
} from './network/index.js';
export {
  DimseStatusError,
  describeStatus,
  Status,
  type StatusCategory,
  statusCategory,
} from './dimse/index.js';
export { TlsError, type TlsErrorCode } from './tls/index.js';
export { ServiceError } from './services/errors.js';
export { AdmissionRefusedError, type AdmissionRefusedCode } from './services/admission.js';

// associations: requestor and acceptor
export {
  Association,
  type ConnectOptions,
  connect,
  type EventReport,
  type Query,
  type RetrieveProgress,
} from './services/client.js';
export {
  type AssociationInfo,
  type AccessRefusal,
  DicomServer,
  type DicomServerEvents,
  type DicomServerOptions,
  type HandlerErrorContext,
  type ListenOptions,
  type MoveTarget,
  type NRequest,
  type NResponse,
  type RequestContext,
  type RetrieveFiles,
  type RetrieveOutcome,
  type ServerAssociation,
  type ServerHandlers,
  type ServerRejection,
  type StoreHandlerResult,
  type StoreRequest,
} from './services/server.js';
export {
  ACCESS_SERVICES,
  type AccessDecision,
  type AccessPolicy,
  type AccessRequest,
  type AccessService,
  DEFAULT_AUTHENTICATED_PEER_SERVICES,
  DEFAULT_UNKNOWN_PEER_SERVICES,
  decideAccess,
  type PeerAccess,
  type PeerKind,
  peerKind,
} from './services/authorization.js';
export type { ReceivedInstance } from './services/store-sink.js';
export type { StoreOptions, StoreResult } from './services/store-scu.js';
export {
  commonStorageContexts,
  defaultContexts,
  type ProposedContext,
  serviceContexts,
  storageContextsFor,
} from './services/presentation.js';
export { isStorageSopClass, type QueryModel, SopClass } from './services/sop-classes.js';
export type { AssociationChannel, NegotiatedAssociation, NegotiatedContext, Pdv } from './network/channel.js';
export { CommandField, type CommandSet, Priority } from './dimse/index.js';

// data layer
export {
  type BulkDataRef,
  type BulkDataResolver,
  type DataElement,
  Dataset,
  type DicomJson,
  datasetFromJson,
  datasetFromKeywords,
  datasetToJson,
  fileBulkDataResolver,
  type FromJsonOptions,
  decodeDataset,
  encodeDataset,
  encodeFileMetaInformation,
  formatTag,
  lookupTag,
  type Part10File,
  type Part10Header,
  readPart10,
  readPart10Header,
  type Tag,
  TransferSyntax,
  tagForKeyword,
  transcode,
  transferSyntaxInfo,
  type VR,
  writePart10,
} from './data/index.js';

// TLS and PKI
export type * from './tls/types.js';
export {
  certificateMatchesIdentity,
  createDevelopmentPki,
  type DevelopmentPki,
  formatSecureLink,
  listProfileCiphers,
  SECURITY_PROFILES,
} from './tls/index.js';

// logging
export { createLogger, type Logger, silentLogger } from './log.js';

// security audit trail (PS3.15 Annex A / IHE ATNA, RFC 5425 syslog over TLS)
export {
  AuditConfigError,
  type AuditMessage,
  type AuditSink,
  AuditFileSink,
  auditMessageXml,
  SyslogAuditSink,
  type SyslogTlsOptions,
  SyslogTlsSender,
  type SyslogTlsStats,
} from './audit/index.js';
