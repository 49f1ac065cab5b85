import type { Pool, PoolClient, PoolConfig } from 'pg';
import { type CommitmentReference, type CommitmentResult, checkCommitment } from './commitment.js';
import type { CommitmentLog } from './commitment-log.js';
import type { DicomJsonObject } from './dicom-json.js';
import { IndexError, MissingDependencyError, QueryError } from './errors.js';
import {
  checkRecord,
  entityValues,
  type Index,
  type IndexCounts,
  type InstanceRecord,
  integer,
  matchOf,
  type QueryMatch,
  type RetrieveItem,
  SqliteIndex,
  type StoredInstance,
  text,
} from './index-db.js';
import type { Logger } from '../log.js';
import type { QueryKey } from './matching.js';
import type { MppsSteps } from './mpps.js';
import type { QueryLevel, QueryModel } from './query-attributes.js';
import { type BuiltQuery, buildFindQuery, buildRetrieveQuery, type FindOptions } from './query-builder.js';
import type { Worklist } from './worklist.js';

/**
 * Schema of the PostgreSQL index, applied in order inside one transaction at start; the
 * `dicomnet_schema` row records how many ran. Append new steps, never edit a released one.
 * Text columns are `COLLATE "C"` so that comparisons and LIKE are byte-wise, as in SQLite.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE patient (
    pk BIGSERIAL PRIMARY KEY,
    patient_id TEXT COLLATE "C" NOT NULL,
    issuer TEXT COLLATE "C" NOT NULL DEFAULT '',
    patient_name TEXT COLLATE "C",
    patient_name_norm TEXT COLLATE "C",
    birth_date TEXT COLLATE "C",
    sex TEXT COLLATE "C",
    charset TEXT,
    num_studies INTEGER NOT NULL DEFAULT 0,
    num_series INTEGER NOT NULL DEFAULT 0,
    num_instances INTEGER NOT NULL DEFAULT 0,
    UNIQUE (patient_id, issuer)
  );
  CREATE INDEX patient_name_idx ON patient (patient_name_norm);
  CREATE INDEX patient_birth_date_idx ON patient (birth_date);

  CREATE TABLE study (
    pk BIGSERIAL PRIMARY KEY,
    patient_fk BIGINT NOT NULL REFERENCES patient (pk),
    study_uid TEXT COLLATE "C" NOT NULL UNIQUE,
    study_date TEXT COLLATE "C",
    study_time TEXT COLLATE "C",
    study_time_norm TEXT COLLATE "C",
    accession_number TEXT COLLATE "C",
    study_id TEXT COLLATE "C",
    referring_physician TEXT COLLATE "C",
    referring_physician_norm TEXT COLLATE "C",
    description TEXT COLLATE "C",
    charset TEXT,
    modalities TEXT COLLATE "C",
    num_series INTEGER NOT NULL DEFAULT 0,
    num_instances INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX study_patient_idx ON study (patient_fk);
  CREATE INDEX study_date_idx ON study (study_date, study_time_norm);
  CREATE INDEX study_accession_idx ON study (accession_number);

  CREATE TABLE series (
    pk BIGSERIAL PRIMARY KEY,
    study_fk BIGINT NOT NULL REFERENCES study (pk),
    series_uid TEXT COLLATE "C" NOT NULL UNIQUE,
    modality TEXT COLLATE "C",
    series_number INTEGER,
    description TEXT COLLATE "C",
    num_instances INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX series_study_modality_idx ON series (study_fk, modality);
  CREATE INDEX series_modality_idx ON series (modality);

  CREATE TABLE instance (
    pk BIGSERIAL PRIMARY KEY,
    series_fk BIGINT NOT NULL REFERENCES series (pk),
    sop_uid TEXT COLLATE "C" NOT NULL UNIQUE,
    sop_class_uid TEXT COLLATE "C" NOT NULL,
    instance_number INTEGER,
    path TEXT NOT NULL,
    size BIGINT NOT NULL,
    transfer_syntax TEXT COLLATE "C" NOT NULL,
    received_at TEXT NOT NULL,
    calling_aet TEXT,
    charset TEXT
  );
  CREATE INDEX instance_series_idx ON instance (series_fk, instance_number);
  `,
];

/** Options of {@link PgIndex.open}. */
export interface PgIndexOptions {
  /**
   * Storage root of this node: its worklist, MPPS steps and storage commitment log stay in
   * the node's own SQLite file there (`index.db`); the instance index is in PostgreSQL.
   */
  localDir: string;
  log?: Logger;
  /** Attempts of a transaction that fails with a serialization failure or deadlock (default 6). */
  maxAttempts?: number;
  /** Connections in the pool (default 10). */
  poolSize?: number;
}

