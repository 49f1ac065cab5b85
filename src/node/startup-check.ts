import { stat } from 'node:fs/promises';
import { readPart10 } from '../data/index.js';
import type { Logger } from '../log.js';
import { type ConsistencySummary, checkConsistency } from './consistency.js';
import type { Index } from './index-db.js';
import { instanceRecordOf } from './service-store.js';
import type { FileStorage } from './storage.js';

/**
 * The start-up consistency check of a storage directory (temp files of interrupted
 * receptions removed, index rows and files reconciled), with its repairs logged. It must
 * run while no process of the node receives into that directory: a node runs it before it
 * listens, a cluster primary before it forks its workers.
 */
export async function startupCheck(
  storage: FileStorage,
  index: Index,
  log: Logger,
): Promise<ConsistencySummary> {
  const consistency = await checkConsistency({
    storage,
    index,
    reindex: async (path) => {
      const { dataset, transferSyntaxUid } = await readPart10(path, { bulkDataThreshold: 4096 });
      return instanceRecordOf(dataset, { path, size: (await stat(path)).size, transferSyntaxUid });
    },
  });
  const repaired =
    consistency.tempFilesRemoved +
    consistency.rowsRemoved +
    consistency.reindexed +
    consistency.orphanFiles.length +
    consistency.supersededRemoved.length;
  if (repaired > 0) {
    log.warn(
      {
        tempFilesRemoved: consistency.tempFilesRemoved,
        rowsRemoved: consistency.rowsRemoved,
        reindexed: consistency.reindexed,
        orphanFiles: consistency.orphanFiles,
        supersededRemoved: consistency.supersededRemoved.length,
        reindexFailures: consistency.reindexFailures,
      },
      'storage consistency check repaired or found problems',
    );
  }
  return consistency;
}

/** What a process that skipped the check (a cluster worker) reports as its summary. */
export function noConsistencyCheck(): ConsistencySummary {
  return {
    tempFilesRemoved: 0,
    missingFiles: [],
    rowsRemoved: 0,
    orphanFiles: [],
    supersededRemoved: [],
    reindexed: 0,
    reindexFailures: [],
  };
}
