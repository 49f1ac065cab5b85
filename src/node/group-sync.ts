/**
 * Group commit for one file or directory: callers that ask while a sync is running share
 * the next one, so N concurrent commits cost two fsyncs, not N. A caller is only answered
 * by a sync that *started* after its call, so whatever it wrote before calling is covered.
 */
export class GroupSync {
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  /** `onIdle` is told when the last running sync ends with none queued (e.g. to drop this group). */
  constructor(
    private readonly syncOnce: () => Promise<void>,
    private readonly onIdle?: () => void,
  ) {}

  /** Resolves once a sync that started after this call has completed. */
  sync(): Promise<void> {
    if (this.#next) return this.#next;
    const running = this.#running;
    if (!running) return this.#start();
    const next = running
      .catch(() => undefined)
      .then(() => {
        this.#next = undefined;
        return this.#start();
      });
    this.#next = next;
    return next;
  }

  #start(): Promise<void> {
    const run = this.syncOnce().finally(() => {
      if (this.#running !== run) return;
      this.#running = undefined;
      if (!this.#next) this.onIdle?.();
    });
    this.#running = run;
    return run;
  }
}
