import type CliProgress from 'cli-progress';
import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';

// the bar library is loaded only on a terminal
const require = createRequire(import.meta.url);

/** Progress of a transfer: a bar on a terminal, a plain line per step otherwise. */
export interface Progress {
  tick(bytes: number, label: string): void;
  stop(): void;
}

/** Count, MB/s and ETA on a TTY; `[n/total] label` lines elsewhere (or nothing when quiet). */
export function createProgress(
  total: number,
  totalBytes: number,
  out: Writable & { isTTY?: boolean },
  quiet = false,
): Progress {
  const started = performance.now();
  let done = 0;
  let bytes = 0;
  if (quiet) return { tick: () => undefined, stop: () => undefined };
  if (out.isTTY) {
    const cliProgress = require('cli-progress') as typeof CliProgress;
    const bar = new cliProgress.SingleBar(
      {
        format: '{bar} {value}/{total} | {mbps} MB/s | ETA {eta_formatted}',
        stream: out as NodeJS.WritableStream,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { mbps: '0.0' });
    return {
      tick(n) {
        done++;
        bytes += n;
        const secs = (performance.now() - started) / 1000;
        bar.update(done, { mbps: (bytes / 1e6 / Math.max(secs, 1e-3)).toFixed(1) });
      },
      stop: () => bar.stop(),
    };
  }
  return {
    tick(n, label) {
      done++;
      bytes += n;
      out.write(`[${done}/${total}] ${label}\n`);
    },
    stop() {
      const secs = (performance.now() - started) / 1000;
      out.write(
        `${done}/${total} done, ${(bytes / 1e6).toFixed(1)} of ${(totalBytes / 1e6).toFixed(1)} MB in ${secs.toFixed(2)} s\n`,
      );
    },
  };
}
