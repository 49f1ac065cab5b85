import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import {
  type InstanceRecord,
  type QueryKey,
  type QueryMatch,
  QueryError,
  SqliteIndex,
} from '../../src/node/index.js';
import { MIGRATIONS } from '../../src/node/schema.js';
import { record, tempRoot } from './helpers.js';

/** Every match of a C-FIND (the index streams them). */
function findAll(index: SqliteIndex, ...args: Parameters<SqliteIndex['find']>): QueryMatch[] {
  return [...index.find(...args)];
}

const CT = '1.2.840.10008.5.1.4.1.1.2';
const MR = '1.2.840.10008.5.1.4.1.1.4';

/** Two patients plus one without name/date: the fixture every query test reads. */
function fixture(): InstanceRecord[] {
  const p1 = { patientId: 'P1', patientName: 'Doe^John', patientBirthDate: '19700101', patientSex: 'M' };
  const s1 = {
    ...p1,
    studyInstanceUid: '1.2.3.1',
    studyDate: '20240115',
    studyTime: '101500',
    accessionNumber: 'ACC1',
    studyDescription: 'CT HEAD',
    specificCharacterSet: 'ISO_IR 100',
  };
  const s2 = {
    ...p1,
    studyInstanceUid: '1.2.3.2',
    studyDate: '20230601',
    studyTime: '0930',
    accessionNumber: 'ACC2',
    studyDescription: 'MR KNEE',
    referringPhysicianName: 'House^Gregory',
  };
  const p2 = {
    patientId: 'P2',
    issuerOfPatientId: 'HOSP',
    patientName: 'Smith^Anna',
    patientBirthDate: '19851231',
    patientSex: 'F',
    studyInstanceUid: '1.2.3.3',
    studyDate: '20241231',
    studyTime: '235959',
    accessionNumber: 'ACC3',
    studyDescription: 'CHEST',
  };
  return [
    record({
      ...s1,
      seriesInstanceUid: '1.2.3.1.1',
      modality: 'CT',
      sopInstanceUid: '1.2.3.1.1.1',
      instanceNumber: 1,
    }),
    record({
      ...s1,
      seriesInstanceUid: '1.2.3.1.1',
      modality: 'CT',
      sopInstanceUid: '1.2.3.1.1.2',
      instanceNumber: 2,
    }),
    record({
      ...s1,
      seriesInstanceUid: '1.2.3.1.2',
      modality: 'MR',
      seriesNumber: 2,
      sopInstanceUid: '1.2.3.1.2.1',
      sopClassUid: MR,
    }),
    record({
      ...s2,
      seriesInstanceUid: '1.2.3.2.1',
      modality: 'MR',
      sopInstanceUid: '1.2.3.2.1.1',
      sopClassUid: MR,
    }),
    record({ ...p2, seriesInstanceUid: '1.2.3.3.1', modality: 'CR', sopInstanceUid: '1.2.3.3.1.1' }),
    {
      patientId: 'P3',
      studyInstanceUid: '1.2.3.4',
      seriesInstanceUid: '1.2.3.4.1',
      modality: 'US',
      sopInstanceUid: '1.2.3.4.1.1',
      sopClassUid: '1.2.840.10008.5.1.4.1.1.6.1',
      path: '/data/us.dcm',
      size: 10,
      transferSyntaxUid: '1.2.840.10008.1.2',
    },
  ];
}

function open(): SqliteIndex {
  const index = new SqliteIndex(':memory:');
  for (const r of fixture()) index.upsertInstance(r);
  return index;
}

const k = (keyword: string, vr: string, value = ''): QueryKey => ({ keyword, vr, value });
const uids = (rows: Record<string, string>[], keyword: string) => rows.map((r) => r[keyword]);

test('PATIENT level (patient root): one row per patient with counts and the unique key', () => {
  const index = open();
  const rows = findAll(index, 'patient', 'PATIENT', [
    k('PatientName', 'PN'),
    k('NumberOfPatientRelatedStudies', 'IS'),
    k('NumberOfPatientRelatedSeries', 'IS'),
    k('NumberOfPatientRelatedInstances', 'IS'),
  ]);
  assert.deepEqual(rows[0], {
    PatientName: 'Doe^John',
    NumberOfPatientRelatedStudies: '2',
    NumberOfPatientRelatedSeries: '3',
    NumberOfPatientRelatedInstances: '4',
    PatientID: 'P1',
    SpecificCharacterSet: 'ISO_IR 100',
  });
  assert.deepEqual(uids(rows, 'PatientID'), ['P1', 'P2', 'P3']);
  assert.equal(rows[2]?.PatientName, '', 'a missing value is returned empty');
  index.close();
});

