import type { Logger } from '../log.js';

/**
 * Counts operations that must not be cut in half (an instance being committed and
 * indexed, a commitment report being sent), so shutdown can wait for them before it
 * closes the index.
 */
export class InFlight {
  #running = 0;
  #waiters: (() => void)[] = [];

  /** Run `fn` as one tracked operation. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    this.#running++;
    try {
      return await fn();
    } finally {
      this.#running--;
      if (this.#running === 0) for (const w of this.#waiters.splice(0)) w();
    }
  }

  /** Operations running now. */
  get running(): number {
    return this.#running;
  }

  /** Resolves true when nothing runs any more, false if `timeoutMs` passes first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#running === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#waiters.push(done);
    });
  }
}

/** What {@link onShutdownSignals} stops. */
export interface Stoppable {
  /** Graceful stop: stop accepting, let running work finish within `graceMs`, then abort it. */
  close(graceMs: number): Promise<void>;
}

/**
 * Stop `node` gracefully on the first SIGINT or SIGTERM (running associations get
 * `graceMs` to finish); a second signal during that wait aborts them at once. Resolves
 * when the node is closed.
 */
export function onShutdownSignals(node: Stoppable, log: Logger, graceMs: number): Promise<string> {
  return new Promise((resolveStopped) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: aborting running associations now');
        void node.close(0);
        return;
      }
      stopping = true;
      log.info({ signal, graceMs }, 'shutting down: no new associations, waiting for running ones');
      void node.close(graceMs).finally(() => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
        resolveStopped(signal);
      });
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}
