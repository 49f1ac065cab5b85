import type { Database } from 'better-sqlite3';
import { IndexError } from './errors.js';

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
 * Append new steps, never edit a released one.
 *
 * Conventions: `*_norm` columns hold the comparison form of a value (upper-cased person
 * names, fixed-width times) next to the raw value returned in responses; dates are stored
 * as `YYYYMMDD`, so text order is date order. The `num_*` counters are kept up to date by
 * the index on every insert/remove so counts cost nothing at query time.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE patient (
    pk INTEGER PRIMARY KEY,
    patient_id TEXT NOT NULL,
    issuer TEXT NOT NULL DEFAULT '',
    patient_name TEXT,
    patient_name_norm TEXT,
    birth_date TEXT,
    sex TEXT,
    charset TEXT,
    num_studies INTEGER NOT NULL DEFAULT 0,
    num_series INTEGER NOT NULL DEFAULT 0,
    num_instances INTEGER NOT NULL DEFAULT 0,
    UNIQUE (patient_id, issuer)
  );
  CREATE INDEX patient_name_idx ON patient (patient_name_norm);
  CREATE INDEX patient_birth_date_idx ON patient (birth_date);

  CREATE TABLE study (
    pk INTEGER PRIMARY KEY,
    patient_fk INTEGER NOT NULL REFERENCES patient (pk),
    study_uid TEXT NOT NULL UNIQUE,
    study_date TEXT,
    study_time TEXT,
    study_time_norm TEXT,
    accession_number TEXT,
    study_id TEXT,
    referring_physician TEXT,
    referring_physician_norm TEXT,
    description TEXT,
    charset TEXT,
    num_series INTEGER NOT NULL DEFAULT 0,
    num_instances INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX study_patient_idx ON study (patient_fk);
  CREATE INDEX study_date_idx ON study (study_date, study_time_norm);
  CREATE INDEX study_accession_idx ON study (accession_number);

  CREATE TABLE series (
    pk INTEGER PRIMARY KEY,
    study_fk INTEGER NOT NULL REFERENCES study (pk),
    series_uid TEXT NOT NULL UNIQUE,
    modality TEXT,
    series_number INTEGER,
    description TEXT,
    num_instances INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX series_study_modality_idx ON series (study_fk, modality);
  CREATE INDEX series_modality_idx ON series (modality);

  CREATE TABLE instance (
    pk INTEGER PRIMARY KEY,
    series_fk INTEGER NOT NULL REFERENCES series (pk),
    sop_uid TEXT NOT NULL UNIQUE,
    sop_class_uid TEXT NOT NULL,
    instance_number INTEGER,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    transfer_syntax TEXT NOT NULL,
    received_at TEXT NOT NULL,
    calling_aet TEXT,
    charset TEXT
  );
  CREATE INDEX instance_series_idx ON instance (series_fk, instance_number);

  CREATE TABLE worklist_item (
    pk INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL UNIQUE,
    json TEXT NOT NULL,
    source TEXT,
    added_at TEXT NOT NULL
  );

  CREATE TABLE mpps (
    sop_instance_uid TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    json TEXT NOT NULL,
    calling_aet TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  `,
  // 2: ModalitiesInStudy kept on the study row (sorted, backslash-separated) so returning it
  // costs a column read instead of a DISTINCT sub-query per matched study.
  `
  ALTER TABLE study ADD COLUMN modalities TEXT;
  UPDATE study SET modalities = (${studyModalitiesSql('study.pk')});
  `,
  // 3: Storage Commitment transactions, so an undelivered N-EVENT-REPORT is sent again after
  // a restart (references as received; the result as first decided, JSON).
  `
  CREATE TABLE commitment (
    transaction_uid TEXT PRIMARY KEY,
    calling_aet TEXT NOT NULL,
    references_json TEXT NOT NULL,
    result_json TEXT,
    requested_at TEXT NOT NULL,
    delivered_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
  );
  CREATE INDEX commitment_pending_idx ON commitment (delivered_at, requested_at);
  `,
];

/** SQL computing a study's ModalitiesInStudy value from its series. */
export function studyModalitiesSql(studyPk: string): string {
  return (
    "SELECT group_concat(m, '\\') FROM (SELECT DISTINCT modality AS m FROM series" +
    ` WHERE study_fk = ${studyPk} AND modality IS NOT NULL AND modality <> '' ORDER BY m)`
  );
}

/** Bring the database schema up to the latest version, each step in its own transaction. */
export function migrate(db: Database): number {
  const current = db.pragma('user_version', { simple: true });
  if (typeof current !== 'number') throw new IndexError('index: cannot read PRAGMA user_version');
  if (current > MIGRATIONS.length)
    throw new IndexError(
      `index: database schema version ${current} is newer than this dicomnet understands (${MIGRATIONS.length}); upgrade dicomnet`,
    );
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version] as string);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
  return MIGRATIONS.length;
}
