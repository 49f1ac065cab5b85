import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type BetterSqlite3Type from 'better-sqlite3';
import type { Database, Statement } from 'better-sqlite3';
import { type CommitmentReference, type CommitmentResult, checkCommitment } from './commitment.js';
import { type CommitmentLog, CommitmentLogStore } from './commitment-log.js';
import type { DicomJsonObject } from './dicom-json.js';
import { IndexError, QueryError, MissingDependencyError } from './errors.js';
import { GroupSync } from './group-sync.js';
import { normalizeDate, normalizePersonName, normalizeTime, type QueryKey } from './matching.js';
import { type MppsSteps, MppsStore } from './mpps.js';
import type { QueryLevel, QueryModel } from './query-attributes.js';
import {
  type BuiltQuery,
  buildFindQuery,
  buildRetrieveQuery,
  type FindOptions,
  type PagedQuery,
} from './query-builder.js';
import { migrate, studyModalitiesSql } from './schema.js';
import { type Worklist, WorklistStore } from './worklist.js';

/**
 * What the index records about one received instance: the Q/R keys of PS3.4 C.6 for each
 * level, plus where the file is. Plain values pulled from the data set by the caller;
 * absent optional values are stored as NULL (and, on update, keep what was there).
 */
export interface InstanceRecord {
  patientId?: string;
  issuerOfPatientId?: string;
  patientName?: string;
  patientBirthDate?: string;
  patientSex?: string;

  studyInstanceUid: string;
  studyDate?: string;
  studyTime?: string;
  accessionNumber?: string;
  studyId?: string;
  referringPhysicianName?: string;
  studyDescription?: string;

  seriesInstanceUid: string;
  modality?: string;
  seriesNumber?: string | number;
  seriesDescription?: string;

  sopInstanceUid: string;
  sopClassUid: string;
  instanceNumber?: string | number;

  /** Absolute path of the stored file. */
  path: string;
  /** File size in bytes. */
  size: number;
  transferSyntaxUid: string;
  /** When it was received; default now. */
  receivedAt?: Date | string;
  callingAet?: string;
  /** Specific Character Set (0008,0005) of the data set, backslash-separated as in DICOM. */
  specificCharacterSet?: string;
}

/** An instance as the index knows it. */
export interface StoredInstance {
  sopInstanceUid: string;
  sopClassUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  path: string;
  size: number;
  transferSyntaxUid: string;
  receivedAt: string;
  callingAet?: string;
}

/** An instance a C-MOVE / C-GET should send. */
export interface RetrieveItem {
  path: string;
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  /** The patient, for the audit trail. */
  patientId: string;
  issuerOfPatientId: string;
  patientName: string | null;
}

/** One C-FIND match: keyword → DICOM string value (`''` for a key with no value). */
export type QueryMatch = Record<string, string>;

/**
 * The Q/R index of a storage node: patient / study / series / instance rows behind the
 * C-FIND, C-MOVE / C-GET and storage commitment services. Two implementations:
 * {@link SqliteIndex} (the default, in the storage directory) and `PgIndex` (PostgreSQL,
 * shared by several nodes). Every instance operation is asynchronous; the SQLite one answers
 * at once. Worklist, MPPS and the commitment log are node-local stores, in SQLite for both.
 */