test('PN matching is case-insensitive, with wildcards; other VRs stay case-sensitive', () => {
  const index = open();
  assert.deepEqual(
    uids(findAll(index, 'patient', 'PATIENT', [k('PatientName', 'PN', 'doe*')]), 'PatientID'),
    ['P1'],
  );
  assert.deepEqual(
    uids(findAll(index, 'patient', 'PATIENT', [k('PatientName', 'PN', 'SMITH^ANNA')]), 'PatientID'),
    ['P2'],
  );
  assert.deepEqual(
    uids(findAll(index, 'patient', 'PATIENT', [k('PatientName', 'PN', '*^?nna')]), 'PatientID'),
    ['P2'],
  );
  assert.deepEqual(findAll(index, 'patient', 'PATIENT', [k('PatientID', 'LO', 'p1')]), []);
  assert.deepEqual(uids(findAll(index, 'patient', 'PATIENT', [k('PatientID', 'LO', 'P?')]), 'PatientID'), [
    'P1',
    'P2',
    'P3',
  ]);
  assert.deepEqual(
    uids(findAll(index, 'patient', 'PATIENT', [k('IssuerOfPatientID', 'LO', 'HOSP')]), 'PatientID'),
    ['P2'],
  );
  index.close();
});

test('STUDY level in both models: unique keys of the level and above, ModalitiesInStudy, counts', () => {
  const index = open();
  const keys = [
    k('PatientID', 'LO', 'P1'),
    k('StudyDate', 'DA'),
    k('ModalitiesInStudy', 'CS'),
    k('NumberOfStudyRelatedSeries', 'IS'),
    k('NumberOfStudyRelatedInstances', 'IS'),
    k('QueryRetrieveLevel', 'CS'),
  ];
  const patientRoot = findAll(index, 'patient', 'STUDY', keys);
  assert.deepEqual(patientRoot[0], {
    SpecificCharacterSet: 'ISO_IR 100',
    PatientID: 'P1',
    StudyDate: '20240115',
    ModalitiesInStudy: 'CT\\MR',
    NumberOfStudyRelatedSeries: '2',
    NumberOfStudyRelatedInstances: '3',
    QueryRetrieveLevel: 'STUDY',
    StudyInstanceUID: '1.2.3.1',
  });
  assert.equal(patientRoot.length, 2);
  const studyRoot = findAll(index, 'study', 'STUDY', keys);
  assert.deepEqual(studyRoot, patientRoot, 'study root matches patient keys at STUDY level too');
  const noPatientKey = findAll(index, 'study', 'STUDY', [k('StudyDate', 'DA', '20240101-')]);
  assert.deepEqual(Object.keys(noPatientKey[0] ?? {}).sort(), [
    'SpecificCharacterSet',
    'StudyDate',
    'StudyInstanceUID',
  ]);
  index.close();
});

test('study root has no PATIENT level; unknown level and model are QueryErrors', () => {
  const index = open();
  assert.throws(() => findAll(index, 'study', 'PATIENT', []), QueryError);
  assert.throws(() => findAll(index, 'patient', 'FOO' as 'IMAGE', []), /not a level/);
  assert.throws(() => findAll(index, 'worklist' as 'study', 'STUDY', []), /unknown information model/);
  index.close();
});

