import { type ChildProcess, spawn } from 'node:child_process';
import { cliEntry } from '../helpers/cli.js';
import { dcmtkEnv, waitForPort } from '../helpers/dcmtk.js';

/** A `dicomnet serve` child process. */
export interface ServeProcess {
  child: ChildProcess;
  stdout: () => string;
  /** The log (JSON lines on stderr). */
  stderr: () => string;
  /** Parsed JSON log lines so far. */
  logLines: () => Record<string, unknown>[];
  /** Send a signal and wait for the exit code (SIGKILL after `timeoutMs`). */
  stop: (signal?: NodeJS.Signals, timeoutMs?: number) => Promise<number | null>;
  /** kill -9. */
  kill9: () => Promise<void>;
}

/** Start `dicomnet serve ARGS` and wait until it printed its ports and listens on `waitPort`. */
export async function startServe(
  args: string[],
  options: {
    cwd?: string;
    waitPort: number;
    timeoutMs?: number;
    /** Added to the child's environment (DCMTK's, with TCP_NODELAY). */
    env?: NodeJS.ProcessEnv;
    /** Script to run (default the compiled CLI entry; `bin/dicomnet.js` as `npm start` does). */
    entry?: string;
  },
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [options.entry ?? cliEntry, 'serve', ...args], {
    cwd: options.cwd,
    env: { ...dcmtkEnv(), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await Promise.race([
    waitForPort(options.waitPort, options.timeoutMs ?? 20_000),
    exited.then((code) => {
      throw new Error(`dicomnet serve exited early (${code}): ${out}\n${err}`);
    }),
  ]);
  // the banner is printed once every listener is up, a moment after the first port opens
  const bannerBy = Date.now() + (options.timeoutMs ?? 20_000);
  while (!out.includes('dicomnet serve: AE') && child.exitCode === null && Date.now() < bannerBy)
    await new Promise((r) => setTimeout(r, 20));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    logLines: () =>
      err
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: async (signal = 'SIGTERM', timeoutMs = 15_000) => {
      if (!alive()) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    kill9: async () => {
      if (!alive()) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
