import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Dataset, encodeFileMetaInformation, readPart10 } from '../data/index.js';
import { CommandField, type CommandSet, type IncomingMessage, Status } from '../dimse/index.js';
import type { Logger } from '../log.js';
import type { NegotiatedContext } from '../network/index.js';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../network/index.js';

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
  readonly stream: WriteStream;

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
    this.stream = createWriteStream(this.file, { flags: 'wx', highWaterMark: SINK_HIGH_WATER_MARK });
    // the directory was removed behind our back: create it again for the next instance
    this.stream.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') createdDirs.delete(tempDir);
    });
    this.stream.write(
      encodeFileMetaInformation({
        mediaStorageSopClassUid: this.sopClassUid,
        mediaStorageSopInstanceUid: this.sopInstanceUid,
        transferSyntaxUid: this.transferSyntaxUid,
        implementationClassUid: IMPLEMENTATION_CLASS_UID,
        implementationVersionName: IMPLEMENTATION_VERSION_NAME,
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
    await unlink(this.file).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
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
