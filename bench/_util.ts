import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Smoke mode: small sizes so CI can check the benchmarks still run. */
export const SMOKE = process.env.BENCH_SMOKE === '1';

/** Path of a compiled bench helper script next to this file. */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}.js`, import.meta.url));
}

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
      env: { ...process.env, TCP_NODELAY: '1', ...env },
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
): Promise<{ child: ChildProcess; out: () => string; stop: () => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, TCP_NODELAY: '1' },
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
