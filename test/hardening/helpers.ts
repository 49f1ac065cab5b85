/** A spawned `dicomnet serve` for hardening tests: its own TMPDIR, RSS readings, raw sockets from any loopback address. */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { freePort, hasDcmtk, run, waitForPort } from '../helpers/dcmtk.js';
import { startServe } from '../interop/node-helpers.js';

/** A running `dicomnet serve` child. */
export interface HardenedServe {
  child: ChildProcess;
  pid: number;
  port: number;
  tlsPort: number | undefined;
  storage: string;
  /** The child's TMPDIR (spilled values land there). */
  tmp: string;
  /** Parsed JSON log lines so far. */
  logLines: () => Record<string, unknown>[];
  stderr: () => string;
  /** Resident set size now, in KiB (VmRSS of /proc/PID/status). */
  rssKiB: () => number;
  /** SIGTERM (then SIGKILL after `timeoutMs`); resolves the exit code. */
  stop: (timeoutMs?: number) => Promise<number | null>;
  kill9: () => Promise<void>;
}

/** Options of {@link startHardenedServe}. */
export interface HardenedServeOptions {
  /** Working directory: storage/, tmp/ and the config file go there. */
  dir: string;
  /** Extra config file content (merged over aet/port/tlsPort/storage/host). */
  config?: Record<string, unknown>;
  tls?: boolean;
  /** Reuse these ports (restart after a kill). */
  port?: number;
  tlsPort?: number;
}

/** Start `dicomnet serve --config FILE` and wait until its ports accept connections. */
export async function startHardenedServe(options: HardenedServeOptions): Promise<HardenedServe> {
  const storage = join(options.dir, 'storage');
  const tmp = join(options.dir, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const port = options.port ?? (await freePort());
  const tlsPort = options.tls ? (options.tlsPort ?? (await freePort())) : undefined;
  const configFile = join(options.dir, 'serve.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      aet: 'DICOMNET',
      host: '0.0.0.0',
      port,
      tlsPort: tlsPort ?? null,
      storage,
      log: { level: 'info', format: 'json' },
      ...options.config,
    }),
  );
  const serve = await startServe(['--config', configFile], {
    cwd: options.dir,
    waitPort: port,
    timeoutMs: 30_000,
    env: { TMPDIR: tmp },
  });
  if (tlsPort !== undefined) await waitForPort(tlsPort, 30_000);
  const pid = serve.child.pid as number;
  return {
    child: serve.child,
    pid,
    port,
    tlsPort,
    storage,
    tmp,
    stderr: serve.stderr,
    logLines: serve.logLines,
    rssKiB: () => rssKiB(pid),
    stop: (timeoutMs = 15_000) => serve.stop('SIGTERM', timeoutMs),
    kill9: serve.kill9,
  };
}

/** VmRSS of a process, in KiB. */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  assert.ok(m, `no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

/** Every file (not directory) under `dir`, as paths relative to it; none when it does not exist. */
export function filesUnder(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...filesUnder(join(dir, e.name), `${prefix}${e.name}/`));
    else out.push(`${prefix}${e.name}`);
  }
  return out;
}

/** Resolves when the peer closed `socket` (true), or false after `timeoutMs`; data read is discarded. */
export function closedWithin(socket: Socket, timeoutMs: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** DCMTK echoscu against the node, plain or with `tlsArgs` (+tls key cert +cf ca); must succeed. */
export async function echoscuSucceeds(port: number, tlsArgs: string[] = []): Promise<void> {
  if (!hasDcmtk()) return;
  const r = await run('echoscu', [...tlsArgs, '-to', '20', '-aec', 'DICOMNET', '127.0.0.1', String(port)], {
    timeoutMs: 30_000,
  });
  assert.equal(r.code, 0, `echoscu ${tlsArgs.length ? '+tls ' : ''}must succeed: ${r.stdout}${r.stderr}`);
}

export { waitForPort };

export { eventually, pdu, rawSocket } from '../helpers/raw-peer.js';
