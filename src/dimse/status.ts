/** Status codes (0000,0900): the one list of them, their categories and their names. */
import { DicomnetError, type KindedError } from '../errors.js';
import { hex4, serviceName } from './command-field.js';

/**
 * Status (0000,0900) values: the general ones of PS3.7 Annex C and the
 * service-specific ones of PS3.4 (Storage B.2.3, Query/Retrieve C.4, N-services
 * PS3.7 10.1). Some codes mean different things for different services
 * (0xB000, 0xC000): {@link describeStatus} takes the command field to tell them apart.
 */
export const Status = {
  Success: 0x0000,
  /** General warning (e.g. N-GET: requested optional attributes are not supported). */
  Warning: 0x0001,
  Pending: 0xff00,
  /** Pending: one or more optional keys were not supported. */
  PendingWarning: 0xff01,
  Cancel: 0xfe00,

  // Storage (PS3.4 B.2.3) and Query/Retrieve (PS3.4 C.4)
  /** A7xx: refused, out of resources. */
  OutOfResources: 0xa700,
  /** Q/R: refused, out of resources — unable to calculate number of matches. */
  UnableToCalculateNumberOfMatches: 0xa701,
  /** Q/R: refused, out of resources — unable to perform sub-operations. */
  UnableToPerformSubOperations: 0xa702,
  /** C-MOVE: refused, move destination unknown. */
  MoveDestinationUnknown: 0xa801,
  /** Storage A9xx: data set does not match SOP class. */
  DataSetDoesNotMatchSopClass: 0xa900,
  /** Q/R: identifier does not match SOP class. */
  IdentifierDoesNotMatchSopClass: 0xa900,
  /** Storage Cxxx: cannot understand. */
  CannotUnderstand: 0xc000,
  /** Q/R Cxxx: unable to process. */
  UnableToProcess: 0xc000,
  /** Storage warning: coercion of data elements. */
  CoercionOfDataElements: 0xb000,
  /** C-MOVE/C-GET warning: sub-operations complete, one or more failures or warnings. */
  SubOperationsCompleteWithFailures: 0xb000,
  /** Storage warning: elements discarded. */
  ElementsDiscarded: 0xb006,
  /** Storage warning: data set does not match SOP class. */
  DataSetDoesNotMatchSopClassWarning: 0xb007,

  // N-services and general failures (PS3.7 C.4, 10.1)
  NoSuchAttribute: 0x0105,
  InvalidAttributeValue: 0x0106,
  /** Warning. */
  AttributeListError: 0x0107,
  ProcessingFailure: 0x0110,
  DuplicateSopInstance: 0x0111,
  NoSuchSopInstance: 0x0112,
  NoSuchEventType: 0x0113,
  NoSuchArgument: 0x0114,
  InvalidArgumentValue: 0x0115,
  /** Warning. */
  AttributeValueOutOfRange: 0x0116,
  InvalidObjectInstance: 0x0117,
  NoSuchSopClass: 0x0118,
  ClassInstanceConflict: 0x0119,
  MissingAttribute: 0x0120,
  MissingAttributeValue: 0x0121,
  SopClassNotSupported: 0x0122,
  NoSuchAction: 0x0123,
  NotAuthorized: 0x0124,
  DuplicateInvocation: 0x0210,
  UnrecognizedOperation: 0x0211,
  MistypedArgument: 0x0212,
  ResourceLimitation: 0x0213,
} as const;

/** What a status means to the requestor (PS3.7 C.1–C.5). */
export type StatusCategory = 'success' | 'warning' | 'failure' | 'cancel' | 'pending';

/** Classify a status: 0000 success; FF00/FF01 pending; FE00 cancel; 0001, 0107, 0116, Bxxx warning; anything else failure. */
export function statusCategory(code: number): StatusCategory {
  if (code === 0x0000) return 'success';
  if (code === 0xff00 || code === 0xff01) return 'pending';
  if (code === 0xfe00) return 'cancel';
  if (code === 0x0001 || code === 0x0107 || code === 0x0116 || (code & 0xf000) === 0xb000) return 'warning';
  return 'failure';
}

