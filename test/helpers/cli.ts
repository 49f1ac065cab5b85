import { fileURLToPath } from 'node:url';
import { dcmtkEnv, type RunResult, run } from './dcmtk.js';

/** Path of the compiled CLI entry (works from whichever dist directory the tests run in). */
export const cliEntry = fileURLToPath(new URL('../../src/cli/run.js', import.meta.url));

/** Run `dicomnet ARGS` in a child process. */
export function runCli(
  args: string[],
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return run(process.execPath, [cliEntry, ...args], { ...options, env: dcmtkEnv() });
}
