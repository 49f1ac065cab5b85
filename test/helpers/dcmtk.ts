import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer, Socket } from 'node:net';

/** True when the DCMTK command-line tools are installed. */
export function hasDcmtk(): boolean {
  return spawnSync('storescp', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Environment for DCMTK tools: TCP_NODELAY=1 (Debian's DCMTK leaves Nagle on otherwise). */
export function dcmtkEnv(): NodeJS.ProcessEnv {
  return { ...process.env, TCP_NODELAY: '1' };
}

/** A free TCP port on 127.0.0.1 (bind to 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Wait until something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = new Socket();
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.connect(port, '127.0.0.1');
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

/** A running DCMTK server process (storescp, dcmqrscp, ...). */
export interface DcmtkServer {
  process: ChildProcess;
  port: number;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * Start a DCMTK server tool whose last argument is the port, and wait until it listens.
 * `args` must not contain the port; it is appended (or placed where `{port}` stands).
 */
export async function startDcmtkServer(
  tool: string,
  args: string[],
  options: { cwd?: string; port?: number; readyCheck?: 'port' | 'none' } = {},
): Promise<DcmtkServer> {
  const port = options.port ?? (await freePort());
  const finalArgs = args.includes('{port}')
    ? args.map((a) => (a === '{port}' ? String(port) : a))
    : [...args, String(port)];
  const child = spawn(tool, finalArgs, {
    cwd: options.cwd,
    env: dcmtkEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (options.readyCheck !== 'none') {
    await Promise.race([
      waitForPort(port),
      exited.then(() => {
        throw new Error(`${tool} exited early: ${out}`);
      }),
    ]);
  }
  return {
    process: child,
    port,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Result of running a command to completion. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command (DCMTK tool or the dicomnet CLI) to completion, with a timeout. */
export function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? dcmtkEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    // a tool that exits before reading its stdin (it reads none) must not fail the caller with EPIPE
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