export interface Index {
  /** Modality Worklist items (scheduled procedure steps). */
  readonly worklist: Worklist;
  /** Modality Performed Procedure Steps. */
  readonly mpps: MppsSteps;
  /** Storage commitment transactions and whether their report was delivered. */
  readonly commitments: CommitmentLog;
  /**
   * Insert or update one instance and its patient/study/series, in one transaction. The
   * change is visible at once; {@link Index.flush} makes it durable.
   */
  upsertInstance(record: InstanceRecord): Promise<{ created: boolean }>;
  /**
   * Resolves once every change committed before the call is on stable storage. Concurrent
   * callers share one fsync (group commit), which runs off the event loop.
   */
  flush(): Promise<void>;
  /** Remove an instance (and parents it leaves empty); returns what was removed. */
  removeInstance(sopInstanceUid: string): Promise<StoredInstance | undefined>;
  getInstance(sopInstanceUid: string): Promise<StoredInstance | undefined>;
  /** True when the instance is indexed (and, if given, under that SOP Class). */
  hasInstance(sopInstanceUid: string, sopClassUid?: string): Promise<boolean>;
  /** The stored SOP Class UID and file of an instance (storage commitment). */
  lookup(sopInstanceUid: string): Promise<{ sopClassUid: string; path: string } | undefined>;
  /**
   * C-FIND on the patient or study root model (see {@link buildFindQuery} for the rules).
   * The keys are checked at the call (a bad key throws {@link QueryError} at once); the
   * matches are then read from the index page by page as they are pulled, so a query costs
   * one page of memory whatever it matches, and the index stays writable in between.
   */
  find(
    model: QueryModel,
    level: QueryLevel,
    keys: readonly QueryKey[],
    options?: FindOptions,
  ): AsyncIterable<QueryMatch>;
  /** The instances a C-MOVE / C-GET designates. */
  filesFor(model: QueryModel, level: QueryLevel, keys: readonly QueryKey[]): Promise<RetrieveItem[]>;
  /** Every indexed instance, in insertion order, read in pages (safe to modify the index meanwhile). */
  allInstances(): AsyncIterable<StoredInstance>;
  /** Storage commitment check of a list of references. */
  checkCommitment(
    refs: readonly CommitmentReference[],
    fileExists?: (path: string) => boolean,
  ): Promise<CommitmentResult>;
  /** Number of rows per level (status output, tests). */
  counts(): Promise<IndexCounts>;
  /** Modality Worklist C-FIND (gives the event loop back while it matches). */
  findWorklist(keys: readonly QueryKey[]): Promise<DicomJsonObject[]>;
  close(): Promise<void>;
}

/** Rows per level of an index. */
export interface IndexCounts {
  patients: number;
  studies: number;
  series: number;
  instances: number;
}

export interface SqliteIndexOptions {
  /**
   * `NORMAL` (default): in WAL mode SQLite does not fsync at commit; a power cut can lose
   * the last transactions but never corrupts the database. {@link SqliteIndex.flush}
   * fdatasyncs the WAL in the thread pool, shared by concurrent commits: the Storage SCP
   * awaits it before answering, so an acknowledged instance's row is durable. `FULL`
   * fsyncs the WAL inside every commit, on the event loop (flush is then a no-op).
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** Milliseconds to wait for another process's write lock. */
  busyTimeoutMs?: number;
  /** Open read-only (tools, tests). */
  readonly?: boolean;
}

/** File name of the index inside a storage root. */
export const INDEX_FILE = 'index.db';

interface InstanceRow {
  pk: number;
  series_fk: number;
  sop_uid: string;
  sop_class_uid: string;
  path: string;
  size: number;
  transfer_syntax: string;
  received_at: string;
  calling_aet: string | null;
  series_uid: string;
  study_uid: string;
}

/** A bound SQL parameter of the index rows. */
export type Param = string | number | null;

/** A trimmed text value, or NULL when absent or empty. */
export function text(value: string | undefined): string | null {
  if (value === undefined || value === null) return null;
  const trimmed = String(value).trim();
  return trimmed === '' ? null : trimmed;
}

/** An integer value (IS), or NULL. */
export function integer(value: string | number | undefined): number | null {
  if (value === undefined || value === null || value === '') return null;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  return Number.isInteger(n) ? n : null;
}

/** A date as stored (YYYYMMDD when it parses), or NULL. */
export function dateText(value: string | undefined): string | null {
  const t = text(value);
  if (t === null) return null;
  return normalizeDate(t) ?? t;
}

/** The column values of an instance's patient, study and series rows, as both index backends store them. */
export interface EntityValues {
  /** patient_name, patient_name_norm, birth_date, sex, charset */
  patientValues: Param[];
  /** study_date, study_time, study_time_norm, accession, study_id, referring (and norm), description, charset */
  studyValues: Param[];
  /** modality, series_number, series_description */
  seriesValues: Param[];
  patientId: string;
  issuer: string;
  /** the instance's Specific Character Set, stored with each row */
  charset: string | null;
}

