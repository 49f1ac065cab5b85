import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Smoke mode: small sizes so CI can check the benchmarks still run. */
export const SMOKE = process.env.BENCH_SMOKE === '1';

/**
 * A fresh work directory for one benchmark: on tmpfs (/dev/shm) unless BENCH_TMPDIR names another
 * place, so the network rows compare the DICOM stacks rather than the disk. On this machine's
 * ext4, creating a file in a block group with many recently deleted inodes costs up to 2 ms of
 * kernel CPU (ext4's recently_deleted scan), and which side pays it depended on run order.
 * BENCH_TMPDIR=/tmp measures on disk.
 */
export function benchWorkDir(name: string): string {
  const root = process.env.BENCH_TMPDIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  return mkdtempSync(join(root, `dicomnet-bench-${name}-`));
}

/** Path of a compiled bench helper script next to this file. */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

/**
 * Environment of every child: DCMTK without Nagle, and the thread pool size the `dicomnet`
 * command (bin/dicomnet.js) sets for itself, since the benchmarks spawn the compiled entry.
 */
const CHILD_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  TCP_NODELAY: '1',
  UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16',
};

/** Path of the compiled CLI entry. */
export const cliEntry = fileURLToPath(new URL('../src/cli/run.js', import.meta.url));

/** Run a command to completion; resolves with wall time in ms and its output. */
export function timed(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ ms: number; code: number | null; out: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(cmd, args, {
      env: { ...CHILD_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('close', (code) => resolve({ ms: performance.now() - started, code, out }));
  });
}

/** Start a long-running child and wait for a line matching `ready` on its stdout. */
export function startChild(
  cmd: string,
  args: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; out: () => string; stop: () => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...CHILD_ENV, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let done = false;
    const onData = (d: Buffer) => {
      out += d.toString();
      if (!done && ready.test(out)) {
        done = true;
        resolve({
          child,
          out: () => out,
          stop: () =>
            new Promise<string>((res) => {
              child.once('close', () => res(out));
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      if (!done) reject(new Error(`${cmd} exited (${code}) before it was ready:\n${out}`));
    });
  });
}

/** Print a table of rows (first row = header). */
export function printTable(rows: (string | number)[][]): void {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length))) ?? [];
  for (const [n, r] of rows.entries()) {
    console.log(r.map((c, i) => String(c).padEnd(widths[i] ?? 0)).join('  '));
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

/** ratio a/b with two decimals. */
export function ratio(a: number, b: number): string {
  return b === 0 ? 'n/a' : `${(a / b).toFixed(2)}x`;
}

/** How often each short measurement is repeated (the best run counts): loopback timings are noisy. */
export const REPEAT = SMOKE ? 1 : Number(process.env.BENCH_REPEAT ?? 3);

/** Run `measure` {@link REPEAT} times and keep the fastest (smallest `ms`). */
export async function bestOf<T extends { ms: number }>(
  measure: () => Promise<T>,
  times = REPEAT,
): Promise<T> {
  let best: T | undefined;
  for (let i = 0; i < times; i++) {
    const r = await measure();
    if (!best || r.ms < best.ms) best = r;
  }
  return best as T;
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** One row of {@link interleavedRounds}: rate and extra text of one run. */
export interface RoundResult {
  rate: number;
  link?: string;
}

/**
 * Short rows measured in rounds ({@link REPEAT}): each round runs the baseline and then every
 * case once, so each ratio comes from a baseline measured moments before. The result is the
 * median rate and the median per-round ratio. This VM's speed drifts from minute to minute: a
 * baseline measured once at the start moved its ratios by up to ±30% from run to run. Each row
 * also keeps its per-round ratios, in the order of the rounds.
 */
export async function interleavedRounds(
  baseline: () => Promise<RoundResult>,
  cases: readonly (readonly [string, () => Promise<RoundResult>])[],
  rounds = REPEAT,
): Promise<{
  base: number;
  rows: { name: string; rate: number; ratio: number; ratios: number[]; link?: string }[];
}> {
  const bases: number[] = [];
  const runs = cases.map(([name, run]) => ({
    name,
    run,
    rates: [] as number[],
    ratios: [] as number[],
    link: '',
  }));
  for (let r = 0; r < rounds; r++) {
    const b = (await baseline()).rate;
    bases.push(b);
    for (const c of runs) {
      const got = await c.run();
      c.rates.push(got.rate);
      c.ratios.push(b > 0 ? got.rate / b : 0);
      c.link ||= got.link ?? '';
    }
  }
  return {
    base: median(bases),
    rows: runs.map((c) => ({
      name: c.name,
      rate: median(c.rates),
      ratio: median(c.ratios),
      ratios: c.ratios,
      link: c.link,
    })),
  };
}

/**
 * The 130 KB rows of the network and TLS benchmarks: storescu → storescp as the baseline and the
 * four dicomnet pairings, in {@link interleavedRounds}. With `tls` the DCMTK names carry "+tls"
 * and each row gets a fifth column, the negotiated link.
 */
export async function smallStoreRows(options: {
  storescu: (port: number) => Promise<RoundResult>;
  ourScu: (port: number, window: number) => Promise<RoundResult>;
  storescpPort: number;
  scpPort: number;
  tls: boolean;
}): Promise<string[][]> {
  const { storescu, ourScu, storescpPort, scpPort, tls } = options;
  const t = tls ? ' +tls' : '';
  const rounds = await interleavedRounds(
    () => storescu(storescpPort),
    [
      [`dicomnet SCU → storescp${t}`, () => ourScu(storescpPort, 1)],
      [`storescu${t} → dicomnet SCP`, () => storescu(scpPort)],
      ['dicomnet SCU → dicomnet SCP', () => ourScu(scpPort, 1)],
      ['dicomnet SCU → dicomnet SCP, async window 8', () => ourScu(scpPort, 8)],
    ],
  );
  const row = (name: string, rate: number, ratio: string, link = '') => {
    const cells = [`130 KB: ${name}`, rate.toFixed(0), 'inst/s', ratio];
    return tls ? [...cells, link] : cells;
  };
  return [
    row(`storescu${t} → storescp${t} (DCMTK baseline)`, rounds.base, '1.00x'),
    ...rounds.rows.map((r) => row(r.name, r.rate, `${r.ratio.toFixed(2)}x`, r.link)),
  ];
}

/** DCMTK's largest --max-pdu, given to every storescp and storescu of the benchmarks. */
export const DCMTK_MAX_PDU = '131072';

/** Empty (recreate) each directory: every store run starts from empty receive directories. */
export function emptyDirs(dirs: readonly string[]): void {
  for (const dir of dirs) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
  }
}

/**
 * The two runners of the 130 KB rows: storescu and the dicomnet bench client, each sending
 * `files` to a port on one association after `clean()`, measured as instances/s. `dcmtkTls` is
 * storescu's `+tls` arguments and `env` the client's environment (BENCH_TLS_DIR) for TLS.
 */
export function storeRunners(options: {
  files: readonly string[];
  clean: () => void;
  dcmtkTls?: readonly string[];
  env?: NodeJS.ProcessEnv;
}): {
  storescu: (port: number) => Promise<RoundResult>;
  ourScu: (port: number, window: number) => Promise<RoundResult>;
} {
  const { files, clean, dcmtkTls = [], env = {} } = options;
  return {
    storescu: async (port) => {
      clean();
      const r = await runTool('storescu', [
        ...dcmtkTls,
        '--max-pdu',
        DCMTK_MAX_PDU,
        '127.0.0.1',
        String(port),
        ...files,
      ]);
      return { rate: perSecond(files.length, r.ms) };
    },
    ourScu: async (port, window) => {
      clean();
      const r = await runBenchClient(['store', '127.0.0.1', String(port), String(window), ...files], env);
      return { rate: perSecond(files.length, r.ms), link: r.link };
    },
  };
}

/** A DCMTK server (storescp, ...) started quietly on a free port; `args` must not contain the port. */
export async function startDcmtk(
  tool: string,
  args: string[],
): Promise<{ port: number; stop: () => Promise<void> }> {
  const { freePort, waitForPort } = await import('../test/helpers/dcmtk.js');
  const port = await freePort();
  const child = spawn(tool, [...args, String(port)], {
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: 'ignore',
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  await waitForPort(port);
  return {
    port,
    stop: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const v8Flags = createRequire(import.meta.url)('../../bin/v8-flags.js') as {
  runtime: string[];
  commandLine: string[];
};

/**
 * The V8 flags `npm start` runs the node with (bin/v8-flags.js: the ones on its command line and
 * the ones bin/dicomnet.js sets at start-up). Every dicomnet bench child gets them on its command
 * line.
 */
export const DICOMNET_NODE_FLAGS: readonly string[] = [...v8Flags.commandLine, ...v8Flags.runtime];

/**
 * Node flags for the bench children: the command's own, and with BENCH_CPU_PROF=DIR a .cpuprofile
 * per child into DIR. BENCH_NODE_FLAGS (space-separated) replaces the command's flags, to compare.
 */
export function nodeFlags(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  const own = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? DICOMNET_NODE_FLAGS;
  return [...own, ...(dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [])];
}

/**
 * A bench helper server script (bench/_server.ts, bench/_floor.ts) in its own process with the
 * bench Node flags, once it printed "READY <port>". `stop` ends it and gives back its output.
 */
export async function startBenchScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ port: number; stop: () => Promise<string> }> {
  const s = await startChild(
    process.execPath,
    [...nodeFlags(), benchScript(script), ...args],
    /READY (\d+)/,
    env,
  );
  return { port: Number(/READY (\d+)/.exec(s.out())?.[1]), stop: s.stop };
}

/**
 * The dicomnet bench server (bench/_server.ts) in its own process. With `receivedDir` its store
 * handler moves each received file there (as storescp -od keeps what it receives); without it,
 * the handler deletes the file. `tempDir` is where instances are received (default: the OS
 * temp directory), as `dicomnet serve` receives into its storage directory.
 */
export async function startBenchServer(
  mode: 'dicom' | 'rawtls',
  tlsDir?: string,
  receivedDir?: string,
  tempDir?: string,
): Promise<{
  port: number;
  stop: () => Promise<number>;
  stopWithCpu: () => Promise<{ rssKb: number; cpuUs: number }>;
}> {
  const s = await startBenchScript('_server', [mode, '0', ...(tlsDir ? [tlsDir] : [])], {
    ...(receivedDir ? { BENCH_RECEIVED_DIR: receivedDir } : {}),
    ...(tempDir ? { BENCH_TEMP_DIR: tempDir } : {}),
  });
  return {
    port: s.port,
    stop: async () => Number(/MAXRSS (\d+)/.exec(await s.stop())?.[1] ?? 0),
    stopWithCpu: async () => {
      const out = await s.stop();
      return {
        rssKb: Number(/MAXRSS (\d+)/.exec(out)?.[1] ?? 0),
        cpuUs: Number(/CPU (\d+)/.exec(out)?.[1] ?? 0),
      };
    },
  };
}

/** What a bench client (bench/_client.ts) reported. */
export interface ClientResult {
  ms: number;
  rssKb: number;
  /** CPU time (user + system) of the client process over the measured span. */
  cpuUs: number;
  link?: string;
  out: string;
}

/** Run the dicomnet bench client (bench/_client.ts) to completion. */
export function runBenchClient(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ClientResult> {
  return runBenchScript('_client', args, env);
}

/**
 * Run a bench helper client script (bench/_client.ts, bench/_floor.ts) to completion with the
 * bench Node flags; it reports "DONE <ms> <maxRssKb> <cpuUs>".
 */
export async function runBenchScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ClientResult> {
  const r = await timed(process.execPath, [...nodeFlags(), benchScript(script), ...args], env);
  const m = /DONE ([\d.]+) (\d+)(?: (\d+))?/.exec(r.out);
  if (!m || r.code !== 0) throw new Error(`bench ${script} ${args.slice(0, 3).join(' ')} failed:\n${r.out}`);
  return {
    ms: Number(m[1]),
    rssKb: Number(m[2]),
    cpuUs: Number(m[3] ?? 0),
    link: /LINK (.*)/.exec(r.out)?.[1],
    out: r.out,
  };
}

/** Run a DCMTK tool to completion; throws with its output when it fails. */
export async function runTool(cmd: string, args: string[]): Promise<{ ms: number; out: string }> {
  const r = await timed(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} failed (${r.code}):\n${r.out.slice(0, 2000)}`);
  return r;
}

/** `n` per second from a count and milliseconds. */
export function perSecond(n: number, ms: number): number {
  return ms > 0 ? (n * 1000) / ms : 0;
}
