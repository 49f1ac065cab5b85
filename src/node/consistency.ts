import { readdir, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Index, InstanceRecord, StoredInstance } from './index-db.js';
import { INCOMING_DIR, INSTANCE_EXTENSION, type InstanceStorage } from './storage.js';

export interface ConsistencyOptions {
  storage: InstanceStorage;
  index: Index;
  /** Delete index rows whose file is missing (default true); false only reports them. */
  removeMissingRows?: boolean;
  /**
   * Called for each instance file that has no index row; return its record to index it
   * (the caller parses the file), or undefined to leave it reported as an orphan.
   */
  reindex?: (path: string) => Promise<InstanceRecord | undefined> | InstanceRecord | undefined;
}

export interface ConsistencySummary {
  /** Leftover temp files deleted from ROOT/.incoming (interrupted receptions). */
  tempFilesRemoved: number;
  /** Index rows whose file does not exist. */
  missingFiles: StoredInstance[];
  /** How many of those rows were deleted. */
  rowsRemoved: number;
  /** Instance files with no index row that were not re-indexed. */
  orphanFiles: string[];
  /**
   * Files whose SOP Instance UID (their name) is indexed with another file: a duplicate that
   * was never the indexed instance (an unanswered store or a replaced file). Deleted, never
   * re-indexed: that would let the index flip to the other version at each restart.
   */
  supersededRemoved: string[];
  /** Files re-indexed through the callback. */
  reindexed: number;
  /** Files the callback failed on (the error message), left as orphans. */
  reindexFailures: { path: string; error: string }[];
}

/** Instance files under the tree: ROOT/<study>/<series>/<sop>.dcm (the temp dir and index files skipped). */
async function listInstanceFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, level: number): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (level === 0 && entry.name === INCOMING_DIR) continue;
        if (level < 2) await walk(path, level + 1);
      } else if (entry.isFile() && level === 2 && entry.name.endsWith(INSTANCE_EXTENSION)) out.push(path);
    }
  };
  await walk(root, 0);
  return out;
}

/**
 * Startup check of a storage root against its index: sweeps interrupted receptions out
 * of `ROOT/.incoming`, finds rows whose file is gone (deleting them unless told not to)
 * and files with no row (re-indexing them through `reindex` when given).
 */
export async function checkConsistency(options: ConsistencyOptions): Promise<ConsistencySummary> {
  const { storage, index } = options;
  const root = resolve(storage.root);
  const summary: ConsistencySummary = {
    tempFilesRemoved: 0,
    missingFiles: [],
    rowsRemoved: 0,
    orphanFiles: [],
    reindexed: 0,
    reindexFailures: [],
    supersededRemoved: [],
  };

  const incoming = join(root, INCOMING_DIR);
  let temps: string[] = [];
  try {
    temps = await readdir(incoming);
  } catch {
    // no temp directory yet: nothing was ever received
  }
  for (const name of temps) {
    await rm(join(incoming, name), { recursive: true, force: true });
    summary.tempFilesRemoved++;
  }

  const files = new Set((await listInstanceFiles(root)).map((f) => resolve(f)));
  const indexed = new Set<string>();
  for await (const instance of index.allInstances()) {
    const path = resolve(instance.path);
    indexed.add(path);
    if (files.has(path)) continue;
    summary.missingFiles.push(instance);
    if (
      options.removeMissingRows !== false &&
      (await index.removeInstance(instance.sopInstanceUid)) !== undefined
    )
      summary.rowsRemoved++;
  }

  for (const path of files) {
    if (indexed.has(path)) continue;
    const other = await index.getInstance(basename(path, INSTANCE_EXTENSION));
    if (other !== undefined && resolve(other.path) !== path) {
      await storage.remove(path).catch(() => undefined);
      summary.supersededRemoved.push(path);
      continue;
    }
    if (options.reindex === undefined) {
      summary.orphanFiles.push(path);
      continue;
    }
    try {
      const record = await options.reindex(path);
      const known = record === undefined ? undefined : await index.getInstance(record.sopInstanceUid);
      if (record === undefined) summary.orphanFiles.push(path);
      else if (known !== undefined && resolve(known.path) !== path) {
        // named otherwise than its SOP Instance UID, which is indexed with another file
        await storage.remove(path).catch(() => undefined);
        summary.supersededRemoved.push(path);
      } else {
        await index.upsertInstance(record);
        summary.reindexed++;
      }
    } catch (err) {
      summary.reindexFailures.push({ path, error: err instanceof Error ? err.message : String(err) });
      summary.orphanFiles.push(path);
    }
  }
  return summary;
}
