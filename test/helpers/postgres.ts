import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './dcmtk.js';

/** Debian's PostgreSQL binaries (initdb, pg_ctl), the newest version installed; undefined if none. */
export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(base, versions[0], 'bin');
}

/** Why PostgreSQL tests are skipped, or false when they can run. */
export function postgresSkip(): string | false {
  if (postgresBinDir() === undefined)
    return 'PostgreSQL is not installed (apt-get install postgresql): PostgreSQL index tests skipped';
  let pg = false;
  try {
    import.meta.resolve('pg');
    pg = true;
  } catch {
    // not installed
  }
  return pg ? false : 'the optional package pg is not installed: PostgreSQL index tests skipped';
}

/** A throw-away PostgreSQL cluster in a temp directory, on a free port. */
export interface TestPostgres {
  port: number;
  /** A URL of a fresh, empty database. */
  createDatabase(): Promise<string>;
  /** Stop the server (`immediate`: as a crash would) and delete its directory. */
  stop(): Promise<void>;
  /** Stop the server only (connection-loss tests); `start` brings it back. */
  pause(): void;
  start(): void;
}

let counter = 0;

/**
 * initdb + pg_ctl start, as the unprivileged `postgres` user when running as root (CI),
 * trust authentication on 127.0.0.1 only, fsync off (a test cluster).
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('PostgreSQL is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'dicomnet-pg-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const run = (tool: string, args: string[]) => {
    const cmd = asRoot ? 'runuser' : join(bin, tool);
    const full = asRoot ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args;
    const r = spawnSync(cmd, full, { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`${tool} failed (${r.status}): ${r.stdout}\n${r.stderr}`);
  };
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'dicomnet', '--encoding', 'UTF8', '--locale', 'C']);
  const port = await freePort();
  const start = () =>
    run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-t',
      '120',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`,
      'start',
    ]);
  start();
  const admin = `postgres://dicomnet@127.0.0.1:${port}/postgres`;
  return {
    port,
    async createDatabase() {
      const name = `t${process.pid}_${++counter}`;
      const mod = (await import('pg')) as unknown as { default?: typeof import('pg') } & typeof import('pg');
      const pg = mod.default ?? mod;
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return `postgres://dicomnet@127.0.0.1:${port}/${name}`;
    },
    pause() {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    start,
    async stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether a `postgres` system user exists (the unprivileged user of the test cluster under root). */
export function hasPostgresUser(): boolean {
  try {
    execFileSync('id', ['postgres'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