test('StudyDate / StudyTime ranges and empty-value matching', () => {
  const index = open();
  const studies = (keys: QueryKey[]) => uids(findAll(index, 'study', 'STUDY', keys), 'StudyInstanceUID');
  assert.deepEqual(studies([k('StudyDate', 'DA', '20240101-20241231')]), ['1.2.3.1', '1.2.3.3']);
  assert.deepEqual(studies([k('StudyDate', 'DA', '-20231231')]), ['1.2.3.2']);
  assert.deepEqual(studies([k('StudyDate', 'DA', '20241231-')]), ['1.2.3.3']);
  assert.deepEqual(studies([k('StudyDate', 'DA', '20240115')]), ['1.2.3.1']);
  assert.deepEqual(studies([k('StudyDate', 'DA', '""')]), ['1.2.3.4'], 'only the study without a date');
  assert.deepEqual(studies([k('StudyDate', 'DA')]), ['1.2.3.1', '1.2.3.2', '1.2.3.3', '1.2.3.4']);
  assert.deepEqual(studies([k('StudyTime', 'TM', '0900-1000')]), ['1.2.3.2'], '"0930" stored partial');
  assert.deepEqual(studies([k('StudyTime', 'TM', '09-10')]), ['1.2.3.1', '1.2.3.2'], '"10" reaches 10:59:59');
  assert.deepEqual(studies([k('StudyTime', 'TM', '2359-')]), ['1.2.3.3']);
  assert.deepEqual(
    studies([k('StudyDate', 'DA', '20240101-20241231'), k('StudyTime', 'TM', '-1200')]),
    ['1.2.3.1'],
    'keys combine with AND',
  );
  assert.throws(() => studies([k('StudyDate', 'DA', '2024-13-45x')]), { code: 'ERR_QUERY_INVALID' });
  index.close();
});

test('combined StudyDate + StudyTime range matching when negotiated', () => {
  const index = open();
  index.upsertInstance(
    record({
      patientId: 'P9',
      studyInstanceUid: '1.2.3.9',
      studyDate: '20231010',
      studyTime: '0500',
      seriesInstanceUid: '1.2.3.9.1',
      sopInstanceUid: '1.2.3.9.1.1',
    }),
  );
  const studies = (date: string, time: string, combinedDateTime: boolean) =>
    uids(
      findAll(index, 'study', 'STUDY', [k('StudyDate', 'DA', date), k('StudyTime', 'TM', time)], {
        combinedDateTime,
      }),
      'StudyInstanceUID',
    );
  // 1.2.3.2: 20230601 09:30, 1.2.3.9: 20231010 05:00, 1.2.3.1: 20240115 10:15, 1.2.3.3: 20241231 23:59:59
  assert.deepEqual(studies('20230601-20240115', '0930-1015', false), ['1.2.3.1', '1.2.3.2']);
  assert.deepEqual(studies('20230601-20240115', '0930-1015', true), ['1.2.3.1', '1.2.3.2', '1.2.3.9']);
  assert.deepEqual(studies('20230601-20240115', '0931-1014', true), ['1.2.3.9'], 'both end points exclude');
  assert.deepEqual(
    studies('20230601-20240115', '1000-0900', false),
    [],
    'separately, an inverted time range is empty',
  );
  assert.deepEqual(studies('20230601-20240115', '1000-0900', true), ['1.2.3.9']);
  assert.deepEqual(studies('-20240115', '-1000', true), ['1.2.3.2', '1.2.3.9']);
  assert.deepEqual(studies('20241231-', '2359-', true), ['1.2.3.3']);
  assert.deepEqual(studies('20240115', '1000-1100', true), ['1.2.3.1'], 'single date + time range');
  assert.deepEqual(
    studies('20240101-20241231', '', true),
    ['1.2.3.1', '1.2.3.3'],
    'universal time: date alone',
  );
  index.close();
});

test('ModalitiesInStudy matches any series modality; lists and wildcards', () => {
  const index = open();
  const studies = (value: string) =>
    uids(findAll(index, 'study', 'STUDY', [k('ModalitiesInStudy', 'CS', value)]), 'StudyInstanceUID');
  assert.deepEqual(studies('MR'), ['1.2.3.1', '1.2.3.2']);
  assert.deepEqual(studies('CT\\CR'), ['1.2.3.1', '1.2.3.3']);
  assert.deepEqual(studies('C?'), ['1.2.3.1', '1.2.3.3']);
  assert.deepEqual(studies('XA'), []);
  index.close();
});

test('keys below the level are ignored and returned empty; unknown keys returned empty', () => {
  const index = open();
  const rows = findAll(index, 'study', 'STUDY', [k('Modality', 'CS', 'XX'), k('PatientWeight', 'DS', '70')]);
  assert.equal(rows.length, 4, 'Modality at STUDY level does not filter');
  assert.equal(rows[0]?.Modality, '');
  assert.equal(rows[0]?.PatientWeight, '');
  const patients = findAll(index, 'patient', 'PATIENT', [k('StudyDate', 'DA', '19000101')]);
  assert.equal(patients.length, 3, 'a STUDY key at PATIENT level does not filter');
  assert.equal(patients[0]?.StudyDate, '');
  // A non-unique key above the level (PatientName at STUDY in Patient Root) is matched.
  assert.deepEqual(
    uids(findAll(index, 'patient', 'STUDY', [k('PatientName', 'PN', 'smith*')]), 'StudyInstanceUID'),
    ['1.2.3.3'],
  );
  index.close();
});

