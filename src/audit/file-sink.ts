import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Logger, silentLogger } from '../log.js';
import { AuditConfigError } from './errors.js';
import type { AuditMessage, AuditSink } from './message.js';

/**
 * When the audit file is flushed to stable storage:
 * - `batch` (default): every record is written at once (a crash of the process loses
 *   nothing) and an fdatasync runs in the background after it, coalescing the records
 *   written meanwhile (group commit): records reach the disk within one sync time, and
 *   the event loop never waits for the disk.
 * - `always`: a synchronous fdatasync after every record, before `write` returns (about
 *   0.6-3.5 ms per record on the shared test machine, blocking the event loop).
 * - `none`: the kernel flushes when it likes (a power loss may lose the last records).
 */
export type AuditFsyncPolicy = 'always' | 'batch' | 'none';

/**
 * The local audit trail: one JSON {@link AuditMessage} per line, appended to a file opened
 * in append mode (O_APPEND: existing records are never rewritten, every record lands at
 * the end) and created with mode 0600. Writes are synchronous, one `write` per record, so
 * records never interleave and none waits in a process buffer.
 */
export class AuditFileSink implements AuditSink {
  readonly path: string;
  #fd: number | undefined;
  readonly #fsync: AuditFsyncPolicy;
  readonly #log: Logger;
  #failures = 0;
  /** The background fdatasync in flight (batch policy), and whether records came after it started. */
  #syncing: Promise<void> | undefined;
  #dirty = false;

  /** Opens (creating if needed) the file now; throws {@link AuditConfigError} if it cannot. */
  constructor(path: string, options: { fsync?: AuditFsyncPolicy; logger?: Logger } = {}) {
    this.path = path;
    this.#fsync = options.fsync ?? 'batch';
    this.#log = options.logger ?? silentLogger();
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.#fd = openSync(path, 'a', 0o600);
    } catch (err) {
      throw new AuditConfigError(`audit file ${path}: cannot open for appending: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** Records that could not be written or synced (disk full, I/O error). */
  get failures(): number {
    return this.#failures;
  }

  write(message: AuditMessage): void {
    if (this.#fd === undefined) return;
    try {
      writeSync(this.#fd, `${JSON.stringify(message)}\n`);
      if (this.#fsync === 'always') fdatasyncSync(this.#fd);
      else if (this.#fsync === 'batch') this.#syncSoon();
    } catch (err) {
      this.#failed(err);
    }
  }

  #syncSoon(): void {
    this.#dirty = true;
    if (this.#syncing || this.#fd === undefined) return;
    const fd = this.#fd;
    this.#dirty = false;
    this.#syncing = new Promise<void>((resolve) => {
      fdatasync(fd, (err) => {
        if (err) this.#failed(err);
        this.#syncing = undefined;
        resolve();
        if (this.#dirty) this.#syncSoon();
      });
    });
  }

  #failed(err: unknown): void {
    this.#failures++;
    // the first failure and then every 100th: a full disk must not flood the log
    if (this.#failures % 100 === 1)
      this.#log.error(
        { err, auditFile: this.path, failures: this.#failures },
        `audit file ${this.path}: cannot write or sync a record: ${(err as Error).message}`,
      );
  }

  async close(): Promise<void> {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    // the fd must outlive a background sync still using it
    while (this.#syncing) await this.#syncing;
    try {
      fdatasyncSync(fd);
    } catch {
      // nothing more can be done at shutdown; the records were handed to the kernel
    }
    closeSync(fd);
  }
}
