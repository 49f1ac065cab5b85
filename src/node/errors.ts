import { DicomnetError, type ErrorKind, type KindedError } from '../errors.js';

/** Stable codes of {@link StorageError}. */
export type StorageErrorCode =
  /** The disk or the user's quota is full (ENOSPC / EDQUOT): the SCP answers C-STORE 0xA700. */
  | 'ERR_STORAGE_FULL'
  /** A UID that would name a file is not a plain DICOM UID (digits and dots, 1-64 chars). */
  | 'ERR_STORAGE_BAD_UID'
  /** The received data set lacks what storing it needs (e.g. no StudyInstanceUID). */
  | 'ERR_STORAGE_BAD_INSTANCE'
  /** A path handed to the storage lies outside its root. */
  | 'ERR_STORAGE_BAD_PATH'
  /** Any other file-system failure while storing (the cause is attached). */
  | 'ERR_STORAGE_IO';

/** A failure of the instance storage; `code` says which. */
export class StorageError extends DicomnetError implements KindedError {
  declare readonly code: StorageErrorCode;
  readonly kind: ErrorKind;

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    // A bad UID comes from the peer's data set: a DIMSE-level refusal. Disk trouble is ours.
    this.kind = code === 'ERR_STORAGE_BAD_UID' || code === 'ERR_STORAGE_BAD_INSTANCE' ? 'dimse' : 'internal';
  }
}

/**
 * A C-FIND / C-MOVE / C-GET identifier the index cannot evaluate (malformed value,
 * unknown level, wildcard in a UID…). The SCP answers with a failure status
 * (0xA900 "Identifier does not match SOP Class" or 0xC000 "Unable to process").
 */
export class QueryError extends DicomnetError implements KindedError {
  declare readonly code: 'ERR_QUERY_INVALID' | 'ERR_QUERY_TOO_MANY_RESULTS';
  readonly kind = 'dimse' as const;
  /** The keyword of the offending key, when one key is to blame. */
  readonly keyword: string | undefined;
  /** The failure status to answer, when not the service's default (0xC000). */
  readonly status: number | undefined;

  constructor(
    code: 'ERR_QUERY_INVALID' | 'ERR_QUERY_TOO_MANY_RESULTS',
    message: string,
    keyword?: string,
    status?: number,
  ) {
    super(code, message);
    this.keyword = keyword;
    this.status = status;
  }
}

/** An unusable configuration file or value; the message names the path of the bad field. */
export class ConfigError extends DicomnetError implements KindedError {
  readonly kind = 'usage' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CONFIG', message, options);
  }
}

/** The index database could not be opened or migrated. */
export class IndexError extends DicomnetError implements KindedError {
  readonly kind = 'internal' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_INDEX', message, options);
  }
}

/**
 * A package `serve` needs is not installed (better-sqlite3 is an optional dependency, left out
 * by `npm install --omit=optional`); the message names what to install.
 */
export class MissingDependencyError extends DicomnetError implements KindedError {
  readonly kind = 'usage' as const;

  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MISSING_DEPENDENCY', message, options);
  }
}