/** Normalises an instance record into the row values of its patient, study and series. */
export function entityValues(r: InstanceRecord): EntityValues {
  const charset = text(r.specificCharacterSet);
  const patientValues: Param[] = [
    text(r.patientName),
    r.patientName === undefined ? null : normalizePersonName(r.patientName),
    dateText(r.patientBirthDate),
    text(r.patientSex),
    charset,
  ];
  const studyTime = text(r.studyTime);
  const studyValues: Param[] = [
    dateText(r.studyDate),
    studyTime,
    studyTime === null ? null : (normalizeTime(studyTime) ?? studyTime),
    text(r.accessionNumber),
    text(r.studyId),
    text(r.referringPhysicianName),
    r.referringPhysicianName === undefined ? null : normalizePersonName(r.referringPhysicianName),
    text(r.studyDescription),
    charset,
  ];
  const seriesValues: Param[] = [text(r.modality), integer(r.seriesNumber), text(r.seriesDescription)];
  const patientId = text(r.patientId) ?? '';
  const issuer = text(r.issuerOfPatientId) ?? '';
  return { patientValues, studyValues, seriesValues, patientId, issuer, charset };
}

function toStored(row: InstanceRow): StoredInstance {
  const out: StoredInstance = {
    sopInstanceUid: row.sop_uid,
    sopClassUid: row.sop_class_uid,
    studyInstanceUid: row.study_uid,
    seriesInstanceUid: row.series_uid,
    path: row.path,
    size: row.size,
    transferSyntaxUid: row.transfer_syntax,
    receivedAt: row.received_at,
  };
  if (row.calling_aet !== null) out.callingAet = row.calling_aet;
  return out;
}

const INSTANCE_SELECT =
  'SELECT i.pk, i.series_fk, i.sop_uid, i.sop_class_uid, i.path, i.size, i.transfer_syntax, i.received_at,' +
  ' i.calling_aet, se.series_uid, st.study_uid FROM instance i JOIN series se ON se.pk = i.series_fk' +
  ' JOIN study st ON st.pk = se.study_fk';

/** Rows per keyset page of a C-FIND. */
const FIND_PAGE_ROWS = 256;

/** A C-FIND result row as keyword → value. */
export function matchOf(query: BuiltQuery, row: Record<string, string | number | null>): QueryMatch {
  const match: QueryMatch = {};
  for (const column of query.columns) {
    const value = column.alias === undefined ? column.constant : row[column.alias];
    if (column.keyword === 'SpecificCharacterSet' && (value === null || value === undefined)) continue;
    match[column.keyword] = value === null || value === undefined ? '' : String(value);
  }
  return match;
}

/** Prepared statements are cached per SQL text; queries built from the same key set share one. */
const STATEMENT_CACHE_LIMIT = 256;

const require = createRequire(import.meta.url);

/**
 * better-sqlite3, loaded when an index is opened: it is an optional dependency (a native module)
 * that only `serve` needs, so a library user who only calls `connect()` installs no C++ build.
 */
function loadBetterSqlite3(): typeof BetterSqlite3Type {
  try {
    return require('better-sqlite3') as typeof BetterSqlite3Type;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw new MissingDependencyError(
      "the node's index needs the optional dependency better-sqlite3, which is not installed: run `npm install better-sqlite3` (it was left out by --omit=optional, or its native build failed)",
      { cause: err },
    );
  }
}

/**
 * The index as an SQLite database (better-sqlite3, WAL) at `ROOT/index.db`, with
 * patient / study / series / instance tables, the worklist and MPPS tables.
 * Synchronous API: every call is a short transaction on one connection.
 */
export class SqliteIndex implements Index {
  readonly db: Database;
  readonly worklist: WorklistStore;
  readonly mpps: MppsStore;
  readonly commitments: CommitmentLogStore;
  readonly #statements = new Map<string, Statement>();
  readonly #s: ReturnType<typeof prepareStatements>;
  /** The WAL file to fdatasync in {@link SqliteIndex.flush}; undefined when commits sync themselves. */
  readonly #walFile: string | undefined;
  #wal: Promise<FileHandle> | undefined;
  readonly #walSync = new GroupSync(() => this.#syncWal());

  /**
   * Open (creating and migrating as needed) an index. `location` is a storage root
   * directory (the index is `location/index.db`), a path ending in `.db` / `.sqlite`,
   * or `:memory:`.
   */
  constructor(location: string, options: SqliteIndexOptions = {}) {
    const file = indexFileOf(location);
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    try {
      const BetterSqlite3 = loadBetterSqlite3();
      this.db = new BetterSqlite3(file, { readonly: options.readonly ?? false });
      this.db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
      if (!options.readonly) {
        this.db.pragma('journal_mode = WAL');
        this.db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
        this.db.pragma('foreign_keys = ON');
        migrate(this.db);
      }
    } catch (err) {
      if (err instanceof IndexError || err instanceof MissingDependencyError) throw err;
      throw new IndexError(`index: cannot open ${file}: ${(err as Error).message}`, { cause: err });
    }
    this.#s = prepareStatements(this.db);
    this.#walFile =
      file === ':memory:' || options.readonly || options.synchronous === 'FULL' ? undefined : `${file}-wal`;
    this.worklist = new WorklistStore(this.db);
    this.mpps = new MppsStore(this.db);
    this.commitments = new CommitmentLogStore(this.db);
  }

