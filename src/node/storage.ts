import { randomUUID } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  fdatasync,
  fstatSync,
  fsync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  type ReadStream,
} from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { StorageError } from './errors.js';
import { GroupSync } from './group-sync.js';
import { KeyedMutex } from './lock-map.js';
import { isSafeUid } from './uid.js';

/** What to do when an instance with the same SOP Instance UID is already stored. */
export type DuplicatePolicy = 'keep' | 'replace' | 'reject';

/** The three UIDs that place an instance in the storage tree. */
export interface InstanceLocation {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
}

/**
 * How a commit ended: `stored` (new file), `replaced` (policy replace, an older file was
 * overwritten), `kept-existing` (policy keep: the earlier file stays, the new one is dropped),
 * `rejected` (policy reject: same, but the caller should answer with a failure/warning status).
 */
export type CommitOutcome = 'stored' | 'kept-existing' | 'replaced' | 'rejected';

/**
 * What to do with an instance, decided on its SOP Instance UID under the per-UID lock before
 * anything is placed: `place` it (as new, or replacing the file at `replaces`), or drop it
 * (`kept-existing` / `rejected`, the earlier instance living at `path`).
 */
export type PlaceDecision =
  { place: true; replaces?: string } | { place: false; outcome: 'kept-existing' | 'rejected'; path: string };

export interface CommitOptions {
  /**
   * Decides, holding the per-UID lock and before anything is placed, whether the instance is
   * stored (normally from the index: whether the SOP Instance UID is known, and who sent it).
   * Without it the file tree decides through `policy` at the target path. A placed instance
   * overwrites a file left at its path (one with no index entry).
   */
  decide?: (target: string) => PlaceDecision | Promise<PlaceDecision>;
  /**
   * Runs once the file is in place, still holding the per-UID lock: index the instance
   * here so that concurrent stores of one SOP Instance UID update file and index in the
   * same order. `placed` settles when the new name is durable (its directory fsynced);
   * the callback runs meanwhile, so the index write overlaps that fsync, and `commit`
   * resolves only after both. Its error is passed through (the file stays; the caller decides).
   */
  whileLocked?: (result: CommitResult, placed: Promise<void>) => void | Promise<void>;
  /** The temp file was already made durable with {@link InstanceStorage.syncTemp}: skip that step. */
  tempSynced?: boolean;
}

export interface CommitResult {
  /** Absolute path of the instance file that is now in place. */
  path: string;
  outcome: CommitOutcome;
  /** `replaced` by a {@link CommitOptions.decide} decision: the earlier instance's file. */
  previousPath?: string;
}

/**
 * Where received instances live. The filesystem implementation is {@link FileStorage};
 * an object-store implementation would keep the same contract.
 */
export interface InstanceStorage {
  /** Absolute root directory. */
  readonly root: string;
  /** Directory for instances being received; same file system as the tree, so commit is a rename. */
  tempDir(): string;
  /** A fresh, unused file name inside {@link InstanceStorage.tempDir}. */
  createTempPath(): string;
  /** Final path of an instance (validates the UIDs). */
  pathFor(location: InstanceLocation): string;
  /**
   * Durably move a completely written temp file into place. The temp file is consumed in
   * every outcome (moved, or deleted when dropped or on failure).
   */
  commit(
    tempFile: string,
    location: InstanceLocation,
    policy: DuplicatePolicy,
    options?: CommitOptions,
  ): Promise<CommitResult>;
  /**
   * Make a completely written temp file's contents durable (fdatasync) and return its size;
   * lets the caller overlap this with parsing before {@link InstanceStorage.commit}.
   */
  syncTemp(tempFile: string): Promise<{ size: number }>;
  /** Write `data` to a temp file and {@link InstanceStorage.commit} it. */
  write(data: Uint8Array, location: InstanceLocation, policy: DuplicatePolicy): Promise<CommitResult>;
  /** Open a stored file read-only. */
  open(path: string): Promise<fsp.FileHandle>;
  /** Read a whole stored file. */
  read(path: string): Promise<Buffer>;
  /** Stream a stored file. */
  createReadStream(path: string): ReadStream;
  /** True if the stored file exists. */
  exists(path: string): Promise<boolean>;
  /** Delete a stored file and any series/study directory it leaves empty. */
  remove(path: string): Promise<void>;
}

