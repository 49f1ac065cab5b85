/** The DIMSE layer's public surface: what services and the package index import from dimse/. */
export {
  CommandField,
  type CommandFieldValue,
  commandFieldName,
  hex4,
  isResponse,
  Priority,
  responseFieldFor,
  serviceName,
} from './command-field.js';
export {
  type CommandSet,
  DATASET_PRESENT,
  decodeCommandSet,
  encodeCommandSet,
  NO_DATASET,
  type UnknownCommandElement,
} from './command-set.js';
export { DimseEndpoint, type DimseEndpointOptions } from './endpoint.js';
export type {
  DimseRequest,
  IncomingMessage,
  OutgoingMessage,
  RequestContext,
  RequestHandler,
} from './messages.js';
export { responseTo } from './responses.js';
export {
  DimseChannelClosedError,
  DimseMalformedCommandError,
  DimseProtocolError,
  type DimseProtocolErrorCode,
  DimseRequestCancelled,
  DimseUsageError,
  type DimseUsageErrorCode,
} from './errors.js';
export {
  type DatasetSource,
  type PositionalSource,
  fragment,
  type PdvSender,
  type SendProgress,
  sendMessage,
} from './fragmenter.js';
export {
  DEFAULT_MAX_BUFFERED_DATASET_BYTES,
  DEFAULT_MAX_COMMAND_BYTES,
  type DatasetSinkChooser,
  type FlowControl,
  MessageReassembler,
  type ReassembledMessage,
  type ReassemblerOptions,
} from './reassembler.js';
export { DimseStatusError, describeStatus, Status, type StatusCategory, statusCategory } from './status.js';