const GENERAL_MEANINGS = new Map<number, string>([
  [0x0000, 'Success'],
  [0x0001, 'Warning: Requested optional attributes are not supported'],
  [0xff00, 'Pending'],
  [0xff01, 'Pending: one or more optional keys were not supported'],
  [0xfe00, 'Cancel: operation terminated due to a cancel request'],
  [0x0105, 'Failure: No such attribute'],
  [0x0106, 'Failure: Invalid attribute value'],
  [0x0107, 'Warning: Attribute list error'],
  [0x0110, 'Failure: Processing failure'],
  [0x0111, 'Failure: Duplicate SOP Instance'],
  [0x0112, 'Failure: No such SOP Instance'],
  [0x0113, 'Failure: No such event type'],
  [0x0114, 'Failure: No such argument'],
  [0x0115, 'Failure: Invalid argument value'],
  [0x0116, 'Warning: Attribute value out of range'],
  [0x0117, 'Failure: Invalid object instance'],
  [0x0118, 'Failure: No such SOP Class'],
  [0x0119, 'Failure: Class-instance conflict'],
  [0x0120, 'Failure: Missing attribute'],
  [0x0121, 'Failure: Missing attribute value'],
  [0x0122, 'Refused: SOP Class not supported'],
  [0x0123, 'Failure: No such action'],
  [0x0124, 'Refused: Not authorized'],
  [0x0210, 'Failure: Duplicate invocation'],
  [0x0211, 'Failure: Unrecognized operation'],
  [0x0212, 'Failure: Mistyped argument'],
  [0x0213, 'Failure: Resource limitation'],
]);

const STORAGE_MEANINGS = new Map<number, string>([
  [0xb000, 'Warning: Coercion of data elements'],
  [0xb006, 'Warning: Elements discarded'],
  [0xb007, 'Warning: Data Set does not match SOP Class'],
]);

const QUERY_RETRIEVE_MEANINGS = new Map<number, string>([
  [0xa700, 'Refused: Out of Resources'],
  [0xa701, 'Refused: Out of Resources - Unable to calculate number of matches'],
  [0xa702, 'Refused: Out of Resources - Unable to perform sub-operations'],
  [0xa801, 'Refused: Move Destination unknown'],
  [0xa900, 'Failed: Identifier does not match SOP Class'],
  [0xb000, 'Warning: Sub-operations Complete - One or more Failures or Warnings'],
]);

const RETRIEVE_FIELDS = new Set([0x0010, 0x0020, 0x0021]);

/**
 * The meaning of a status as PS3.4 / PS3.7 word it, e.g. `Refused: Out of Resources`.
 * `commandField` (request or response) selects the service-specific meaning of shared codes.
 */
export function describeStatus(code: number, commandField?: number): string {
  const service = commandField === undefined ? undefined : commandField & 0x7fff;
  const retrieve = service !== undefined && RETRIEVE_FIELDS.has(service);
  const specific = retrieve ? QUERY_RETRIEVE_MEANINGS.get(code) : STORAGE_MEANINGS.get(code);
  if (specific !== undefined) return specific;
  const general = GENERAL_MEANINGS.get(code);
  if (general !== undefined) return general;
  const range = code & 0xff00;
  if (range === 0xa700) return 'Refused: Out of Resources';
  if (range === 0xa900) {
    return retrieve
      ? 'Failed: Identifier does not match SOP Class'
      : 'Error: Data Set does not match SOP Class';
  }
  if ((code & 0xf000) === 0xc000) return retrieve ? 'Failed: Unable to process' : 'Error: Cannot understand';
  if ((code & 0xf000) === 0xb000) return 'Warning';
  if ((code & 0xf000) === 0xa000) return 'Failure';
  return `Unknown ${statusCategory(code)} status`;
}

/** Statuses that refuse a request for who asked (Not authorized, Move Destination unknown). */
const ACCESS_REFUSALS = new Set([0x0124, 0xa801]);

/**
 * A DIMSE response carried a status that is not success. `status` is the raw code,
 * `commandField` the request (or response) field it answered.
 */

export class DimseStatusError extends DicomnetError implements KindedError {
  readonly kind = 'dimse' as const;
  readonly status: number;
  readonly commandField: number;
  readonly errorComment: string | undefined;
  readonly category: StatusCategory;

  constructor(status: number, commandField: number, errorComment?: string) {
    const category = statusCategory(status);
    const verb =
      category === 'warning'
        ? 'completed with a warning'
        : category === 'cancel'
          ? 'was cancelled'
          : 'failed';
    const comment = errorComment ? `: ${errorComment}` : '';
    // an access refusal with its reason reads as one: "C-MOVE refused: DEST is not … (0xA801)"
    const accessRefusal = errorComment && ACCESS_REFUSALS.has(status);
    super(
      'ERR_DIMSE_STATUS',
      accessRefusal
        ? `${serviceName(commandField)} refused: ${errorComment} (0x${hex4(status)})`
        : `${serviceName(commandField)} ${verb}: status 0x${hex4(status)} (${describeStatus(status, commandField)})${comment}`,
    );
    this.status = status;
    this.commandField = commandField;
    this.errorComment = errorComment;
    this.category = category;
  }
}
