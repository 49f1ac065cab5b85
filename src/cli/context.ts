import type { Writable } from 'node:stream';

/** What every command gets besides its arguments: where to write, so tests can capture it. */
export interface CliContext {
  stdout: Writable;
  stderr: Writable;
  /** Exit code the command wants (set by actions; 0 by default). */
  exitCode: number;
}