test('SERIES and IMAGE levels: hierarchy keys, list of UIDs, numbers', () => {
  const index = open();
  const series = findAll(index, 'study', 'SERIES', [
    k('StudyInstanceUID', 'UI', '1.2.3.1'),
    k('Modality', 'CS'),
    k('SeriesNumber', 'IS'),
    k('NumberOfSeriesRelatedInstances', 'IS'),
  ]);
  assert.deepEqual(series, [
    {
      StudyInstanceUID: '1.2.3.1',
      Modality: 'CT',
      SeriesNumber: '1',
      NumberOfSeriesRelatedInstances: '2',
      SeriesInstanceUID: '1.2.3.1.1',
      SpecificCharacterSet: 'ISO_IR 100',
    },
    {
      StudyInstanceUID: '1.2.3.1',
      Modality: 'MR',
      SeriesNumber: '2',
      NumberOfSeriesRelatedInstances: '1',
      SeriesInstanceUID: '1.2.3.1.2',
      SpecificCharacterSet: 'ISO_IR 100',
    },
  ]);
  assert.equal(findAll(index, 'study', 'SERIES', [k('SeriesNumber', 'IS', '2')]).length, 1);
  const images = findAll(index, 'patient', 'IMAGE', [
    k('SOPInstanceUID', 'UI', '1.2.3.1.1.2\\1.2.3.3.1.1\\9.9.9'),
    k('SOPClassUID', 'UI'),
    k('InstanceNumber', 'IS'),
  ]);
  assert.deepEqual(
    images.map((r) => [
      r.PatientID,
      r.StudyInstanceUID,
      r.SeriesInstanceUID,
      r.SOPInstanceUID,
      r.InstanceNumber,
    ]),
    [
      ['P1', '1.2.3.1', '1.2.3.1.1', '1.2.3.1.1.2', '2'],
      ['P2', '1.2.3.3', '1.2.3.3.1', '1.2.3.3.1.1', '1'],
    ],
  );
  assert.deepEqual(uids(findAll(index, 'study', 'IMAGE', [k('SOPClassUID', 'UI', MR)]), 'SOPInstanceUID'), [
    '1.2.3.1.2.1',
    '1.2.3.2.1.1',
  ]);
  index.close();
});

test('values never reach the SQL text', () => {
  const index = open();
  assert.deepEqual(findAll(index, 'patient', 'PATIENT', [k('PatientID', 'LO', "x' OR '1'='1")]), []);
  assert.deepEqual(findAll(index, 'patient', 'PATIENT', [k('PatientName', 'PN', "*') OR 1=1 --")]), []);
  index.close();
});

test('filesFor: instances under the designated entities; the unique key is required', () => {
  const index = open();
  const files = index.filesFor('study', 'STUDY', [k('StudyInstanceUID', 'UI', '1.2.3.1\\1.2.3.3')]);
  assert.deepEqual(
    files.map((f) => f.sopInstanceUid),
    ['1.2.3.1.1.1', '1.2.3.1.1.2', '1.2.3.1.2.1', '1.2.3.3.1.1'],
  );
  assert.deepEqual(files[0], {
    path: '/data/1.2.3.1.1.1.dcm',
    sopClassUid: CT,
    sopInstanceUid: '1.2.3.1.1.1',
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    studyInstanceUid: '1.2.3.1',
    seriesInstanceUid: '1.2.3.1.1',
    // the patient, for the Instances Transferred audit record
    patientId: 'P1',
    issuerOfPatientId: '',
    patientName: 'Doe^John',
  });
  assert.equal(index.filesFor('patient', 'PATIENT', [k('PatientID', 'LO', 'P1')]).length, 4);
  assert.equal(
    index.filesFor('study', 'SERIES', [
      k('StudyInstanceUID', 'UI', '1.2.3.1'),
      k('SeriesInstanceUID', 'UI', '1.2.3.1.2'),
    ]).length,
    1,
  );
  assert.equal(index.filesFor('study', 'IMAGE', [k('SOPInstanceUID', 'UI', '1.2.3.4.1.1')]).length, 1);
  assert.throws(
    () => index.filesFor('study', 'STUDY', [k('StudyInstanceUID', 'UI')]),
    /must be given a value/,
  );
  assert.throws(
    () => index.filesFor('study', 'SERIES', [k('StudyInstanceUID', 'UI', '1.2.3.1')]),
    QueryError,
  );
  index.close();
});

