import { randomUUID } from 'node:crypto';
import {
  close,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  unlink,
  unlinkSync,
  writev,
  writevSync,
} from 'node:fs';
import { Writable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Dataset, encodeFileMetaInformation, readPart10 } from '../data/index.js';
import { CommandField, type CommandSet, type IncomingMessage, Status } from '../dimse/index.js';
import type { Logger } from '../log.js';
import type { NegotiatedContext } from '../network/index.js';

/** An instance received by C-STORE, written to a temporary Part 10 file. */
export interface ReceivedInstance {
  /** The temporary Part 10 file (meta header + the data set as received). Move it to keep it. */
  file: string;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  /** Calling AE title of the association it came on. */
  callingAet?: string;
  /** Parse the received file (large values stay on disk as bulk references). */
  readDataset(): Promise<Dataset>;
}

/**
 * Bytes an incoming instance may queue in front of the disk before the association is
 * paused: several PDUs, so the network keeps flowing while a write is in flight (at 1 MiB,
 * one 1 MiB PDU already paused the socket, serialising receive and write).
 */
const SINK_HIGH_WATER_MARK = 4 * 1024 * 1024;

let defaultDir: string | undefined;

/** Default directory for instances being received. */
export function defaultTempDir(): string {
  defaultDir ??= join(tmpdir(), 'dicomnet-incoming');
  return defaultDir;
}

/** Directories already created in this process: one mkdir per directory, not per instance. */
const createdDirs = new Set<string>();

function ensureDir(dir: string): void {
  if (createdDirs.has(dir)) return;
  mkdirSync(dir, { recursive: true });
  createdDirs.add(dir);
}

/**
 * Where an incoming C-STORE data set goes: a temporary Part 10 file whose meta
 * header is written first, so the data set bytes stream straight behind it.
 */
export class StoreSink implements ReceivedInstance {
  readonly file: string;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly stream: Writable;
  private readonly writer: TempFileWriter;

  constructor(
    context: NegotiatedContext,
    command: CommandSet,
    tempDir = defaultTempDir(),
    callingAet?: string,
  ) {
    ensureDir(tempDir);
    this.file = join(tempDir, `${randomUUID()}.part`);
    this.sopClassUid = command.affectedSopClassUid ?? context.abstractSyntax;
    this.sopInstanceUid = command.affectedSopInstanceUid ?? '';
    this.transferSyntaxUid = context.transferSyntax ?? '';
    this.callingAet = callingAet;
    this.writer = new TempFileWriter(this.file);
    this.stream = this.writer;
    // the directory was removed behind our back: create it again for the next instance
    this.stream.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') createdDirs.delete(tempDir);
    });
    this.stream.write(
      encodeFileMetaInformation({
        mediaStorageSopClassUid: this.sopClassUid,
        mediaStorageSopInstanceUid: this.sopInstanceUid,
        transferSyntaxUid: this.transferSyntaxUid,
        sourceApplicationEntityTitle: callingAet,
      }),
    );
  }

  readonly callingAet?: string;

  async readDataset(): Promise<Dataset> {
    return (await readPart10(this.file, { bulkDataThreshold: 64 * 1024 })).dataset;
  }

  /** Remove the temporary file if it is still there (the handler may have moved it). */
  async discard(): Promise<void> {
    // wait for the stream to close: an open still in flight would create the file after the unlink
    if (!this.stream.closed) {
      await new Promise<void>((resolve) => {
        this.stream.once('close', () => resolve());
        this.stream.destroy();
      });
    }
    // unlink, not rm: one system call, and the handler has usually moved the file already
    const file = this.file;
    if (!this.writer.streamed) {
      // a small file: blocking calls, no thread-pool round trip and no ENOENT error object
      if (existsSync(file)) unlinkSync(file);
      return;
    }
    await new Promise<void>((resolve, reject) =>
      unlink(file, (err) => (err && err.code !== 'ENOENT' ? reject(err) : resolve())),
    );
  }
}

/**
 * Instances up to this size are written with blocking calls: the file is created (exclusively)
 * when the stream starts, the bytes are kept in memory and written with one writev when the
 * data set is complete, then the file is closed, as storescp does. An fs.WriteStream costs a
 * thread-pool round trip per open, write and close, which dominated the CPU per small instance.
 * Past this size the bytes go out with asynchronous writes.
 */
const SYNC_WRITE_BYTES = 1024 * 1024;

/** Writes a new file (flags `wx`); 'close' follows 'finish' or destroy as for a file stream. */
class TempFileWriter extends Writable {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private fd: number | undefined;
  private streaming = false;
  /** True when the contents went out with asynchronous writes (more than {@link SYNC_WRITE_BYTES}). */
  get streamed(): boolean {
    return this.streaming;
  }
  /** Set while an asynchronous writev is in flight: closing the fd then must wait (it could be reused). */
  private writing = false;
  private afterWrite: (() => void) | undefined;