  async upsertInstance(record: InstanceRecord): Promise<{ created: boolean }> {
    return this.upsertInstanceSync(record);
  }

  /** {@link Index.upsertInstance} on the event loop (bulk loads, benchmarks). */
  upsertInstanceSync(record: InstanceRecord): { created: boolean } {
    checkRecord(record);
    const upsert = this.db.transaction((r: InstanceRecord) => {
      const existing = this.#s.instanceByUid.get(r.sopInstanceUid);
      if (existing) this.#removeRows(existing);
      this.#insertRows(r);
      return { created: existing === undefined };
    });
    // IMMEDIATE takes the write lock before the first read: a writer in another process (serve
    // --workers) makes this one wait (busy_timeout) instead of failing SQLITE_BUSY on the upgrade
    return upsert.immediate(record);
  }

  flush(): Promise<void> {
    return this.#walFile === undefined || !this.db.open ? Promise.resolve() : this.#walSync.sync();
  }

  /**
   * fdatasync the WAL: the commit frames SQLite wrote (without syncing, synchronous=NORMAL)
   * reach the disk; recovery replays every frame up to the last valid commit. The WAL file
   * keeps its inode while the database is open (checkpoints rewrite or truncate it in
   * place), so one handle serves for the whole run.
   */
  async #syncWal(): Promise<void> {
    const file = this.#walFile as string;
    this.#wal ??= open(file, 'r');
    try {
      await (await this.#wal).datasync();
    } catch (err) {
      this.#wal = undefined;
      // no WAL yet: nothing was written since the database was opened
      if ((err as { code?: string }).code === 'ENOENT') return;
      throw new IndexError(`index: cannot sync ${file}: ${(err as Error).message}`, { cause: err });
    }
  }

  #insertRows(r: InstanceRecord): void {
    const s = this.#s;
    const { patientValues, studyValues, seriesValues, patientId, issuer, charset } = entityValues(r);