/** SQLSTATEs worth retrying: serialization failure, deadlock, a concurrent insert of the same key. */
const RETRYABLE = new Set(['40001', '40P01', '23505']);

/** Rows per keyset page (C-FIND, allInstances). */
const PAGE_ROWS = 256;

interface PgInstanceRow {
  pk: string;
  series_fk: string;
  sop_uid: string;
  sop_class_uid: string;
  path: string;
  size: string | number;
  transfer_syntax: string;
  received_at: string;
  calling_aet: string | null;
  series_uid: string;
  study_uid: string;
}

const INSTANCE_SELECT =
  'SELECT i.pk, i.series_fk, i.sop_uid, i.sop_class_uid, i.path, i.size, i.transfer_syntax, i.received_at,' +
  ' i.calling_aet, se.series_uid, st.study_uid FROM instance i JOIN series se ON se.pk = i.series_fk' +
  ' JOIN study st ON st.pk = se.study_fk';

const MODALITIES_SQL =
  "UPDATE study SET modalities = (SELECT string_agg(m, '\\' ORDER BY m) FROM (SELECT DISTINCT modality AS m" +
  " FROM series WHERE study_fk = $1 AND modality IS NOT NULL AND modality <> '') d) WHERE pk = $1";

/** `?` placeholders (the query builder's) as PostgreSQL's `$1, $2, …`; values never enter the SQL text. */
export function numberedPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function toStored(row: PgInstanceRow): StoredInstance {
  const out: StoredInstance = {
    sopInstanceUid: row.sop_uid,
    sopClassUid: row.sop_class_uid,
    studyInstanceUid: row.study_uid,
    seriesInstanceUid: row.series_uid,
    path: row.path,
    size: Number(row.size),
    transferSyntaxUid: row.transfer_syntax,
    receivedAt: row.received_at,
  };
  if (row.calling_aet !== null) out.callingAet = row.calling_aet;
  return out;
}

function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The driver, loaded only when a PostgreSQL index is configured (an optional dependency). */
async function loadPg(): Promise<typeof import('pg')> {
  try {
    const mod = (await import('pg')) as typeof import('pg') & { default?: typeof import('pg') };
    return mod.default ?? mod;
  } catch (err) {
    throw new MissingDependencyError(
      'index: a postgres:// index needs the optional package "pg" (node-postgres): run `npm install pg`',
      { cause: err },
    );
  }
}

/** The URL with its password hidden, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

/**
 * The Q/R index in PostgreSQL (node-postgres), which several nodes can share. Same tables and
 * matching semantics as {@link SqliteIndex}; every write is one transaction, retried with
 * backoff on serialization failures, deadlocks and concurrent inserts of the same entity.
 * A lost connection fails the operation with an {@link IndexError} (the caller answers the
 * peer with a failure status); the pool reconnects for the next one.
 */
export class PgIndex implements Index {
  readonly #pool: Pool;
  readonly #local: SqliteIndex;
  readonly #log: Logger | undefined;
  readonly #maxAttempts: number;
  readonly #where: string;

  private constructor(pool: Pool, local: SqliteIndex, where: string, options: PgIndexOptions) {
    this.#pool = pool;
    this.#local = local;
    this.#where = where;
    this.#log = options.log;
    this.#maxAttempts = options.maxAttempts ?? 6;
  }

