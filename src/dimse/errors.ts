/** The typed errors of the DIMSE layer, one class per kind of failure, each with a stable `code`. */
import { DicomnetError, type KindedError } from '../errors.js';

/**
 * A command set that cannot be decoded (PS3.7 6.3.1, 9.3): truncated element,
 * wrong value length, missing required field. The association must be aborted.
 */
export class DimseMalformedCommandError extends DicomnetError implements KindedError {
  readonly kind = 'network' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_DIMSE_MALFORMED_COMMAND', message, options);
  }
}

/** Codes of {@link DimseProtocolError}. */
export type DimseProtocolErrorCode =
  | 'ERR_DIMSE_PDV_SEQUENCE'
  | 'ERR_DIMSE_UNKNOWN_CONTEXT'
  | 'ERR_DIMSE_COMMAND_TOO_LARGE'
  | 'ERR_DIMSE_DATASET_TOO_LARGE';

/**
 * The peer broke the DIMSE message rules of PS3.7 / PS3.8 Annex E (fragments out
 * of order, unknown presentation context, a data set larger than we accept).
 * The endpoint aborts the association when it sees one.
 */
export class DimseProtocolError extends DicomnetError implements KindedError {
  readonly kind = 'network' as const;
  declare readonly code: DimseProtocolErrorCode;

  constructor(code: DimseProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The association closed (released, aborted, transport failure) while a request or send was pending. */
export class DimseChannelClosedError extends DicomnetError implements KindedError {
  readonly kind = 'network' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_DIMSE_CHANNEL_CLOSED', message, options);
  }
}

/** Codes of {@link DimseUsageError}. */
export type DimseUsageErrorCode =
  | 'ERR_DIMSE_INVALID_COMMAND'
  | 'ERR_DIMSE_MESSAGE_ID_IN_USE'
  | 'ERR_DIMSE_CONTEXT_NOT_ACCEPTED'
  | 'ERR_DIMSE_CANCELLED_BEFORE_SEND';

/** The caller asked DIMSE for something it cannot do (an unencodable command, a rejected context, …). */
export class DimseUsageError extends DicomnetError implements KindedError {
  readonly kind = 'usage' as const;
  declare readonly code: DimseUsageErrorCode;

  constructor(code: DimseUsageErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The reason an incoming request's signal is aborted on C-CANCEL-RQ. */
export class DimseRequestCancelled extends DicomnetError implements KindedError {
  readonly kind = 'dimse' as const;

  constructor(readonly messageId: number) {
    super('ERR_DIMSE_CANCELLED', `the peer cancelled message ${messageId} (C-CANCEL-RQ)`);
  }
}
