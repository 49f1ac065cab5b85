import {
  closeSync,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { type Logger, silentLogger } from '../log.js';
import { type ChainHead, chainedLine, EMPTY_HEAD, lastLineOf, lineHash, linkOf } from './chain.js';
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

/** Bytes of the head file's one record (padded, so that each update overwrites it in place). */
const HEAD_RECORD_BYTES = 128;

/**
 * How long the head file may lag behind the file (fsync batch and none). It only matters
 * when the node stops without closing the file (a crash) and the file is then rotated:
 * the new file would link to an older record. A write per record would double the cost
 * of a record; the head is also written at close.
 */
const HEAD_SAVE_MS = 100;

/**
 * The local audit trail: one JSON {@link AuditMessage} per line, appended to a file opened
 * in append mode (O_APPEND: existing records are never rewritten, every record lands at
 * the end) and created with mode 0600. Writes are synchronous, one `write` per record, so
 * records never interleave and none waits in a process buffer.
 *
 * Each line carries a link of the hash chain (see `chain.ts`): its sequence number and the
 * SHA-256 of the line before it. Opening an existing file carries on from its last line.
 * Beside the file, `<file>.head` holds the last record's seq and hash (rewritten in place
 * after each record): when the file has been renamed away (rotation) and the sink opens a
 * new one, the new file's first record links to the last record of the old one.
 *
 * One writer per file. Before each record the file's size is checked against what this
 * sink wrote: a file another process appended to is re-linked to its last line (with a
 * warning), so processes taking turns keep the chain; two writing at the same moment can
 * still link to the same line, and `dicomnet audit verify` reports it. Several node
 * processes must hand their records to one writer, or use one file each.
 */
export class AuditFileSink implements AuditSink {
  readonly path: string;
  /** The file holding the chain head (`<path>.head`). */
  readonly headPath: string;
  #fd: number | undefined;
  #headFd: number | undefined;
  #head: ChainHead;
  /** The file's size after our last write: another size means someone else wrote (or cut) it. */
  #size = 0;
  #foreignWrites = 0;
  readonly #fsync: AuditFsyncPolicy;
  readonly #log: Logger;
  #failures = 0;
  /** The background fdatasync in flight (batch policy), and whether records came after it started. */
  #syncing: Promise<void> | undefined;
  #dirty = false;
  /** Pending update of the head file (batch and none: at most one write per HEAD_SAVE_MS). */
  #headTimer: NodeJS.Timeout | undefined;

  /** Opens (creating if needed) the file now; throws {@link AuditConfigError} if it cannot. */
  constructor(path: string, options: { fsync?: AuditFsyncPolicy; logger?: Logger } = {}) {
    this.path = path;
    this.headPath = `${path}.head`;
    this.#fsync = options.fsync ?? 'batch';
    this.#log = options.logger ?? silentLogger();
    try {
      mkdirSync(dirname(path), { recursive: true });
      // a+ (read and append): the last line is read back to carry the chain on
      this.#fd = openSync(path, 'a+', 0o600);
      this.#head = this.#recoverHead(this.#fd);
      this.#size = fstatSync(this.#fd).size;
      this.#headFd = openSync(this.headPath, 'w', 0o600);
      this.#saveHead();
    } catch (err) {
      if (this.#fd !== undefined) closeSync(this.#fd);
      throw new AuditConfigError(`audit file ${path}: cannot open for appending: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** The last record written: its seq and the SHA-256 of its line (seq 0: none yet). */
  get head(): ChainHead {
    return this.#head;
  }

  /** Where the chain goes on: the file's last line, else (a new file) the head file, else a new chain. */
  #recoverHead(fd: number): ChainHead {
    const last = lastLineOf(fd);
    if (last) {
      if (!last.terminated) {
        // a torn record (the disk filled up mid-write): end it; verify reports it
        writeSync(fd, '\n');
        this.#log.warn(
          { auditFile: this.path },
          `audit file ${this.path} ends in an incomplete record; the chain goes on after it`,
        );
      }
      // a line without a link (written before the chain existed) starts the chain at seq 1
      return { seq: linkOf(last.line)?.seq ?? 0, hash: lineHash(last.line) };
    }
    let saved: string;
    try {
      saved = readFileSync(this.headPath, 'utf8');
    } catch {
      return EMPTY_HEAD;
    }
    const head = parseHead(saved);
    if (!head)
      this.#log.warn(
        { headFile: this.headPath },
        `audit head file ${this.headPath} is not readable; a new chain starts`,
      );
    return head ?? EMPTY_HEAD;
  }

  /**
   * The file is not as we left it. Grown: another process appended (one writer per file
   * keeps the chain; while two write, a record can link to a line the other wrote at the
   * same moment): link to its last line and warn, once per 100 occurrences. Shrunk: it was
   * cut or edited under us; keep our head, so that the next line shows the break.
   */
  #changedBehindUs(fd: number, size: number): void {
    if (size < this.#size) {
      this.#log.error(
        { auditFile: this.path, expected: this.#size, size },
        `audit file ${this.path} shrank from ${this.#size} to ${size} bytes while open: truncated or edited`,
      );
    } else {
      const last = lastLineOf(fd);
      // the other writer's last record is torn: end it, or ours would run on from it
      if (last && !last.terminated) size += writeSync(fd, '\n');
      if (last) this.#head = { seq: linkOf(last.line)?.seq ?? this.#head.seq, hash: lineHash(last.line) };
      if (this.#foreignWrites++ % 100 === 0)
        this.#log.warn(
          { auditFile: this.path, occurrences: this.#foreignWrites },
          `audit file ${this.path} was appended to by another writer; the hash chain needs one writer per file`,
        );
    }
    this.#size = size;
  }

  #saveHeadSoon(): void {
    this.#headTimer ??= setTimeout(() => {
      this.#headTimer = undefined;
      try {
        this.#saveHead();
      } catch (err) {
        this.#failed(err);
      }
    }, HEAD_SAVE_MS).unref();
  }

  #saveHead(): void {
    if (this.#headFd === undefined) return;
    const record = JSON.stringify({ seq: this.#head.seq, hash: this.#head.hash });
    writeSync(this.#headFd, `${record.padEnd(HEAD_RECORD_BYTES - 1)}\n`, 0);
  }

  /** Records that could not be written or synced (disk full, I/O error). */
  get failures(): number {
    return this.#failures;
  }

  write(message: AuditMessage): void {
    if (this.#fd === undefined) return;
    try {
      const size = fstatSync(this.#fd).size;
      if (size !== this.#size) this.#changedBehindUs(this.#fd, size);
      const line = chainedLine(message, this.#head);
      this.#size += writeSync(this.#fd, `${line}\n`);
      this.#head = { seq: this.#head.seq + 1, hash: lineHash(line) };
      if (this.#fsync === 'always') {
        this.#saveHead();
        fdatasyncSync(this.#fd);
        return;
      }
      this.#saveHeadSoon();
      if (this.#fsync === 'batch') this.#syncSoon();
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
    clearTimeout(this.#headTimer);
    this.#headTimer = undefined;
    try {
      this.#saveHead();
    } catch (err) {
      this.#failed(err);
    }
    for (const f of [fd, this.#headFd]) {
      if (f === undefined) continue;
      try {
        fdatasyncSync(f);
      } catch {
        // nothing more can be done at shutdown; the records were handed to the kernel
      }
      closeSync(f);
    }
    this.#headFd = undefined;
    // the head in the log is an anchor outside the file: a changed last line or a cut tail shows against it
    this.#log.info(
      { auditFile: this.path, seq: this.#head.seq, sha256: this.#head.hash },
      `audit file closed: chain head seq ${this.#head.seq} sha256 ${this.#head.hash}`,
    );
  }
}

function parseHead(text: string): ChainHead | undefined {
  try {
    const { seq, hash } = JSON.parse(text) as { seq?: unknown; hash?: unknown };
    if (
      typeof seq === 'number' &&
      Number.isSafeInteger(seq) &&
      seq >= 0 &&
      typeof hash === 'string' &&
      /^[0-9a-f]{64}$/.test(hash)
    )
      return { seq, hash };
  } catch {
    // not JSON
  }
  return undefined;
}