test('filesFor: wildcards and ranges in retrieve keys are refused with 0xA900, naming the key', () => {
  const index = open();
  const refused: QueryKey[][] = [
    [k('PatientID', 'LO', '*?')],
    [k('PatientID', 'LO', 'P?')],
    [k('PatientID', 'LO', 'P1\\P2')],
    [k('PatientID', 'LO', 'P1'), k('PatientName', 'PN', 'Doe*')],
    [k('StudyInstanceUID', 'UI', '1.2.3.*')],
    [k('StudyInstanceUID', 'UI', '1.2.3.1'), k('StudyDate', 'DA', '20240101-20241231')],
  ];
  for (const keys of refused) {
    const level = keys[0]?.keyword === 'PatientID' ? 'PATIENT' : 'STUDY';
    assert.throws(
      () => index.filesFor(level === 'PATIENT' ? 'patient' : 'study', level, keys),
      (err: unknown) =>
        err instanceof QueryError &&
        err.status === 0xa900 &&
        err.keyword !== undefined &&
        err.message.startsWith(`retrieve key ${err.keyword}:`),
      JSON.stringify(keys),
    );
  }
  index.close();
});

test('upsert of a known instance updates it without double counting; first hierarchy wins', () => {
  const index = open();
  const before = index.counts();
  const { created } = index.upsertInstance(
    record({
      ...fixture()[0],
      sopInstanceUid: '1.2.3.1.1.1',
      path: '/data/new.dcm',
      patientName: 'Doe^Johnny',
      studyDescription: 'CT HEAD v2',
    }),
  );
  assert.equal(created, false);
  assert.deepEqual(index.counts(), before);
  assert.equal(index.getInstance('1.2.3.1.1.1')?.path, '/data/new.dcm');
  const study = findAll(index, 'study', 'STUDY', [
    k('StudyInstanceUID', 'UI', '1.2.3.1'),
    k('StudyDescription', 'LO'),
    k('PatientName', 'PN'),
    k('NumberOfStudyRelatedInstances', 'IS'),
  ])[0];
  assert.equal(study?.StudyDescription, 'CT HEAD v2');
  assert.equal(study?.PatientName, 'Doe^Johnny');
  assert.equal(study?.NumberOfStudyRelatedInstances, '3');

  // A new instance claiming an existing series belongs to another study stays in the first study.
  index.upsertInstance(
    record({
      studyInstanceUid: '9.9',
      seriesInstanceUid: '1.2.3.1.1',
      sopInstanceUid: '1.2.3.1.1.3',
      patientId: 'P1',
    }),
  );
  assert.equal(index.getInstance('1.2.3.1.1.3')?.studyInstanceUid, '1.2.3.1');
  assert.deepEqual(findAll(index, 'study', 'STUDY', [k('StudyInstanceUID', 'UI', '9.9')]), []);
  index.close();
});

test('removeInstance fixes counters and drops emptied series, study and patient', () => {
  const index = open();
  const removed = index.removeInstance('1.2.3.1.2.1');
  assert.equal(removed?.seriesInstanceUid, '1.2.3.1.2');
  const p1 = findAll(index, 'patient', 'PATIENT', [
    k('PatientID', 'LO', 'P1'),
    k('NumberOfPatientRelatedSeries', 'IS'),
    k('NumberOfPatientRelatedInstances', 'IS'),
  ])[0];
  assert.equal(p1?.NumberOfPatientRelatedSeries, '2');
  assert.equal(p1?.NumberOfPatientRelatedInstances, '3');
  assert.equal(
    findAll(index, 'study', 'STUDY', [
      k('StudyInstanceUID', 'UI', '1.2.3.1'),
      k('ModalitiesInStudy', 'CS'),
    ])[0]?.ModalitiesInStudy,
    'CT',
  );
  index.removeInstance('1.2.3.3.1.1');
  assert.deepEqual(findAll(index, 'patient', 'PATIENT', [k('PatientID', 'LO', 'P2')]), []);
  assert.deepEqual(index.counts(), { patients: 2, studies: 3, series: 3, instances: 4 });
  assert.equal(index.removeInstance('1.2.3.3.1.1'), undefined);
  index.close();
});

