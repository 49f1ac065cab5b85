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
 * Stop a node gracefully on the first SIGINT or SIGTERM (running associations get
 * `graceMs` to finish); a second signal during that wait aborts them at once. Resolves
 * with the signal's name when the node is closed.
 *
 * `node` may be a promise: the handlers are installed at once, so a signal that arrives
 * while the node is still starting (ports already open, banner not yet printed) is not
 * the default kill but a stop as soon as the node is up. If starting fails, the handlers
 * are removed and the promise rejects with that failure.
 */
export function onShutdownSignals(
  node: Stoppable | Promise<Stoppable>,
  log: Logger,
  graceMs: number,
): Promise<string> {
  return new Promise((resolveStopped, rejectStopped) => {
    let started: Stoppable | undefined;
    let stopping: NodeJS.Signals | undefined;
    const remove = () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
    const stop = (target: Stoppable, signal: NodeJS.Signals) => {
      log.info({ signal, graceMs }, 'shutting down: no new associations, waiting for running ones');
      void target.close(graceMs).finally(() => {
        remove();
        resolveStopped(signal);
      });
    };
    function handler(signal: NodeJS.Signals) {
      if (stopping) {
        log.warn({ signal }, 'second signal: aborting running associations now');
        if (started) void started.close(0);
        return;
      }
      stopping = signal;
      if (started) stop(started, signal);
      else log.info({ signal }, 'signal while starting: stopping once the node is up');
    }
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    Promise.resolve(node).then(
      (n) => {
        started = n;
        if (stopping) stop(n, stopping);
      },
      (err: unknown) => {
        remove();
        rejectStopped(err);
      },
    );
  });
}