  /** Connect, create or migrate the schema, and open the node-local stores. */
  static async open(url: string, options: PgIndexOptions): Promise<PgIndex> {
    const pg = await loadPg();
    const where = redactUrl(url);
    const config: PoolConfig = { connectionString: url, max: options.poolSize ?? 10 };
    const pool = new pg.Pool(config);
    // an idle client losing its server must not crash the process
    pool.on('error', (err) => options.log?.error({ err }, `index: PostgreSQL connection lost (${where})`));
    try {
      await migratePg(pool, where);
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof IndexError || err instanceof MissingDependencyError) throw err;
      throw new IndexError(`index: cannot open ${where}: ${(err as Error).message}`, { cause: err });
    }
    let local: SqliteIndex;
    try {
      local = new SqliteIndex(options.localDir);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return new PgIndex(pool, local, where, options);
  }

  get worklist(): Worklist {
    return this.#local.worklist;
  }

  get mpps(): MppsSteps {
    return this.#local.mpps;
  }

  get commitments(): CommitmentLog {
    return this.#local.commitments;
  }

  #failure(action: string, err: unknown): IndexError {
    if (err instanceof IndexError) return err;
    const state = sqlState(err);
    const message = `index: ${action} failed on PostgreSQL (${this.#where}): ${(err as Error).message}`;
    if (state === undefined || state.startsWith('08') || state === '57P01' || state === '57P03')
      this.#log?.error({ err, sqlState: state }, `index: PostgreSQL unavailable: ${action} failed`);
    return new IndexError(message, { cause: err });
  }

  /** Run `fn` in a transaction; retried with backoff when PostgreSQL says it may succeed again. */
  async #transaction<T>(action: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      let client: PoolClient;
      try {
        client = await this.#pool.connect();
      } catch (err) {
        throw this.#failure(action, err);
      }
      // the server going away while the client is checked out is an 'error' event on it,
      // which must not reach the process; the query in flight fails and is handled below
      const onError = (err: Error) =>
        this.#log?.warn({ err }, `index: PostgreSQL connection lost (${this.#where})`);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        client.off('error', onError);
        client.release();
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        const state = sqlState(err);
        client.off('error', onError);
        // a broken connection is not given back to the pool
        client.release(state === undefined || state.startsWith('08') ? (err as Error) : undefined);
        if (state !== undefined && RETRYABLE.has(state) && attempt < this.#maxAttempts) {
          const delay = 5 * 2 ** attempt + Math.random() * 10;
          await new Promise((r) => setTimeout(r, delay));
          continue;
        }
        throw this.#failure(action, err);
      }
    }
  }

  async #query<R extends object>(action: string, sql: string, params: readonly unknown[]): Promise<R[]> {
    try {
      return (await this.#pool.query<R>(sql, params as unknown[])).rows;
    } catch (err) {
      throw this.#failure(action, err);
    }
  }

  async upsertInstance(record: InstanceRecord): Promise<{ created: boolean }> {
    checkRecord(record);
    return this.#transaction('storing an instance', async (c) => {
      const existing = (
        await c.query<PgInstanceRow>(`${INSTANCE_SELECT} WHERE i.sop_uid = $1 FOR UPDATE OF i`, [
          record.sopInstanceUid,
        ])
      ).rows[0];
      if (existing) await removeRows(c, existing);
      await insertRows(c, record);
      return { created: existing === undefined };
    });
  }

  /** Commits are durable at COMMIT (synchronous_commit): nothing left to sync. */
  async flush(): Promise<void> {}

  async removeInstance(sopInstanceUid: string): Promise<StoredInstance | undefined> {
    return this.#transaction('removing an instance', async (c) => {
      const row = (
        await c.query<PgInstanceRow>(`${INSTANCE_SELECT} WHERE i.sop_uid = $1 FOR UPDATE OF i`, [
          sopInstanceUid,
        ])
      ).rows[0];
      if (!row) return undefined;
      await removeRows(c, row);
      return toStored(row);
    });
  }

  async getInstance(sopInstanceUid: string): Promise<StoredInstance | undefined> {
    const [row] = await this.#query<PgInstanceRow>(
      'reading an instance',
      `${INSTANCE_SELECT} WHERE i.sop_uid = $1`,
      [sopInstanceUid],
    );
    return row ? toStored(row) : undefined;
  }

  async hasInstance(sopInstanceUid: string, sopClassUid?: string): Promise<boolean> {
    const row = await this.lookup(sopInstanceUid);
    return row !== undefined && (sopClassUid === undefined || row.sopClassUid === sopClassUid);
  }

  async lookup(sopInstanceUid: string): Promise<{ sopClassUid: string; path: string } | undefined> {
    const [row] = await this.#query<{ sop_class_uid: string; path: string }>(
      'reading an instance',
      'SELECT sop_class_uid, path FROM instance WHERE sop_uid = $1',
      [sopInstanceUid],
    );
    return row ? { sopClassUid: row.sop_class_uid, path: row.path } : undefined;
  }

  checkCommitment(
    refs: readonly CommitmentReference[],
    fileExists?: (path: string) => boolean,
  ): Promise<CommitmentResult> {
    return checkCommitment(this, refs, fileExists);
  }

  find(
    model: QueryModel,
    level: QueryLevel,
    keys: readonly QueryKey[],
    options?: FindOptions,
  ): AsyncIterable<QueryMatch> {
    const query = buildFindQuery(model, level, keys, { ...options, dialect: 'postgres' });
    const sql = numberedPlaceholders(query.pageSql);
    return this.#pages(query, sql);
  }

  async *#pages(query: BuiltQuery, sql: string): AsyncGenerator<QueryMatch> {
    let after: string | number = 0;
    for (;;) {
      let rows: Record<string, string | number | null>[];
      try {
        rows = (
          await this.#pool.query<Record<string, string | number | null>>(sql, [
            ...query.params,
            after,
            PAGE_ROWS,
          ])
        ).rows;
      } catch (err) {
        if (sqlState(err)?.startsWith('22'))
          throw new QueryError(
            'ERR_QUERY_INVALID',
            'query failed: a key has a value the index cannot compare',
          );
        throw this.#failure('a query', err);
      }
      for (const row of rows) yield matchOf(query, row);
      if (rows.length < PAGE_ROWS) return;
      after = (rows[rows.length - 1] as { pk_: string | number }).pk_;
    }
  }

  async filesFor(model: QueryModel, level: QueryLevel, keys: readonly QueryKey[]): Promise<RetrieveItem[]> {
    const query = buildRetrieveQuery(model, level, keys, 'postgres');
    return this.#query<RetrieveItem>('a retrieve', numberedPlaceholders(query.sql), query.params);
  }

  async *allInstances(): AsyncIterable<StoredInstance> {
    let after: string | number = 0;
    for (;;) {
      const page: PgInstanceRow[] = await this.#query<PgInstanceRow>(
        'listing instances',
        `${INSTANCE_SELECT} WHERE i.pk > $1 ORDER BY i.pk LIMIT ${PAGE_ROWS}`,
        [after],
      );
      if (page.length === 0) return;
      for (const row of page) yield toStored(row);
      after = (page[page.length - 1] as PgInstanceRow).pk;
    }
  }

  async counts(): Promise<IndexCounts> {
    const [row] = await this.#query<Record<keyof IndexCounts, string>>(
      'counting',
      'SELECT (SELECT count(*) FROM patient) AS patients, (SELECT count(*) FROM study) AS studies,' +
        ' (SELECT count(*) FROM series) AS series, (SELECT count(*) FROM instance) AS instances',
      [],
    );
    return {
      patients: Number(row?.patients ?? 0),
      studies: Number(row?.studies ?? 0),
      series: Number(row?.series ?? 0),
      instances: Number(row?.instances ?? 0),
    };
  }

  findWorklist(keys: readonly QueryKey[]): Promise<DicomJsonObject[]> {
    return this.#local.findWorklist(keys);
  }

  async close(): Promise<void> {
    this.#local.closeSync();
    await this.#pool.end().catch(() => undefined);
  }
}

