/**
 * Base class of every error dicomnet throws on purpose. Callers branch on `code`
 * (stable, machine-readable); people read `message` (names the cause).
 */
export abstract class DicomnetError extends Error implements KindedError {
  /** Stable machine-readable error code, e.g. `ERR_PDU_TOO_LONG`. */
  readonly code: string;
  /** What kind of failure it is (every dicomnet error has one; the CLI's exit code follows it). */
  abstract readonly kind: ErrorKind;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * What kind of failure an error is; the CLI maps it to an exit code
 * (usage/parse 2, dimse 1, network 3, tls 4).
 */
export type ErrorKind = 'usage' | 'parse' | 'dimse' | 'network' | 'tls' | 'internal';

/** Errors that know their {@link ErrorKind}; every layer's typed errors implement this. */
export interface KindedError {
  readonly kind: ErrorKind;
}

/** Bad command-line usage or an unusable input given by the user. */
export class UsageError extends DicomnetError implements KindedError {
  readonly kind = 'usage' as const;
}

export function errorKind(err: unknown): ErrorKind {
  if (err && typeof err === 'object' && 'kind' in err) {
    const k = (err as { kind: unknown }).kind;
    if (k === 'usage' || k === 'parse' || k === 'dimse' || k === 'network' || k === 'tls') return k;
  }
  return 'internal';
}

/** `err` as an Error: itself when it is one, else an Error whose message is its string form (for `catch (err: unknown)`). */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
