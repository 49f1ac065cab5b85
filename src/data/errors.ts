import { DicomnetError, type KindedError } from '../errors.js';

/** Stable codes of {@link DicomParseError}. */
export type DicomParseErrorCode =
  | 'ERR_TRUNCATED'
  | 'ERR_LENGTH_PAST_END'
  | 'ERR_ODD_LENGTH'
  | 'ERR_NESTING_TOO_DEEP'
  | 'ERR_UNKNOWN_VR'
  | 'ERR_BAD_MAGIC'
  | 'ERR_BAD_DELIMITER'
  | 'ERR_BAD_FILE_META'
  | 'ERR_UNKNOWN_TRANSFER_SYNTAX'
  | 'ERR_BAD_VALUE'
  | 'ERR_BAD_JSON'
  /** A DICOM JSON BulkDataURI that no resolver was given for, or that the resolver refused. */
  | 'ERR_BULK_URI_REFUSED'
  | 'ERR_UNKNOWN_KEYWORD'
  | 'ERR_DEFLATE';

/**
 * Input that is not well-formed DICOM: the message names the tag, the byte offset and the cause.
 * `kind` is 'parse', so the CLI exits 2.
 */
export class DicomParseError extends DicomnetError implements KindedError {
  readonly kind = 'parse' as const;
  declare readonly code: DicomParseErrorCode;
  /** Tag of the element being read when the error happened, if any. */
  readonly tag: number | undefined;
  /** Byte offset in the input (file or stream) where the error happened, if known. */
  readonly offset: number | undefined;

  constructor(
    code: DicomParseErrorCode,
    message: string,
    details: { tag?: number; offset?: number; cause?: unknown } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.tag = details.tag;
    this.offset = details.offset;
  }
}
