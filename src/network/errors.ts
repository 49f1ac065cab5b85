/** The typed errors of the upper layer (PDU parsing, transport, rejection, abort), each with a stable `code`. */
import { DicomnetError, type KindedError } from '../errors.js';
import { describeAbortReason, describeAbortSource, describeRejectReason } from './pdu/reasons.js';

/** Stable codes of {@link PduParseError}. */
export type PduParseErrorCode =
  | 'ERR_PDU_TOO_LONG'
  | 'ERR_PDU_MALFORMED'
  | 'ERR_PDU_UNKNOWN_TYPE'
  | 'ERR_PDU_UNEXPECTED_PARAMETER'
  | 'ERR_PDU_UNRECOGNIZED_PARAMETER'
  | 'ERR_PDU_INVALID_PARAMETER';

/** Maps a parse failure to the A-ABORT reason PS3.8 9.3.8 asks for (source 2). */
const ABORT_REASON_BY_CODE: Record<PduParseErrorCode, number> = {
  ERR_PDU_TOO_LONG: 6,
  ERR_PDU_MALFORMED: 6,
  ERR_PDU_UNKNOWN_TYPE: 1,
  ERR_PDU_UNEXPECTED_PARAMETER: 5,
  ERR_PDU_UNRECOGNIZED_PARAMETER: 4,
  ERR_PDU_INVALID_PARAMETER: 6,
};

/** Bytes received from the peer are not a valid PDU; the association is aborted. */
export class PduParseError extends DicomnetError implements KindedError {
  readonly kind = 'network' as const;
  declare readonly code: PduParseErrorCode;

  constructor(code: PduParseErrorCode, message: string) {
    super(code, message);
  }

  /** The A-ABORT reason (source 2, service provider) this failure is answered with. */
  get abortReason(): number {
    return ABORT_REASON_BY_CODE[this.code];
  }
}

/** Stable codes of {@link NetworkError}. */
export type NetworkErrorCode =
  // connecting and listening
  | 'ERR_CONNECTION_REFUSED'
  | 'ERR_CONNECT_TIMEOUT'
  | 'ERR_CONNECT_FAILED'
  | 'ERR_HOST_NOT_FOUND'
  | 'ERR_HOST_UNREACHABLE'
  | 'ERR_ADDRESS_IN_USE'
  | 'ERR_ADDRESS_NOT_AVAILABLE'
  | 'ERR_PORT_NOT_PERMITTED'
  // an association that ended or is not there
  | 'ERR_CONNECTION_CLOSED'
  | 'ERR_CONNECTION_RESET'
  | 'ERR_ASSOCIATION_CLOSED'
  | 'ERR_ASSOCIATION_TIMEOUT'
  | 'ERR_ASSOCIATION_NOT_OPEN'
  | 'ERR_NOT_ASSOCIATED'
  | 'ERR_RELEASE_PENDING';

/** Transport-level failure: connection refused, reset, timed out, closed early. */
export class NetworkError extends DicomnetError implements KindedError {
  readonly kind = 'network' as const;
  declare readonly code: NetworkErrorCode;

  constructor(code: NetworkErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The peer (or its provider) answered A-ASSOCIATE-RQ with A-ASSOCIATE-RJ. */
export class AssociationRejectedError extends DicomnetError implements KindedError {
  readonly kind = 'network' as const;
  /** Acceptor side: the AE titles of the rejected request (for logs and the audit trail). */
  request?: { callingAet: string; calledAet: string };

  constructor(
    /** 1 rejected-permanent, 2 rejected-transient. */
    readonly result: number,
    /** 1 service user, 2 service provider (ACSE), 3 service provider (presentation). */
    readonly source: number,
    readonly reason: number,
    /** Appended to the message (e.g. a hint of what to try). */
    detail?: string,
  ) {
    super(
      'ERR_ASSOCIATION_REJECTED',
      `association rejected${result === 2 ? ' (transient)' : ''}: ${describeRejectReason(source, reason)} (reason ${reason})${detail ? `; ${detail}` : ''}`,
    );
  }
}

/** The association was aborted (A-ABORT received or sent, or transport lost). */
export class AssociationAbortedError extends DicomnetError implements KindedError {
  readonly kind = 'network' as const;

  constructor(
    /** 0 service user, 2 service provider; -1 when the transport closed without A-ABORT. */
    readonly source: number,
    readonly reason: number,
    /** True when the peer aborted, false when we did. */
    readonly byPeer: boolean,
    detail?: string,
  ) {
    super(
      'ERR_ASSOCIATION_ABORTED',
      detail ??
        `association aborted by ${byPeer ? 'peer' : 'us'}: ${describeAbortSource(source)}, ${describeAbortReason(source, reason)}`,
    );
  }
}
