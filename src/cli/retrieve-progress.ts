import type { Writable } from 'node:stream';
import cliProgress from 'cli-progress';
import type { RetrieveProgress } from '../services/client.js';
import { formatRetrieve } from './retrieve.js';

/** Progress of a C-MOVE / C-GET, fed with each response's sub-operation counts. */
export interface RetrieveProgressDisplay {
  update(p: RetrieveProgress): void;
  stop(): void;
}

function doneOf(p: RetrieveProgress): number {
  return (p.completed ?? 0) + (p.failed ?? 0) + (p.warning ?? 0);
}

/**
 * A bar (sub-operations done / total, failures, ETA) on a terminal; elsewhere one plain
 * `status 0xFF00: remaining …` line per response that carries counts; nothing when quiet. The total is
 * learnt from the first response that carries counts.
 */
export function createRetrieveProgress(
  out: Writable & { isTTY?: boolean },
  quiet = false,
): RetrieveProgressDisplay {
  if (quiet) return { update: () => undefined, stop: () => undefined };
  if (!out.isTTY) {
    return {
      // a response without counts (a refusal, say) is the error line's to report
      update: (p) => {
        if (p.remaining !== undefined || p.completed !== undefined) out.write(`${formatRetrieve(p)}\n`);
      },
      stop: () => undefined,
    };
  }
  let bar: cliProgress.SingleBar | undefined;
  return {
    update(p) {
      if (p.remaining === undefined && p.completed === undefined) return;
      const total = doneOf(p) + (p.remaining ?? 0);
      const payload = { failed: p.failed ?? 0, warning: p.warning ?? 0 };
      if (!bar) {
        bar = new cliProgress.SingleBar(
          {
            format: '{bar} {value}/{total} | failed {failed} | warning {warning} | ETA {eta_formatted}',
            stream: out as NodeJS.WritableStream,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, 0, payload);
      }
      if (total > bar.getTotal()) bar.setTotal(total);
      bar.update(doneOf(p), payload);
    },
    stop: () => bar?.stop(),
  };
}
