import { errorKind } from '../errors.js';

/** Exit codes of the CLI contract (DESIGN.md). */
export const ExitCode = {
  Success: 0,
  DimseFailure: 1,
  Usage: 2,
  Network: 3,
  Tls: 4,
  Internal: 70,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Map any thrown value to its exit code. */
export function exitCodeFor(err: unknown): ExitCodeValue {
  switch (errorKind(err)) {
    case 'usage':
    case 'parse':
      return ExitCode.Usage;
    case 'dimse':
      return ExitCode.DimseFailure;
    case 'network':
      return ExitCode.Network;
    case 'tls':
      return ExitCode.Tls;
    default:
      return ExitCode.Internal;
  }
}

/** The one stderr line that names the cause of a failure. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // the library names its options; the CLI user has --passphrase-file
  if ((err as { code?: string }).code === 'ERR_TLS_KEY_PASSWORD')
    return err.message.replace(
      '(passphrase or onPrivateKeyPassword)',
      '(give it with --passphrase-file FILE)',
    );
  return err.message;
}