  constructor(private readonly path: string) {
    super({ highWaterMark: SINK_HIGH_WATER_MARK });
  }

  override _construct(callback: (err?: Error | null) => void): void {
    try {
      this.fd = openSync(this.path, 'wx');
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.take([chunk], callback);
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (err?: Error | null) => void,
  ): void {
    this.take(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  override _final(callback: (err?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = undefined;
    const chunks = this.pending;
    this.pending = [];
    if (fd === undefined) {
      callback();
      return;
    }
    if (this.streaming) {
      // the Writable calls _final only once the last write called back: nothing in flight
      close(fd, (err) => callback(err));
      return;
    }
    try {
      writeAllSync(fd, chunks);
      closeSync(fd);
      callback();
    } catch (err) {
      close(fd, () => callback(err as Error));
    }
  }

  override _destroy(error: Error | null, callback: (err?: Error | null) => void): void {
    this.pending = [];
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) callback(error);
    else if (this.writing) this.afterWrite = () => close(fd, (err) => callback(error ?? err));
    else close(fd, (err) => callback(error ?? err));
  }

  private take(chunks: Buffer[], callback: (err?: Error | null) => void): void {
    if (!this.streaming) {
      for (const c of chunks) {
        this.pending.push(c);
        this.pendingBytes += c.length;
      }
      if (this.pendingBytes <= SYNC_WRITE_BYTES) {
        callback();
        return;
      }
      // too large to keep: from now on write as the bytes come
      this.streaming = true;
      chunks = this.pending;
      this.pending = [];
    }
    this.writeAll(chunks, callback);
  }

  private writeAll(chunks: Buffer[], callback: (err?: Error | null) => void): void {
    const fd = this.fd;
    if (fd === undefined) {
      callback(new Error('the temporary file is closed'));
      return;
    }
    this.writing = true;
    writev(fd, chunks, (err, written) => {
      this.writing = false;
      if (this.afterWrite) {
        const then = this.afterWrite;
        this.afterWrite = undefined;
        then();
        return;
      }
      if (err) {
        callback(err);
        return;
      }
      const rest = remainingAfter(chunks, written);
      if (rest.length === 0) callback();
      else this.writeAll(rest, callback);
    });
  }
}

/** The part of `chunks` after the first `written` bytes. */
function remainingAfter(chunks: Buffer[], written: number): Buffer[] {
  let skip = written;
  const rest: Buffer[] = [];
  for (const c of chunks) {
    if (skip >= c.length) {
      skip -= c.length;
      continue;
    }
    rest.push(skip > 0 ? c.subarray(skip) : c);
    skip = 0;
  }
  return rest;
}

/** Write every byte of `chunks` to `fd` with blocking writev calls (partial writes continued). */
export function writeAllSync(fd: number, chunks: Buffer[]): void {
  let rest = chunks.filter((c) => c.length > 0);
  // writev takes at most IOV_MAX (1024) buffers at a time
  while (rest.length > 0) {
    const batch = rest.slice(0, 1024);
    const written = writevSync(fd, batch);
    rest = [...remainingAfter(batch, written), ...rest.slice(1024)];
  }
}

/**
 * Run a store handler on a received instance; the temp file is removed afterwards unless the
 * handler moved it. When writing the data set failed (`datasetError`, e.g. a full disk) the
 * handler is not called and the answer is 0xA700 (out of resources).
 */
export async function runStoreHandler(
  sink: StoreSink,
  handler: (instance: ReceivedInstance) => Promise<number> | number,
  log: Logger,
  datasetError?: Error,
): Promise<number> {
  try {
    if (datasetError) {
      log.error(
        { err: datasetError, sopInstanceUid: sink.sopInstanceUid },
        `C-STORE not stored: ${datasetError.message}`,
      );
      return Status.OutOfResources;
    }
    return await handler(sink);
  } catch (err) {
    log.error({ err, sopInstanceUid: sink.sopInstanceUid }, 'C-STORE handler failed');
    return Status.OutOfResources;
  } finally {
    await sink.discard();
  }
}

/** The C-STORE-RSP for a request. */
export function storeResponse(msg: IncomingMessage, status: number): CommandSet {
  return {
    commandField: CommandField.C_STORE_RSP,
    messageIdBeingRespondedTo: msg.command.messageId,
    affectedSopClassUid: msg.command.affectedSopClassUid,
    affectedSopInstanceUid: msg.command.affectedSopInstanceUid,
    status,
    hasDataset: false,
  };
}

/** The response to a request this side does not perform. */
export function unsupportedResponse(msg: IncomingMessage): CommandSet {
  return {
    commandField: msg.command.commandField | 0x8000,
    messageIdBeingRespondedTo: msg.command.messageId,
    affectedSopClassUid: msg.command.affectedSopClassUid,
    status: Status.UnrecognizedOperation,
    hasDataset: false,
  };
}