/** Create or migrate the schema in one transaction; a newer schema than ours is refused. */
async function migratePg(pool: Pool, where: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // one node migrates at a time; the others wait here and then find the work done
    await client.query('SELECT pg_advisory_xact_lock(2108743421)');
    await client.query('CREATE TABLE IF NOT EXISTS dicomnet_schema (version INTEGER NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM dicomnet_schema');
    let current = rows[0]?.version ?? 0;
    if (rows.length === 0) await client.query('INSERT INTO dicomnet_schema (version) VALUES (0)');
    if (current > PG_MIGRATIONS.length)
      throw new IndexError(
        `index: the schema of ${where} is version ${current}, newer than this dicomnet understands (${PG_MIGRATIONS.length}); upgrade dicomnet`,
      );
    for (; current < PG_MIGRATIONS.length; current++) await client.query(PG_MIGRATIONS[current] as string);
    await client.query('UPDATE dicomnet_schema SET version = $1', [current]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** The rows of one instance and its parents, first arrival of each entity winning (as in SQLite). */
async function insertRows(c: PoolClient, r: InstanceRecord): Promise<void> {
  const { patientValues, studyValues, seriesValues, patientId, issuer, charset } = entityValues(r);
  const one = async <T extends object>(sql: string, params: unknown[]): Promise<T | undefined> =>
    (await c.query<T>(sql, params)).rows[0];

  const updatePatient = (pk: string) =>
    c.query(
      'UPDATE patient SET patient_name = COALESCE($1, patient_name), patient_name_norm = COALESCE($2, patient_name_norm),' +
        ' birth_date = COALESCE($3, birth_date), sex = COALESCE($4, sex), charset = COALESCE($5, charset) WHERE pk = $6',
      [...patientValues, pk],
    );
  const bumpPatient = (studies: number, series: number, instances: number, pk: string) =>
    c.query(
      'UPDATE patient SET num_studies = num_studies + $1, num_series = num_series + $2,' +
        ' num_instances = num_instances + $3 WHERE pk = $4',
      [studies, series, instances, pk],
    );
  const bumpStudy = (series: number, instances: number, pk: string) =>
    c.query(
      'UPDATE study SET num_series = num_series + $1, num_instances = num_instances + $2 WHERE pk = $3',
      [series, instances, pk],
    );

  let seriesPk: string | undefined;
  let studyPk: string;
  let patientPk: string;
  const series = await one<{ pk: string; study_fk: string }>(
    'SELECT pk, study_fk FROM series WHERE series_uid = $1 FOR UPDATE',
    [r.seriesInstanceUid],
  );
  if (series) {
    seriesPk = series.pk;
    await c.query(
      'UPDATE series SET modality = COALESCE($1, modality), series_number = COALESCE($2, series_number),' +
        ' description = COALESCE($3, description) WHERE pk = $4',
      [...seriesValues, seriesPk],
    );
  }
  const study = series
    ? await one<{ pk: string; patient_fk: string; study_uid: string }>(
        'SELECT pk, patient_fk, study_uid FROM study WHERE pk = $1 FOR UPDATE',
        [series.study_fk],
      )
    : await one<{ pk: string; patient_fk: string; study_uid: string }>(
        'SELECT pk, patient_fk, study_uid FROM study WHERE study_uid = $1 FOR UPDATE',
        [r.studyInstanceUid],
      );
  if (study) {
    studyPk = study.pk;
    patientPk = study.patient_fk;
    if (study.study_uid === r.studyInstanceUid)
      await c.query(
        'UPDATE study SET study_date = COALESCE($1, study_date), study_time = COALESCE($2, study_time),' +
          ' study_time_norm = COALESCE($3, study_time_norm), accession_number = COALESCE($4, accession_number),' +
          ' study_id = COALESCE($5, study_id), referring_physician = COALESCE($6, referring_physician),' +
          ' referring_physician_norm = COALESCE($7, referring_physician_norm), description = COALESCE($8, description),' +
          ' charset = COALESCE($9, charset) WHERE pk = $10',
        [...studyValues, studyPk],
      );
    const patient = await one<{ patient_id: string; issuer: string }>(
      'SELECT patient_id, issuer FROM patient WHERE pk = $1',
      [patientPk],
    );
    if (patient && patient.patient_id === patientId && patient.issuer === issuer)
      await updatePatient(patientPk);
  } else {
    const patient = await one<{ pk: string }>(
      'SELECT pk FROM patient WHERE patient_id = $1 AND issuer = $2 FOR UPDATE',
      [patientId, issuer],
    );
    if (patient) {
      patientPk = patient.pk;
      await updatePatient(patientPk);
    } else {
      patientPk = (
        (await one<{ pk: string }>(
          'INSERT INTO patient (patient_id, issuer, patient_name, patient_name_norm, birth_date, sex, charset)' +
            ' VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING pk',
          [patientId, issuer, ...patientValues],
        )) as { pk: string }
      ).pk;
    }
    studyPk = (
      (await one<{ pk: string }>(
        'INSERT INTO study (patient_fk, study_uid, study_date, study_time, study_time_norm, accession_number, study_id,' +
          ' referring_physician, referring_physician_norm, description, charset)' +
          ' VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING pk',
        [patientPk, r.studyInstanceUid, ...studyValues],
      )) as { pk: string }
    ).pk;
    await bumpPatient(1, 0, 0, patientPk);
  }
  if (!series) {
    seriesPk = (
      (await one<{ pk: string }>(
        'INSERT INTO series (study_fk, series_uid, modality, series_number, description) VALUES ($1, $2, $3, $4, $5)' +
          ' RETURNING pk',
        [studyPk, r.seriesInstanceUid, ...seriesValues],
      )) as { pk: string }
    ).pk;
    await bumpStudy(1, 0, studyPk);
    await bumpPatient(0, 1, 0, patientPk);
  }
  if (!series || seriesValues[0] !== null) await c.query(MODALITIES_SQL, [studyPk]);
  const receivedAt =
    r.receivedAt === undefined
      ? new Date().toISOString()
      : r.receivedAt instanceof Date
        ? r.receivedAt.toISOString()
        : r.receivedAt;
  await c.query(
    'INSERT INTO instance (series_fk, sop_uid, sop_class_uid, instance_number, path, size, transfer_syntax,' +
      ' received_at, calling_aet, charset) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
    [
      seriesPk,
      r.sopInstanceUid,
      r.sopClassUid,
      integer(r.instanceNumber),
      r.path,
      r.size,
      r.transferSyntaxUid,
      receivedAt,
      text(r.callingAet),
      charset,
    ],
  );
  await c.query('UPDATE series SET num_instances = num_instances + 1 WHERE pk = $1', [seriesPk]);
  await bumpStudy(0, 1, studyPk);
  await bumpPatient(0, 0, 1, patientPk);
}

/** Delete an instance row, fix the counters and drop parents left empty. */
async function removeRows(c: PoolClient, row: PgInstanceRow): Promise<void> {
  const series = (
    await c.query<{ pk: string; study_fk: string; series_uid: string; num_instances: number }>(
      'SELECT pk, study_fk, series_uid, num_instances FROM series WHERE pk = $1 FOR UPDATE',
      [row.series_fk],
    )
  ).rows[0];
  if (!series) throw new IndexError(`index: instance ${row.sop_uid} has no series row`);
  const study = (
    await c.query<{ pk: string; patient_fk: string; num_series: number }>(
      'SELECT pk, patient_fk, num_series FROM study WHERE pk = $1 FOR UPDATE',
      [series.study_fk],
    )
  ).rows[0];
  if (!study) throw new IndexError(`index: series ${series.series_uid} has no study row`);
  const patientPk = study.patient_fk;
  const bumpPatient = (studies: number, seriesN: number, instances: number) =>
    c.query(
      'UPDATE patient SET num_studies = num_studies + $1, num_series = num_series + $2,' +
        ' num_instances = num_instances + $3 WHERE pk = $4',
      [studies, seriesN, instances, patientPk],
    );
  await c.query('DELETE FROM instance WHERE pk = $1', [row.pk]);
  await c.query('UPDATE series SET num_instances = num_instances - 1 WHERE pk = $1', [series.pk]);
  await c.query('UPDATE study SET num_instances = num_instances - 1 WHERE pk = $1', [study.pk]);
  await bumpPatient(0, 0, -1);
  if (series.num_instances <= 1) {
    await c.query('DELETE FROM series WHERE pk = $1', [series.pk]);
    await c.query('UPDATE study SET num_series = num_series - 1 WHERE pk = $1', [study.pk]);
    await bumpPatient(0, -1, 0);
    await c.query(MODALITIES_SQL, [study.pk]);
    if (study.num_series <= 1) {
      await c.query('DELETE FROM study WHERE pk = $1', [study.pk]);
      await bumpPatient(-1, 0, 0);
      await c.query('DELETE FROM patient WHERE pk = $1 AND num_studies <= 0', [patientPk]);
    }
  }
}
