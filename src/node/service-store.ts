import {
  type Dataset,
  DicomParseError,
  formatTag,
  type ReadPart10Options,
  readPart10,
} from '../data/index.js';
import { Status } from '../dimse/index.js';
import { errorKind } from '../errors.js';
import type { Logger } from '../log.js';
import type { StoreHandlerResult, StoreRequest } from '../services/server.js';
import type { ActivityTracker } from './activity.js';
import { countStudyInstance } from './audit.js';
import { StorageError } from './errors.js';
import type { Index, InstanceRecord, StoredInstance } from './index-db.js';
import type { DuplicatePolicy, InstanceStorage, PlaceDecision } from './storage.js';

/** Failure: Duplicate SOP Instance (0x0111), the answer to a duplicate under policy `reject`. */
export const DUPLICATE_SOP_INSTANCE = 0x0111;

/** Failure 0xC000 "Cannot understand": the data set lacks what storing it needs. */
export const CANNOT_UNDERSTAND = 0xc000;

const INSTANCE_KEYS = {
  patientId: 'PatientID',
  issuerOfPatientId: 'IssuerOfPatientID',
  patientName: 'PatientName',
  patientBirthDate: 'PatientBirthDate',
  patientSex: 'PatientSex',
  studyDate: 'StudyDate',
  studyTime: 'StudyTime',
  accessionNumber: 'AccessionNumber',
  studyId: 'StudyID',
  referringPhysicianName: 'ReferringPhysicianName',
  studyDescription: 'StudyDescription',
  modality: 'Modality',
  seriesNumber: 'SeriesNumber',
  seriesDescription: 'SeriesDescription',
  instanceNumber: 'InstanceNumber',
} as const;

/**
 * How a received instance is read for its index record: only the attributes matter, so the
 * large values of a deflated data set are dropped as they inflate (not spilled to temp files
 * that would outlive the request), and inflation stops at the default limit (a deflate bomb
 * is answered 0xC000).
 */
const INDEX_READ: ReadPart10Options = {
  bulkDataThreshold: 64 * 1024,
  deflatedBulk: { kind: 'sink', open: () => ({ write: () => undefined, end: () => Buffer.alloc(0) }) },
};

/** The index record of a stored instance, from its data set. */
export function instanceRecordOf(
  ds: Dataset,
  file: { path: string; size: number; transferSyntaxUid: string; callingAet?: string },
): InstanceRecord {
  const required = (keyword: string): string => {
    const v = ds.getString(keyword)?.trim();
    if (!v) throw new StorageError('ERR_STORAGE_BAD_INSTANCE', `instance has no ${keyword}`);
    return v;
  };
  const record: InstanceRecord = {
    studyInstanceUid: required('StudyInstanceUID'),
    seriesInstanceUid: required('SeriesInstanceUID'),
    sopInstanceUid: required('SOPInstanceUID'),
    sopClassUid: required('SOPClassUID'),
    path: file.path,
    size: file.size,
    transferSyntaxUid: file.transferSyntaxUid,
    callingAet: file.callingAet,
    specificCharacterSet: ds.getStrings('SpecificCharacterSet')?.join('\\'),
  };
  const optional = record as unknown as Record<string, string>;
  for (const [field, keyword] of Object.entries(INSTANCE_KEYS)) {
    const value = ds.getStrings(keyword)?.join('\\');
    if (value !== undefined && value !== '') optional[field] = value;
  }
  return record;
}

/**
 * Error Comment (at most 64 characters) for a data set that does not parse: where it breaks
 * off, e.g. `data set truncated: (0010,4000) at offset 382`.
 */
export function parseErrorComment(err: DicomParseError): string {
  const what =
    err.code === 'ERR_TRUNCATED' || err.code === 'ERR_LENGTH_PAST_END'
      ? 'data set truncated'
      : `data set unreadable (${err.code})`;
  const where =
    err.tag !== undefined && err.offset !== undefined
      ? `${formatTag(err.tag)} at offset ${err.offset}`
      : err.offset !== undefined
        ? `at offset ${err.offset}`
        : '';
  return where ? `${what}: ${where}` : what;
}

/** What the Storage SCP needs from the node. */
export interface StoreServiceOptions {
  storage: InstanceStorage;
  index: Index;
  policy: DuplicatePolicy;
  activity: ActivityTracker;
  log: Logger;
  /** Wrap each commit + index (shutdown waits for them). */
  track: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Deepest sequence nesting accepted in a received instance (default 32). */
  maxDatasetDepth?: number;
}

/**
 * Storage SCP: the received temp file (already in STORAGE/.incoming) is fsynced and moved
 * into place, then indexed while the per-UID lock is held, and only then is the C-STORE
 * answered. A full disk answers 0xA700; an index failure removes the new file again (no
 * file without an index row).
 */