/** The file-system calls {@link FileStorage} makes; replace some to inject failures in tests. */
export interface StorageFs {
  open(
    path: string,
    flags: string,
  ): Promise<{
    sync(): Promise<void>;
    datasync?(): Promise<void>;
    stat?(): Promise<{ size: number }>;
    close(): Promise<void>;
  }>;
  writeFile(path: string, data: Uint8Array, options: { flag: string }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  link(existing: string, newPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string, options: { recursive: true }): Promise<string | undefined>;
  rmdir(path: string): Promise<void>;
  stat(path: string): Promise<{ size: number }>;
}

const nodeFs: StorageFs = {
  open: async (path, flags) => openForSync(path, flags),
  writeFile: (path, data, options) => fsp.writeFile(path, data, options),
  // Names are in-memory metadata updates: made on the event loop so they never queue behind
  // fsyncs that occupy the thread pool.
  rename: async (from, to) => renameSync(from, to),
  copyFile: (from, to) => fsp.copyFile(from, to),
  link: async (existing, newPath) => linkSync(existing, newPath),
  unlink: async (path) => unlinkSync(path),
  mkdir: (path, options) => fsp.mkdir(path, options),
  rmdir: (path) => fsp.rmdir(path),
  stat: (path) => fsp.stat(path),
};

/**
 * A file or directory opened only to be synced. Opening, fstat and closing an existing
 * file are quick in-memory calls, made here on the event loop; only the fsync itself goes
 * to the thread pool (one round trip per sync instead of four).
 */
function openForSync(path: string, flags: string) {
  const fd = openSync(path, flags);
  const inPool = (call: typeof fsync) => () =>
    new Promise<void>((resolve, reject) => call(fd, (err) => (err ? reject(err) : resolve())));
  return {
    sync: inPool(fsync),
    datasync: inPool(fdatasync),
    stat: async () => fstatSync(fd),
    close: async () => closeSync(fd),
  };
}

export interface FileStorageOptions {
  /** Override file-system calls (failure injection in tests). */
  fs?: Partial<StorageFs>;
}

/** A file put in place whose new name is not durable yet. */
interface Placed {
  result: CommitResult;
  /** Directory to fsync before the name counts; absent when nothing was placed. */
  syncDir?: string;
  /** The temp file still exists under its own name (linked, or dropped): delete it. */
  dropTemp: boolean;
}

/** Name of the temp directory inside the storage root. */
export const INCOMING_DIR = '.incoming';

/** Extension of stored instance files. */
export const INSTANCE_EXTENSION = '.dcm';

function errnoOf(err: unknown): string | undefined {
  return err && typeof err === 'object' && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/** Wrap a file-system failure: a full disk or quota gets its own code so the SCP can say 0xA700. */
function storageFailure(action: string, err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const errno = errnoOf(err);
  const detail = err instanceof Error ? err.message : String(err);
  if (errno === 'ENOSPC' || errno === 'EDQUOT')
    return new StorageError('ERR_STORAGE_FULL', `storage: out of space while ${action} (${errno})`, {
      cause: err,
    });
  return new StorageError('ERR_STORAGE_IO', `storage: ${action} failed: ${detail}`, { cause: err });
}

/**
 * Instances as files under `ROOT/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm`.
 *
 * Durability: the temp file is fdatasynced before it is renamed (or hard-linked) into place
 * and the series directory is fsynced after, so after `commit` resolves the instance survives
 * a power cut; a crash before that leaves at most a temp file in `ROOT/.incoming`, which the
 * startup consistency check deletes. Commits of one SOP Instance UID are serialized in-process.
 * Directory fsyncs are group commits (concurrent commits into one series share them), and a
 * directory is created (and its parent fsynced) once, not per instance.
 */
export class FileStorage implements InstanceStorage {
  readonly root: string;
  readonly #fs: StorageFs;
  readonly #locks = new KeyedMutex();
  /** Directories known to exist (made or seen by this process): no mkdir per instance. */
  readonly #knownDirs = new Set<string>();
  /** Running/queued directory fsyncs, one group per directory. */
  readonly #dirSyncs = new Map<string, GroupSync>();

  constructor(root: string, options: FileStorageOptions = {}) {
    this.root = resolve(root);
    this.#fs = { ...nodeFs, ...options.fs };
  }

  tempDir(): string {
    const dir = join(this.root, INCOMING_DIR);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  createTempPath(): string {
    return join(this.tempDir(), `${randomUUID()}.part`);
  }

  pathFor(location: InstanceLocation): string {
    const { studyInstanceUid, seriesInstanceUid, sopInstanceUid } = location;
    for (const [name, uid] of [
      ['StudyInstanceUID', studyInstanceUid],
      ['SeriesInstanceUID', seriesInstanceUid],
      ['SOPInstanceUID', sopInstanceUid],
    ] as const) {
      if (typeof uid !== 'string' || !isSafeUid(uid))
        throw new StorageError(
          'ERR_STORAGE_BAD_UID',
          `storage: ${name} ${JSON.stringify(uid)} is not a valid UID (digits and dots, 1-64 characters)`,
        );
    }
    return join(this.root, studyInstanceUid, seriesInstanceUid, sopInstanceUid + INSTANCE_EXTENSION);
  }

  async commit(
    tempFile: string,
    location: InstanceLocation,
    policy: DuplicatePolicy,
    options: CommitOptions = {},
  ): Promise<CommitResult> {
    let target: string;
    try {
      target = this.pathFor(location);
    } catch (err) {
      await this.#discard(tempFile);
      throw err;
    }
    return this.#locks.run(location.sopInstanceUid, async () => {
      let placed: Placed;
      try {
        const decision = options.decide ? await options.decide(target) : undefined;
        if (decision !== undefined && !decision.place) {
          await this.#discard(tempFile);
          return { path: decision.path, outcome: decision.outcome };
        }
        placed = await this.#commitLocked(
          tempFile,
          target,
          decision === undefined ? policy : 'replace',
          options.tempSynced === true,
        );
        if (decision !== undefined)
          placed.result =
            decision.replaces === undefined
              ? { path: target, outcome: 'stored' }
              : { path: target, outcome: 'replaced', previousPath: decision.replaces };
      } catch (err) {
        await this.#discard(tempFile);
        throw storageFailure(`storing ${location.sopInstanceUid}`, err);
      }
      const { result } = placed;
      // The name becomes durable while the caller indexes; the temp name goes meanwhile.
      const durable = (placed.syncDir ? this.#syncDirectory(placed.syncDir) : Promise.resolve()).catch(
        (err: unknown) => {
          throw storageFailure(`storing ${location.sopInstanceUid}`, err);
        },
      );
      const cleanup = placed.dropTemp ? this.#discard(tempFile) : undefined;
      try {
        if (options.whileLocked) await options.whileLocked(result, durable);
        await durable;
      } finally {
        await durable.catch(() => undefined);
        await cleanup;
      }
      return result;
    });
  }