    // The hierarchy is decided bottom-up and the first arrival wins: an existing series
    // stays in its study and an existing study with its patient, whatever a later instance says.
    let seriesPk: number;
    let studyPk: number;
    let patientPk: number;
    const series = s.seriesByUid.get(r.seriesInstanceUid);
    if (series) {
      seriesPk = series.pk;
      studyPk = series.study_fk;
      s.updateSeries.run(...seriesValues, seriesPk);
    }
    const study = series ? s.studyByPk.get(series.study_fk) : s.studyByUid.get(r.studyInstanceUid);
    if (study) {
      studyPk = study.pk;
      patientPk = study.patient_fk;
      if (study.study_uid === r.studyInstanceUid) s.updateStudy.run(...studyValues, studyPk);
      const patient = s.patientByPk.get(patientPk);
      if (patient && patient.patient_id === patientId && patient.issuer === issuer)
        s.updatePatient.run(...patientValues, patientPk);
    } else {
      const patient = s.patientByKey.get(patientId, issuer);
      if (patient) {
        patientPk = patient.pk;
        s.updatePatient.run(...patientValues, patientPk);
      } else {
        patientPk = Number(s.insertPatient.run(patientId, issuer, ...patientValues).lastInsertRowid);
      }
      studyPk = Number(s.insertStudy.run(patientPk, r.studyInstanceUid, ...studyValues).lastInsertRowid);
      s.bumpPatient.run(1, 0, 0, patientPk);
    }
    if (!series) {
      seriesPk = Number(s.insertSeries.run(studyPk, r.seriesInstanceUid, ...seriesValues).lastInsertRowid);
      s.bumpStudy.run(1, 0, studyPk);
      s.bumpPatient.run(0, 1, 0, patientPk);
    }
    if (!series || seriesValues[0] !== null) s.refreshModalities.run({ pk: studyPk });
    const receivedAt =
      r.receivedAt === undefined
        ? new Date().toISOString()
        : r.receivedAt instanceof Date
          ? r.receivedAt.toISOString()
          : r.receivedAt;
    s.insertInstance.run(
      seriesPk!,
      r.sopInstanceUid,
      r.sopClassUid,
      integer(r.instanceNumber),
      r.path,
      r.size,
      r.transferSyntaxUid,
      receivedAt,
      text(r.callingAet),
      charset,
    );
    s.bumpSeries.run(1, seriesPk!);
    s.bumpStudy.run(0, 1, studyPk);
    s.bumpPatient.run(0, 0, 1, patientPk);
  }

  /** Delete an instance row, fix the counters and drop parents left empty. */
  #removeRows(row: InstanceRow): void {
    const s = this.#s;
    const series = s.seriesByPk.get(row.series_fk);
    if (!series) throw new IndexError(`index: instance ${row.sop_uid} has no series row`);
    const study = s.studyByPk.get(series.study_fk);
    if (!study) throw new IndexError(`index: series ${series.series_uid} has no study row`);
    const patientPk = study.patient_fk;
    s.deleteInstance.run(row.pk);
    s.bumpSeries.run(-1, series.pk);
    s.bumpStudy.run(0, -1, study.pk);
    s.bumpPatient.run(0, 0, -1, patientPk);
    if (series.num_instances <= 1) {
      s.deleteSeries.run(series.pk);
      s.bumpStudy.run(-1, 0, study.pk);
      s.bumpPatient.run(0, -1, 0, patientPk);
      s.refreshModalities.run({ pk: study.pk });
      if (study.num_series <= 1) {
        s.deleteStudy.run(study.pk);
        s.bumpPatient.run(-1, 0, 0, patientPk);
        s.deletePatientIfEmpty.run(patientPk);
      }
    }
  }

  async removeInstance(sopInstanceUid: string): Promise<StoredInstance | undefined> {
    return this.removeInstanceSync(sopInstanceUid);
  }

  /** {@link Index.removeInstance} on the event loop. */
  removeInstanceSync(sopInstanceUid: string): StoredInstance | undefined {
    const remove = this.db.transaction((uid: string) => {
      const row = this.#s.instanceByUid.get(uid);
      if (!row) return undefined;
      this.#removeRows(row);
      return toStored(row);
    });
    return remove.immediate(sopInstanceUid);
  }

  async getInstance(sopInstanceUid: string): Promise<StoredInstance | undefined> {
    return this.getInstanceSync(sopInstanceUid);
  }

  /** {@link Index.getInstance} on the event loop. */
  getInstanceSync(sopInstanceUid: string): StoredInstance | undefined {
    const row = this.#s.instanceByUid.get(sopInstanceUid);
    return row ? toStored(row) : undefined;
  }

  async hasInstance(sopInstanceUid: string, sopClassUid?: string): Promise<boolean> {
    const row = this.#s.instanceClass.get(sopInstanceUid);
    return row !== undefined && (sopClassUid === undefined || row.sop_class_uid === sopClassUid);
  }

  async lookup(sopInstanceUid: string): Promise<{ sopClassUid: string; path: string } | undefined> {
    const row = this.#s.instanceClass.get(sopInstanceUid);
    return row ? { sopClassUid: row.sop_class_uid, path: row.path } : undefined;
  }

  checkCommitment(
    refs: readonly CommitmentReference[],
    fileExists?: (path: string) => boolean,
  ): Promise<CommitmentResult> {
    return checkCommitment(this, refs, fileExists);
  }

  #statement(sql: string): Statement {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      if (this.#statements.size >= STATEMENT_CACHE_LIMIT) {
        const oldest = this.#statements.keys().next().value;
        if (oldest !== undefined) this.#statements.delete(oldest);
      }
      try {
        stmt = this.db.prepare(sql);
      } catch (err) {
        throw new QueryError('ERR_QUERY_INVALID', `query failed: ${(err as Error).message}`);
      }
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  #run(sql: string, params: readonly unknown[]): unknown[] {
    const stmt = this.#statement(sql);
    try {
      return stmt.all(...params);
    } catch (err) {
      throw new QueryError('ERR_QUERY_INVALID', `query failed: ${(err as Error).message}`);
    }
  }

  find(
    model: QueryModel,
    level: QueryLevel,
    keys: readonly QueryKey[],
    options?: FindOptions,
  ): AsyncIterable<QueryMatch> {
    const query = buildFindQuery(model, level, keys, options);
    this.#statement(query.pageSql);
    const pages = () => this.#pages(query);
    return {
      [Symbol.asyncIterator]: () => {
        const it = pages();
        return {
          next: async () => it.next(),
          return: async () => it.return(undefined),
        };
      },
    };
  }

  /** {@link Index.find} on the event loop (tests, benchmarks). */
  findSync(
    model: QueryModel,
    level: QueryLevel,
    keys: readonly QueryKey[],
    options?: FindOptions,
  ): Iterable<QueryMatch> {
    const query = buildFindQuery(model, level, keys, options);
    this.#statement(query.pageSql);
    return this.#pages(query);
  }

  *#pages(query: PagedQuery): Generator<QueryMatch> {
    let after = 0;
    for (;;) {
      const rows = this.#run(query.pageSql, [...query.params, after, FIND_PAGE_ROWS]) as Record<
        string,
        string | number | null
      >[];
      for (const row of rows) yield matchOf(query, row);
      if (rows.length < FIND_PAGE_ROWS) return;
      after = Number((rows[rows.length - 1] as Record<string, unknown>).pk_);
    }
  }

  async filesFor(model: QueryModel, level: QueryLevel, keys: readonly QueryKey[]): Promise<RetrieveItem[]> {
    return this.filesForSync(model, level, keys);
  }

  /** {@link Index.filesFor} on the event loop. */
  filesForSync(model: QueryModel, level: QueryLevel, keys: readonly QueryKey[]): RetrieveItem[] {
    const query = buildRetrieveQuery(model, level, keys);
    return this.#run(query.sql, query.params) as RetrieveItem[];
  }

  async *allInstances(): AsyncIterable<StoredInstance> {
    yield* this.allInstancesSync();
  }

  /** {@link Index.allInstances} on the event loop. */
  *allInstancesSync(): Iterable<StoredInstance> {
    let after = 0;
    for (;;) {
      const page = this.#s.instancePage.all(after);
      if (page.length === 0) return;
      for (const row of page) yield toStored(row);
      after = (page[page.length - 1] as InstanceRow).pk;
    }
  }

  async counts(): Promise<IndexCounts> {
    return this.countsSync();
  }

  /** Number of rows per level (status output, tests). */
  countsSync(): IndexCounts {
    return this.db
      .prepare(
        'SELECT (SELECT count(*) FROM patient) AS patients, (SELECT count(*) FROM study) AS studies,' +
          ' (SELECT count(*) FROM series) AS series, (SELECT count(*) FROM instance) AS instances',
      )
      .get() as { patients: number; studies: number; series: number; instances: number };
  }

  findWorklist(keys: readonly QueryKey[]): Promise<DicomJsonObject[]> {
    return this.worklist.find(keys);
  }

  async close(): Promise<void> {
    this.closeSync();
  }

  /** {@link Index.close} on the event loop. */
  closeSync(): void {
    const wal = this.#wal;
    this.#wal = undefined;
    void wal?.then((h) => h.close()).catch(() => undefined);
    if (!this.db.open) return;
    try {
      // Refresh planner statistics for the next start (cheap: only tables that changed much).
      if (!this.db.readonly) this.db.pragma('optimize');
    } finally {
      this.db.close();
    }
  }
}

