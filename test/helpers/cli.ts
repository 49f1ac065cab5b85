import { fileURLToPath } from 'node:url';
import { dcmtkEnv, type RunResult, run } from './dcmtk.js';

/** Path of the compiled CLI entry (works from whichever dist directory the tests run in). */
export const cliEntry = fileURLToPath(new URL('../../src/cli/run.js', import.meta.url));

/** The checkout these tests were built from (dist/ lives in it). */
export const checkoutRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** `bin/dicomnet.js`, the entry `npm start`, `npx dicomnet` and a global install run. */
export const binEntry = fileURLToPath(new URL('../../../bin/dicomnet.js', import.meta.url));

/** Run a command line as a user pastes it into bash, in `cwd`. */
export function runShell(
  line: string,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return run('bash', ['-c', line], { ...options, env: dcmtkEnv() });
}

/** Run `dicomnet ARGS` in a child process. */
export function runCli(
  args: string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return run(process.execPath, [cliEntry, ...args], { ...options, env: dcmtkEnv() });
}