  async syncTemp(tempFile: string): Promise<{ size: number }> {
    try {
      return await this.#syncFile(tempFile, 'r+');
    } catch (err) {
      throw storageFailure(`syncing ${tempFile}`, err);
    }
  }

  async write(data: Uint8Array, location: InstanceLocation, policy: DuplicatePolicy): Promise<CommitResult> {
    const temp = this.createTempPath();
    try {
      await this.#fs.writeFile(temp, data, { flag: 'wx' });
    } catch (err) {
      await this.#discard(temp);
      throw storageFailure(`writing ${location.sopInstanceUid}`, err);
    }
    return this.commit(temp, location, policy);
  }

  async #commitLocked(
    tempFile: string,
    target: string,
    policy: DuplicatePolicy,
    tempSynced: boolean,
  ): Promise<Placed> {
    if (!tempSynced) await this.#syncFile(tempFile, 'r+');
    try {
      return await this.#place(tempFile, target, policy);
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === 'EXDEV') return await this.#placeFromOtherFileSystem(tempFile, target, policy);
      // remove() of a sibling may have pruned the series directory: make it again, once.
      if (errno !== 'ENOENT') throw err;
      this.#forgetDirs(dirname(target));
      return await this.#place(tempFile, target, policy);
    }
  }

  /** A temp file outside this file system: copy it into our temp dir first, then place that. */
  async #placeFromOtherFileSystem(
    tempFile: string,
    target: string,
    policy: DuplicatePolicy,
  ): Promise<Placed> {
    const local = this.createTempPath();
    try {
      await this.#fs.copyFile(tempFile, local);
      await this.#syncFile(local, 'r+');
      const placed = await this.#place(local, target, policy);
      if (placed.dropTemp) await this.#discard(local);
      // the caller drops the original temp file
      return { ...placed, dropTemp: true };
    } catch (err) {
      await this.#discard(local);
      throw err;
    }
  }

  /**
   * Put the (durable) temp file at `target`. The new name is not yet durable: the caller
   * fsyncs `syncDir`, and deletes the temp file when `dropTemp` (it was linked, not moved).
   */
  async #place(tempFile: string, target: string, policy: DuplicatePolicy): Promise<Placed> {
    const dir = dirname(target);
    if (!this.#knownDirs.has(dir)) {
      const firstCreated = await this.#fs.mkdir(dir, { recursive: true });
      if (firstCreated !== undefined) await this.#syncNewDirectories(firstCreated, dir);
      this.#knownDirs.add(dir);
    }

    if (policy === 'replace') {
      const existed = await this.#exists(target);
      await this.#fs.rename(tempFile, target);
      return {
        result: { path: target, outcome: existed ? 'replaced' : 'stored' },
        syncDir: dir,
        dropTemp: false,
      };
    }

    const dropped: CommitOutcome = policy === 'keep' ? 'kept-existing' : 'rejected';
    // link() creates the name only if it is free: no window between "exists?" and "move".
    try {
      await this.#fs.link(tempFile, target);
    } catch (err) {
      const errno = errnoOf(err);
      if (errno === 'EEXIST') return { result: { path: target, outcome: dropped }, dropTemp: true };
      if (errno !== 'EPERM' && errno !== 'ENOTSUP' && errno !== 'EOPNOTSUPP' && errno !== 'ENOSYS') throw err;
      // File systems without hard links: fall back to check-then-rename (safe in-process under the lock).
      if (await this.#exists(target)) return { result: { path: target, outcome: dropped }, dropTemp: true };
      await this.#fs.rename(tempFile, target);
      return { result: { path: target, outcome: 'stored' }, syncDir: dir, dropTemp: false };
    }
    return { result: { path: target, outcome: 'stored' }, syncDir: dir, dropTemp: true };
  }

  /** fsync every directory from the root down to `leaf` that mkdir just created, and its parent. */
  async #syncNewDirectories(firstCreated: string, leaf: string): Promise<void> {
    const chain: string[] = [];
    for (let d = leaf; ; d = dirname(d)) {
      chain.push(d);
      if (d === firstCreated || dirname(d) === d) break;
    }
    chain.push(dirname(firstCreated));
    await Promise.all(chain.map((d) => this.#syncDirectory(d)));
  }

  /** fsync a directory, sharing the fsync with concurrent commits into it. */
  #syncDirectory(dir: string): Promise<void> {
    let group = this.#dirSyncs.get(dir);
    if (!group) {
      const created = new GroupSync(
        async () => {
          await this.#syncFile(dir, 'r');
        },
        () => {
          if (this.#dirSyncs.get(dir) === created) this.#dirSyncs.delete(dir);
        },
      );
      group = created;
      this.#dirSyncs.set(dir, group);
    }
    return group.sync();
  }

  /** Forget `dir` and its parents up to the root as known to exist. */
  #forgetDirs(dir: string): void {
    for (let d = dir; d !== this.root && d.startsWith(this.root + sep); d = dirname(d))
      this.#knownDirs.delete(d);
  }

  /** fsync a directory ('r') or fdatasync a file ('r+'); resolves with the file's size. */
  async #syncFile(path: string, flags: string): Promise<{ size: number }> {
    const handle = await this.#fs.open(path, flags);
    try {
      // A file ('r+') needs its data and size on disk: fdatasync suffices (size is part of
      // what it writes; timestamps are not needed). Directories ('r') get fsync so that new
      // names are durable.
      if (flags === 'r+' && handle.datasync) {
        const [, st] = await Promise.all([handle.datasync(), handle.stat?.()]);
        return { size: st?.size ?? (await this.#fs.stat(path)).size };
      }
      await handle.sync();
      return { size: 0 };
    } finally {
      await handle.close();
    }
  }

  async #exists(path: string): Promise<boolean> {
    try {
      await this.#fs.stat(path);
      return true;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return false;
      throw err;
    }
  }

  async #discard(path: string): Promise<void> {
    try {
      await this.#fs.unlink(path);
    } catch {
      // Already gone, or the disk is in trouble: the startup check sweeps .incoming anyway.
    }
  }

  #inside(path: string): string {
    const abs = resolve(path);
    const rel = relative(this.root, abs);
    if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || resolve(this.root, rel) !== abs)
      throw new StorageError('ERR_STORAGE_BAD_PATH', `storage: ${path} is not inside ${this.root}`);
    return abs;
  }

  async open(path: string): Promise<fsp.FileHandle> {
    return fsp.open(this.#inside(path), 'r');
  }

  async read(path: string): Promise<Buffer> {
    return fsp.readFile(this.#inside(path));
  }

  createReadStream(path: string): ReadStream {
    return createReadStream(this.#inside(path));
  }

  async exists(path: string): Promise<boolean> {
    return this.#exists(this.#inside(path));
  }

  async remove(path: string): Promise<void> {
    const abs = this.#inside(path);
    try {
      await this.#fs.unlink(abs);
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw storageFailure(`removing ${abs}`, err);
    }
    // Drop the series and study directories if that was their last file.
    for (let d = dirname(abs); d !== this.root && d.startsWith(this.root + sep); d = dirname(d)) {
      try {
        await this.#fs.rmdir(d);
        this.#knownDirs.delete(d);
      } catch {
        break;
      }
    }
  }
}