/** Refuse a record without the UIDs that place it (an {@link IndexError} naming the field). */
export function checkRecord(record: InstanceRecord): void {
  for (const [name, uid] of [
    ['studyInstanceUid', record.studyInstanceUid],
    ['seriesInstanceUid', record.seriesInstanceUid],
    ['sopInstanceUid', record.sopInstanceUid],
    ['sopClassUid', record.sopClassUid],
  ] as const)
    if (typeof uid !== 'string' || uid.trim() === '')
      throw new IndexError(`index: instance record has no ${name}`);
}

function indexFileOf(location: string): string {
  if (location === ':memory:' || /\.(db|sqlite3?)$/i.test(location)) return location;
  return join(location, INDEX_FILE);
}

function prepareStatements(db: Database) {
  return {
    instanceByUid: db.prepare<[string], InstanceRow>(`${INSTANCE_SELECT} WHERE i.sop_uid = ?`),
    instancePage: db.prepare<[number], InstanceRow>(
      `${INSTANCE_SELECT} WHERE i.pk > ? ORDER BY i.pk LIMIT 1000`,
    ),
    instanceClass: db.prepare<[string], { sop_class_uid: string; path: string }>(
      'SELECT sop_class_uid, path FROM instance WHERE sop_uid = ?',
    ),
    patientByKey: db.prepare<[string, string], { pk: number }>(
      'SELECT pk FROM patient WHERE patient_id = ? AND issuer = ?',
    ),
    patientByPk: db.prepare<[number], { pk: number; patient_id: string; issuer: string }>(
      'SELECT pk, patient_id, issuer FROM patient WHERE pk = ?',
    ),
    studyByUid: db.prepare<
      [string],
      { pk: number; patient_fk: number; study_uid: string; num_series: number }
    >('SELECT pk, patient_fk, study_uid, num_series FROM study WHERE study_uid = ?'),
    studyByPk: db.prepare<
      [number],
      { pk: number; patient_fk: number; study_uid: string; num_series: number }
    >('SELECT pk, patient_fk, study_uid, num_series FROM study WHERE pk = ?'),
    seriesByUid: db.prepare<[string], { pk: number; study_fk: number }>(
      'SELECT pk, study_fk FROM series WHERE series_uid = ?',
    ),
    seriesByPk: db.prepare<
      [number],
      { pk: number; study_fk: number; series_uid: string; num_instances: number }
    >('SELECT pk, study_fk, series_uid, num_instances FROM series WHERE pk = ?'),
    insertPatient: db.prepare<Param[]>(
      'INSERT INTO patient (patient_id, issuer, patient_name, patient_name_norm, birth_date, sex, charset)' +
        ' VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    updatePatient: db.prepare<Param[]>(
      'UPDATE patient SET patient_name = COALESCE(?, patient_name), patient_name_norm = COALESCE(?, patient_name_norm),' +
        ' birth_date = COALESCE(?, birth_date), sex = COALESCE(?, sex), charset = COALESCE(?, charset) WHERE pk = ?',
    ),
    insertStudy: db.prepare<Param[]>(
      'INSERT INTO study (patient_fk, study_uid, study_date, study_time, study_time_norm, accession_number, study_id,' +
        ' referring_physician, referring_physician_norm, description, charset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    updateStudy: db.prepare<Param[]>(
      'UPDATE study SET study_date = COALESCE(?, study_date), study_time = COALESCE(?, study_time),' +
        ' study_time_norm = COALESCE(?, study_time_norm), accession_number = COALESCE(?, accession_number),' +
        ' study_id = COALESCE(?, study_id), referring_physician = COALESCE(?, referring_physician),' +
        ' referring_physician_norm = COALESCE(?, referring_physician_norm), description = COALESCE(?, description),' +
        ' charset = COALESCE(?, charset) WHERE pk = ?',
    ),
    insertSeries: db.prepare<Param[]>(
      'INSERT INTO series (study_fk, series_uid, modality, series_number, description) VALUES (?, ?, ?, ?, ?)',
    ),
    updateSeries: db.prepare<Param[]>(
      'UPDATE series SET modality = COALESCE(?, modality), series_number = COALESCE(?, series_number),' +
        ' description = COALESCE(?, description) WHERE pk = ?',
    ),
    insertInstance: db.prepare<Param[]>(
      'INSERT INTO instance (series_fk, sop_uid, sop_class_uid, instance_number, path, size, transfer_syntax,' +
        ' received_at, calling_aet, charset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    deleteInstance: db.prepare<[number]>('DELETE FROM instance WHERE pk = ?'),
    deleteSeries: db.prepare<[number]>('DELETE FROM series WHERE pk = ?'),
    deleteStudy: db.prepare<[number]>('DELETE FROM study WHERE pk = ?'),
    deletePatientIfEmpty: db.prepare<[number]>('DELETE FROM patient WHERE pk = ? AND num_studies <= 0'),
    bumpPatient: db.prepare<[number, number, number, number]>(
      'UPDATE patient SET num_studies = num_studies + ?, num_series = num_series + ?,' +
        ' num_instances = num_instances + ? WHERE pk = ?',
    ),
    bumpStudy: db.prepare<[number, number, number]>(
      'UPDATE study SET num_series = num_series + ?, num_instances = num_instances + ? WHERE pk = ?',
    ),
    refreshModalities: db.prepare<[{ pk: number }]>(
      `UPDATE study SET modalities = (${studyModalitiesSql('@pk')}) WHERE pk = @pk`,
    ),
    bumpSeries: db.prepare<[number, number]>(
      'UPDATE series SET num_instances = num_instances + ? WHERE pk = ?',
    ),
  };
}
