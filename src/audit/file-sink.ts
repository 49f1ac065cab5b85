import { closeSync, fdatasyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Logger, silentLogger } from '../log.js';
import { AuditConfigError } from './errors.js';
import type { AuditMessage, AuditSink } from './message.js';

/**
 * When the audit file is flushed to stable storage:
 * - `always` (default): fdatasync after every record, so a record exists on disk before
 *   the event it describes is answered; audit events are per association, not per
 *   instance, so the cost stays small.
 * - `none`: records are handed to the kernel at once (a crash of the process loses
 *   nothing) and reach the disk when the OS decides (a power loss may lose the last ones).
 */
export type AuditFsyncPolicy = 'always' | 'none';

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

  /** Opens (creating if needed) the file now; throws {@link AuditConfigError} if it cannot. */
  constructor(path: string, options: { fsync?: AuditFsyncPolicy; logger?: Logger } = {}) {
    this.path = path;
    this.#fsync = options.fsync ?? 'always';
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

  /** Records that could not be written (disk full, I/O error). */
  get failures(): number {
    return this.#failures;
  }

  write(message: AuditMessage): void {
    if (this.#fd === undefined) return;
    try {
      writeSync(this.#fd, `${JSON.stringify(message)}\n`);
      if (this.#fsync === 'always') fdatasyncSync(this.#fd);
    } catch (err) {
      this.#failures++;
      // the first failure and then every 100th: a full disk must not flood the log
      if (this.#failures % 100 === 1)
        this.#log.error(
          { err, auditFile: this.path, failures: this.#failures },
          `audit file ${this.path}: cannot append a record: ${(err as Error).message}`,
        );
    }
  }

  async close(): Promise<void> {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    try {
      fdatasyncSync(fd);
    } catch {
      // nothing more can be done at shutdown; the records were handed to the kernel
    }
    closeSync(fd);
  }
}