export function storeHandler(options: StoreServiceOptions) {
  const { storage, index, policy, activity, log, track } = options;
  return async (instance: StoreRequest): Promise<StoreHandlerResult> => {
    const counters = activity.of(instance.association);
    // every failure tells the requestor why (Error Comment), as the log line does
    const answer = await track(() => storeOne(instance)).catch((err: unknown): StoreHandlerResult => {
      const why = err instanceof Error ? err.message : String(err);
      if (err instanceof StorageError && err.code === 'ERR_STORAGE_FULL') {
        log.error({ err, sopInstanceUid: instance.sopInstanceUid }, 'storage full: C-STORE refused (0xA700)');
        return { status: Status.OutOfResources, errorComment: 'storage full' };
      }
      if (err instanceof DicomParseError) {
        // say where the data set breaks off (tag and offset in the received file, never a value)
        log.warn({ sopInstanceUid: instance.sopInstanceUid }, `C-STORE refused: ${err.message}`);
        return { status: CANNOT_UNDERSTAND, errorComment: parseErrorComment(err) };
      }
      if ((err instanceof StorageError && err.kind === 'dimse') || errorKind(err) === 'parse') {
        log.warn({ sopInstanceUid: instance.sopInstanceUid }, `C-STORE refused: ${why}`);
        return { status: CANNOT_UNDERSTAND, errorComment: why };
      }
      log.error({ err, sopInstanceUid: instance.sopInstanceUid }, 'C-STORE failed');
      return { status: Status.OutOfResources, errorComment: `cannot store: ${why}` };
    });
    const status = typeof answer === 'number' ? answer : answer.status;
    if (status !== Status.Success) counters.storeFailures++;
    return answer;
  };

  async function storeOne(instance: StoreRequest): Promise<StoreHandlerResult> {
    const counters = activity.of(instance.association);
    // fdatasync the temp file in the thread pool while the data set is parsed here; large
    // values are dropped, not spilled (a deflated bomb must not fill the temp directory)
    const synced = storage.syncTemp(instance.file);
    synced.catch(() => undefined);
    const ds = (await readPart10(instance.file, { ...INDEX_READ, maxDepth: options.maxDatasetDepth }))
      .dataset;
    const declared = ds.getString('SOPInstanceUID')?.trim();
    if (declared && instance.sopInstanceUid && declared !== instance.sopInstanceUid)
      throw new StorageError(
        'ERR_STORAGE_BAD_INSTANCE',
        `SOP Instance UID ${declared} of the data set differs from ${instance.sopInstanceUid} of the command`,
      );
    const record = instanceRecordOf(ds, {
      path: '',
      size: 0,
      transferSyntaxUid: instance.transferSyntaxUid,
      callingAet: instance.association.callingAet,
    });
    const { size } = await synced;
    record.size = size;
    const callingAet = instance.association.callingAet;
    const result = await storage.commit(
      instance.file,
      {
        studyInstanceUid: record.studyInstanceUid,
        seriesInstanceUid: record.seriesInstanceUid,
        sopInstanceUid: record.sopInstanceUid,
      },
      policy,
      {
        tempSynced: true,
        // The SOP Instance UID decides, not the path the newcomer claims: an instance already
        // indexed is never taken over by one that says it belongs to another study or patient.
        decide: async () => {
          const existing = await index.getInstance(record.sopInstanceUid);
          if (existing === undefined) return { place: true };
          const decision = duplicateDecision(policy, existing, callingAet);
          if (!decision.place || existing.studyInstanceUid !== record.studyInstanceUid)
            log.warn(
              {
                association: instance.association.id,
                sopInstanceUid: record.sopInstanceUid,
                callingAet,
                firstCallingAet: existing.callingAet,
                otherStudy: existing.studyInstanceUid !== record.studyInstanceUid,
              },
              decision.place
                ? 'duplicate SOP Instance UID from the same AE: replaced (duplicates: replace)'
                : `duplicate SOP Instance UID: the first instance is kept (duplicates: ${policy})`,
            );
          return decision;
        },
        whileLocked: async (r, placed) => {
          if (r.outcome !== 'stored' && r.outcome !== 'replaced') return;
          // The row is written while the directory fsync runs, then the WAL is synced (shared
          // with concurrent stores): both the name and the row are durable before we answer.
          let indexed = false;
          try {
            await index.upsertInstance({ ...record, path: r.path });
            indexed = true;
            await Promise.all([placed, index.flush()]);
          } catch (err) {
            // no file without an index row, no row for a name that may not survive
            if (r.outcome === 'stored') {
              if (indexed) await index.removeInstance(record.sopInstanceUid).catch(() => undefined);
              await storage.remove(r.path).catch(() => undefined);
            } else if (!indexed && r.previousPath !== undefined && r.previousPath !== r.path) {
              // the row still names the earlier file: the new one goes
              await storage.remove(r.path).catch(() => undefined);
            }
            throw err;
          }
          // The row names the new file (durably): the earlier file, at another path, goes.
          if (r.previousPath !== undefined && r.previousPath !== r.path)
            await storage.remove(r.previousPath).catch((err: unknown) => {
              log.warn(
                { err, sopInstanceUid: record.sopInstanceUid },
                'cannot remove the replaced file (the startup check removes it)',
              );
            });
        },
      },
    );
    if (result.outcome === 'rejected')
      return { status: DUPLICATE_SOP_INSTANCE, errorComment: 'duplicate SOP Instance UID (policy reject)' };
    counters.instancesStored++;
    counters.bytesReceived += size;
    // audited at the end of the association: created (C) or updated (U); a kept duplicate changed nothing
    if (result.outcome === 'stored') countStudyInstance(counters.studies, record);
    else if (result.outcome === 'replaced') countStudyInstance(counters.updatedStudies, record);
    return Status.Success;
  }
}

/**
 * The policy applied to an instance whose SOP Instance UID is already indexed: `keep` keeps
 * the first; `replace` replaces it only when the same calling AE sent it (dcm4chee's
 * SAME_SOURCE: a modality correcting its own instance), and keeps it otherwise; `reject`
 * answers a failure.
 */
export function duplicateDecision(
  policy: DuplicatePolicy,
  existing: StoredInstance,
  callingAet: string,
): PlaceDecision {
  if (policy === 'replace' && existing.callingAet !== undefined && existing.callingAet === callingAet)
    return { place: true, replaces: existing.path };
  return { place: false, outcome: policy === 'reject' ? 'rejected' : 'kept-existing', path: existing.path };
}