test('hasInstance and storage commitment: 0x0112 unknown, 0x0119 class conflict, 0x0110 file gone', () => {
  const index = open();
  assert.equal(index.hasInstance('1.2.3.1.1.1'), true);
  assert.equal(index.hasInstance('1.2.3.1.1.1', CT), true);
  assert.equal(index.hasInstance('1.2.3.1.1.1', MR), false);
  assert.equal(index.hasInstance('5.5'), false);
  const result = index.checkCommitment([
    { sopClassUid: CT, sopInstanceUid: '1.2.3.1.1.1' },
    { sopClassUid: CT, sopInstanceUid: '5.5' },
    { sopClassUid: MR, sopInstanceUid: '1.2.3.1.1.2' },
  ]);
  assert.deepEqual(result, {
    success: [{ sopClassUid: CT, sopInstanceUid: '1.2.3.1.1.1' }],
    failed: [
      { sopClassUid: CT, sopInstanceUid: '5.5', reason: 0x0112 },
      { sopClassUid: MR, sopInstanceUid: '1.2.3.1.1.2', reason: 0x0119 },
    ],
  });
  const withFiles = index.checkCommitment([{ sopClassUid: CT, sopInstanceUid: '1.2.3.1.1.1' }], () => false);
  assert.deepEqual(withFiles.failed, [{ sopClassUid: CT, sopInstanceUid: '1.2.3.1.1.1', reason: 0x0110 }]);
  index.close();
});

test('allInstances pages through every row and tolerates removal while iterating', () => {
  const index = new SqliteIndex(':memory:');
  for (let i = 1; i <= 2500; i++)
    index.upsertInstance(record({ seriesInstanceUid: `1.2.${i % 7}`, sopInstanceUid: `1.3.${i}` }));
  let n = 0;
  for (const instance of index.allInstances()) {
    n++;
    if (n % 2 === 0) index.removeInstance(instance.sopInstanceUid);
  }
  assert.equal(n, 2500);
  assert.equal(index.counts().instances, 1250);
  index.close();
});

test('an index in a storage root persists across reopen; the schema version is recorded', (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const index = new SqliteIndex(dir);
  index.upsertInstance(record({ sopInstanceUid: '1.2.3.4.5' }));
  assert.equal(index.db.pragma('journal_mode', { simple: true }), 'wal');
  index.close();
  assert.ok(existsSync(join(dir, 'index.db')));
  const again = new SqliteIndex(join(dir, 'index.db'));
  assert.equal(again.db.pragma('user_version', { simple: true }), MIGRATIONS.length);
  assert.equal(again.hasInstance('1.2.3.4.5'), true);
  again.db.pragma('user_version = 99');
  again.close();
  assert.throws(() => new SqliteIndex(dir), /newer than this dicomnet understands/);
});

test('an instance record without its UIDs is refused', () => {
  const index = new SqliteIndex(':memory:');
  assert.throws(() => index.upsertInstance(record({ sopInstanceUid: '1.2', studyInstanceUid: '' })), {
    code: 'ERR_INDEX',
  });
  index.close();
});

test('opening a version-1 database migrates it and backfills ModalitiesInStudy', (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const file = join(dir, 'index.db');
  const v1 = new BetterSqlite3(file);
  v1.exec(MIGRATIONS[0] as string);
  v1.pragma('user_version = 1');
  v1.exec(`
    INSERT INTO patient (pk, patient_id, num_studies, num_series, num_instances) VALUES (1, 'P', 1, 2, 2);
    INSERT INTO study (pk, patient_fk, study_uid, num_series, num_instances) VALUES (1, 1, '1.2', 2, 2);
    INSERT INTO series (pk, study_fk, series_uid, modality, num_instances) VALUES (1, 1, '1.2.1', 'MR', 1), (2, 1, '1.2.2', 'CT', 1);
  `);
  v1.close();
  const index = new SqliteIndex(dir);
  assert.equal(index.db.pragma('user_version', { simple: true }), MIGRATIONS.length);
  assert.deepEqual(
    findAll(index, 'study', 'STUDY', [k('ModalitiesInStudy', 'CS')]).map((r) => r.ModalitiesInStudy),
    ['CT\\MR'],
  );
  index.close();
});
