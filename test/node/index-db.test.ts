import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import {
  type Index,
  type InstanceRecord,
  type QueryKey,
  type QueryMatch,
  QueryError,
  SqliteIndex,
} from '../../src/node/index.js';
import { MIGRATIONS } from '../../src/node/schema.js';
import { type IndexBackend, indexBackends, record, tempRoot } from './helpers.js';

/** Every match of a C-FIND (the index streams them). */
async function findAll(index: Index, ...args: Parameters<Index['find']>): Promise<QueryMatch[]> {
  const out: QueryMatch[] = [];
  for await (const match of index.find(...args)) out.push(match);
  return out;
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

/** An index of one backend, the fixture loaded. */
async function openWith(backend: IndexBackend): Promise<Index> {
  const index = await backend.open();
  for (const r of fixture()) await index.upsertInstance(r);
  return index;
}

const k = (keyword: string, vr: string, value = ''): QueryKey => ({ keyword, vr, value });
const uids = (rows: Record<string, string>[], keyword: string) => rows.map((r) => r[keyword]);

for (const backend of indexBackends())
  describe(`index (${backend.name})`, { skip: backend.skip }, () => {
    after(() => backend.cleanup?.());
    test('PATIENT level (patient root): one row per patient with counts and the unique key', async () => {
      const index = await openWith(backend);
      const rows = await findAll(index, 'patient', 'PATIENT', [
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
      await index.close();
    });

    test('PN matching is case-insensitive, with wildcards; other VRs stay case-sensitive', async () => {
      const index = await openWith(backend);
      assert.deepEqual(
        uids(await findAll(index, 'patient', 'PATIENT', [k('PatientName', 'PN', 'doe*')]), 'PatientID'),
        ['P1'],
      );
      assert.deepEqual(
        uids(await findAll(index, 'patient', 'PATIENT', [k('PatientName', 'PN', 'SMITH^ANNA')]), 'PatientID'),
        ['P2'],
      );
      assert.deepEqual(
        uids(await findAll(index, 'patient', 'PATIENT', [k('PatientName', 'PN', '*^?nna')]), 'PatientID'),
        ['P2'],
      );
      assert.deepEqual(await findAll(index, 'patient', 'PATIENT', [k('PatientID', 'LO', 'p1')]), []);
      assert.deepEqual(
        uids(await findAll(index, 'patient', 'PATIENT', [k('PatientID', 'LO', 'P?')]), 'PatientID'),
        ['P1', 'P2', 'P3'],
      );
      assert.deepEqual(
        uids(await findAll(index, 'patient', 'PATIENT', [k('IssuerOfPatientID', 'LO', 'HOSP')]), 'PatientID'),
        ['P2'],
      );
      await index.close();
    });

    test('STUDY level in both models: unique keys of the level and above, ModalitiesInStudy, counts', async () => {
      const index = await openWith(backend);
      const keys = [
        k('PatientID', 'LO', 'P1'),
        k('StudyDate', 'DA'),
        k('ModalitiesInStudy', 'CS'),
        k('NumberOfStudyRelatedSeries', 'IS'),
        k('NumberOfStudyRelatedInstances', 'IS'),
        k('QueryRetrieveLevel', 'CS'),
      ];
      const patientRoot = await findAll(index, 'patient', 'STUDY', keys);
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
      const studyRoot = await findAll(index, 'study', 'STUDY', keys);
      assert.deepEqual(studyRoot, patientRoot, 'study root matches patient keys at STUDY level too');
      const noPatientKey = await findAll(index, 'study', 'STUDY', [k('StudyDate', 'DA', '20240101-')]);
      assert.deepEqual(Object.keys(noPatientKey[0] ?? {}).sort(), [
        'SpecificCharacterSet',
        'StudyDate',
        'StudyInstanceUID',
      ]);
      await index.close();
    });

    test('study root has no PATIENT level; unknown level and model are QueryErrors', async () => {
      const index = await openWith(backend);
      assert.throws(() => index.find('study', 'PATIENT', []), QueryError);
      assert.throws(() => index.find('patient', 'FOO' as 'IMAGE', []), /not a level/);
      assert.throws(() => index.find('worklist' as 'study', 'STUDY', []), /unknown information model/);
      await index.close();
    });

    test('StudyDate / StudyTime ranges and empty-value matching', async () => {
      const index = await openWith(backend);
      const studies = async (keys: QueryKey[]) =>
        uids(await findAll(index, 'study', 'STUDY', keys), 'StudyInstanceUID');
      assert.deepEqual(await studies([k('StudyDate', 'DA', '20240101-20241231')]), ['1.2.3.1', '1.2.3.3']);
      assert.deepEqual(await studies([k('StudyDate', 'DA', '-20231231')]), ['1.2.3.2']);
      assert.deepEqual(await studies([k('StudyDate', 'DA', '20241231-')]), ['1.2.3.3']);
      assert.deepEqual(await studies([k('StudyDate', 'DA', '20240115')]), ['1.2.3.1']);
      assert.deepEqual(
        await studies([k('StudyDate', 'DA', '""')]),
        ['1.2.3.4'],
        'only the study without a date',
      );
      assert.deepEqual(await studies([k('StudyDate', 'DA')]), ['1.2.3.1', '1.2.3.2', '1.2.3.3', '1.2.3.4']);
      assert.deepEqual(
        await studies([k('StudyTime', 'TM', '0900-1000')]),
        ['1.2.3.2'],
        '"0930" stored partial',
      );
      assert.deepEqual(
        await studies([k('StudyTime', 'TM', '09-10')]),
        ['1.2.3.1', '1.2.3.2'],
        '"10" reaches 10:59:59',
      );
      assert.deepEqual(await studies([k('StudyTime', 'TM', '2359-')]), ['1.2.3.3']);
      assert.deepEqual(
        await studies([k('StudyDate', 'DA', '20240101-20241231'), k('StudyTime', 'TM', '-1200')]),
        ['1.2.3.1'],
        'keys combine with AND',
      );
      await assert.rejects(() => studies([k('StudyDate', 'DA', '2024-13-45x')]), {
        code: 'ERR_QUERY_INVALID',
      });
      await index.close();
    });

    test('combined StudyDate + StudyTime range matching when negotiated', async () => {
      const index = await openWith(backend);
      await index.upsertInstance(
        record({
          patientId: 'P9',
          studyInstanceUid: '1.2.3.9',
          studyDate: '20231010',
          studyTime: '0500',
          seriesInstanceUid: '1.2.3.9.1',
          sopInstanceUid: '1.2.3.9.1.1',
        }),
      );
      const studies = async (date: string, time: string, combinedDateTime: boolean) =>
        uids(
          await findAll(index, 'study', 'STUDY', [k('StudyDate', 'DA', date), k('StudyTime', 'TM', time)], {
            combinedDateTime,
          }),
          'StudyInstanceUID',
        );
      // 1.2.3.2: 20230601 09:30, 1.2.3.9: 20231010 05:00, 1.2.3.1: 20240115 10:15, 1.2.3.3: 20241231 23:59:59
      assert.deepEqual(await studies('20230601-20240115', '0930-1015', false), ['1.2.3.1', '1.2.3.2']);
      assert.deepEqual(await studies('20230601-20240115', '0930-1015', true), [
        '1.2.3.1',
        '1.2.3.2',
        '1.2.3.9',
      ]);
      assert.deepEqual(
        await studies('20230601-20240115', '0931-1014', true),
        ['1.2.3.9'],
        'both end points exclude',
      );
      assert.deepEqual(
        await studies('20230601-20240115', '1000-0900', false),
        [],
        'separately, an inverted time range is empty',
      );
      assert.deepEqual(await studies('20230601-20240115', '1000-0900', true), ['1.2.3.9']);
      assert.deepEqual(await studies('-20240115', '-1000', true), ['1.2.3.2', '1.2.3.9']);
      assert.deepEqual(await studies('20241231-', '2359-', true), ['1.2.3.3']);
      assert.deepEqual(await studies('20240115', '1000-1100', true), ['1.2.3.1'], 'single date + time range');
      assert.deepEqual(
        await studies('20240101-20241231', '', true),
        ['1.2.3.1', '1.2.3.3'],
        'universal time: date alone',
      );
      await index.close();
    });

    test('ModalitiesInStudy matches any series modality; lists and wildcards', async () => {
      const index = await openWith(backend);
      const studies = async (value: string) =>
        uids(
          await findAll(index, 'study', 'STUDY', [k('ModalitiesInStudy', 'CS', value)]),
          'StudyInstanceUID',
        );
      assert.deepEqual(await studies('MR'), ['1.2.3.1', '1.2.3.2']);
      assert.deepEqual(await studies('CT\\CR'), ['1.2.3.1', '1.2.3.3']);
      assert.deepEqual(await studies('C?'), ['1.2.3.1', '1.2.3.3']);
      assert.deepEqual(await studies('XA'), []);
      await index.close();
    });

    test('keys below the level are ignored and returned empty; unknown keys returned empty', async () => {
      const index = await openWith(backend);
      const rows = await findAll(index, 'study', 'STUDY', [
        k('Modality', 'CS', 'XX'),
        k('PatientWeight', 'DS', '70'),
      ]);
      assert.equal(rows.length, 4, 'Modality at STUDY level does not filter');
      assert.equal(rows[0]?.Modality, '');
      assert.equal(rows[0]?.PatientWeight, '');
      const patients = await findAll(index, 'patient', 'PATIENT', [k('StudyDate', 'DA', '19000101')]);
      assert.equal(patients.length, 3, 'a STUDY key at PATIENT level does not filter');
      assert.equal(patients[0]?.StudyDate, '');
      // A non-unique key above the level (PatientName at STUDY in Patient Root) is matched.
      assert.deepEqual(
        uids(
          await findAll(index, 'patient', 'STUDY', [k('PatientName', 'PN', 'smith*')]),
          'StudyInstanceUID',
        ),
        ['1.2.3.3'],
      );
      await index.close();
    });

    test('SERIES and IMAGE levels: hierarchy keys, list of UIDs, numbers', async () => {
      const index = await openWith(backend);
      const series = await findAll(index, 'study', 'SERIES', [
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
      assert.equal((await findAll(index, 'study', 'SERIES', [k('SeriesNumber', 'IS', '2')])).length, 1);
      const images = await findAll(index, 'patient', 'IMAGE', [
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
      assert.deepEqual(
        uids(await findAll(index, 'study', 'IMAGE', [k('SOPClassUID', 'UI', MR)]), 'SOPInstanceUID'),
        ['1.2.3.1.2.1', '1.2.3.2.1.1'],
      );
      await index.close();
    });

    test('values never reach the SQL text', async () => {
      const index = await openWith(backend);
      assert.deepEqual(
        await findAll(index, 'patient', 'PATIENT', [k('PatientID', 'LO', "x' OR '1'='1")]),
        [],
      );
      assert.deepEqual(
        await findAll(index, 'patient', 'PATIENT', [k('PatientName', 'PN', "*') OR 1=1 --")]),
        [],
      );
      await index.close();
    });

    test('filesFor: instances under the designated entities; the unique key is required', async () => {
      const index = await openWith(backend);
      const files = await index.filesFor('study', 'STUDY', [k('StudyInstanceUID', 'UI', '1.2.3.1\\1.2.3.3')]);
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
      assert.equal((await index.filesFor('patient', 'PATIENT', [k('PatientID', 'LO', 'P1')])).length, 4);
      assert.equal(
        (
          await index.filesFor('study', 'SERIES', [
            k('StudyInstanceUID', 'UI', '1.2.3.1'),
            k('SeriesInstanceUID', 'UI', '1.2.3.1.2'),
          ])
        ).length,
        1,
      );
      assert.equal(
        (await index.filesFor('study', 'IMAGE', [k('SOPInstanceUID', 'UI', '1.2.3.4.1.1')])).length,
        1,
      );
      await assert.rejects(
        () => index.filesFor('study', 'STUDY', [k('StudyInstanceUID', 'UI')]),
        /must be given a value/,
      );
      await assert.rejects(
        () => index.filesFor('study', 'SERIES', [k('StudyInstanceUID', 'UI', '1.2.3.1')]),
        QueryError,
      );
      await index.close();
    });

    test('filesFor: wildcards and ranges in retrieve keys are refused with 0xA900, naming the key', async () => {
      const index = await openWith(backend);
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
        await assert.rejects(
          () => index.filesFor(level === 'PATIENT' ? 'patient' : 'study', level, keys),
          (err: unknown) =>
            err instanceof QueryError &&
            err.status === 0xa900 &&
            err.keyword !== undefined &&
            err.message.startsWith(`retrieve key ${err.keyword}:`),
          JSON.stringify(keys),
        );
      }
      await index.close();
    });

    test('upsert of a known instance updates it without double counting; first hierarchy wins', async () => {
      const index = await openWith(backend);
      const before = await index.counts();
      const { created } = await index.upsertInstance(
        record({
          ...fixture()[0],
          sopInstanceUid: '1.2.3.1.1.1',
          path: '/data/new.dcm',
          patientName: 'Doe^Johnny',
          studyDescription: 'CT HEAD v2',
        }),
      );
      assert.equal(created, false);
      assert.deepEqual(await index.counts(), before);
      assert.equal((await index.getInstance('1.2.3.1.1.1'))?.path, '/data/new.dcm');
      const study = (
        await findAll(index, 'study', 'STUDY', [
          k('StudyInstanceUID', 'UI', '1.2.3.1'),
          k('StudyDescription', 'LO'),
          k('PatientName', 'PN'),
          k('NumberOfStudyRelatedInstances', 'IS'),
        ])
      )[0];
      assert.equal(study?.StudyDescription, 'CT HEAD v2');
      assert.equal(study?.PatientName, 'Doe^Johnny');
      assert.equal(study?.NumberOfStudyRelatedInstances, '3');

      // A new instance claiming an existing series belongs to another study stays in the first study.
      await index.upsertInstance(
        record({
          studyInstanceUid: '9.9',
          seriesInstanceUid: '1.2.3.1.1',
          sopInstanceUid: '1.2.3.1.1.3',
          patientId: 'P1',
        }),
      );
      assert.equal((await index.getInstance('1.2.3.1.1.3'))?.studyInstanceUid, '1.2.3.1');
      assert.deepEqual(await findAll(index, 'study', 'STUDY', [k('StudyInstanceUID', 'UI', '9.9')]), []);
      await index.close();
    });

    test('removeInstance fixes counters and drops emptied series, study and patient', async () => {
      const index = await openWith(backend);
      const removed = await index.removeInstance('1.2.3.1.2.1');
      assert.equal(removed?.seriesInstanceUid, '1.2.3.1.2');
      const p1 = (
        await findAll(index, 'patient', 'PATIENT', [
          k('PatientID', 'LO', 'P1'),
          k('NumberOfPatientRelatedSeries', 'IS'),
          k('NumberOfPatientRelatedInstances', 'IS'),
        ])
      )[0];
      assert.equal(p1?.NumberOfPatientRelatedSeries, '2');
      assert.equal(p1?.NumberOfPatientRelatedInstances, '3');
      assert.equal(
        (
          await findAll(index, 'study', 'STUDY', [
            k('StudyInstanceUID', 'UI', '1.2.3.1'),
            k('ModalitiesInStudy', 'CS'),
          ])
        )[0]?.ModalitiesInStudy,
        'CT',
      );
      await index.removeInstance('1.2.3.3.1.1');
      assert.deepEqual(await findAll(index, 'patient', 'PATIENT', [k('PatientID', 'LO', 'P2')]), []);
      assert.deepEqual(await index.counts(), { patients: 2, studies: 3, series: 3, instances: 4 });
      assert.equal(await index.removeInstance('1.2.3.3.1.1'), undefined);
      await index.close();
    });

    test('hasInstance and storage commitment: 0x0112 unknown, 0x0119 class conflict, 0x0110 file gone', async () => {
      const index = await openWith(backend);
      assert.equal(await index.hasInstance('1.2.3.1.1.1'), true);
      assert.equal(await index.hasInstance('1.2.3.1.1.1', CT), true);
      assert.equal(await index.hasInstance('1.2.3.1.1.1', MR), false);
      assert.equal(await index.hasInstance('5.5'), false);
      const result = await index.checkCommitment([
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
      const withFiles = await index.checkCommitment(
        [{ sopClassUid: CT, sopInstanceUid: '1.2.3.1.1.1' }],
        () => false,
      );
      assert.deepEqual(withFiles.failed, [
        { sopClassUid: CT, sopInstanceUid: '1.2.3.1.1.1', reason: 0x0110 },
      ]);
      await index.close();
    });

    test('allInstances pages through every row and tolerates removal while iterating', async () => {
      const index = await backend.open();
      for (let i = 1; i <= 2500; i++)
        await index.upsertInstance(record({ seriesInstanceUid: `1.2.${i % 7}`, sopInstanceUid: `1.3.${i}` }));
      let n = 0;
      for await (const instance of index.allInstances()) {
        n++;
        if (n % 2 === 0) await index.removeInstance(instance.sopInstanceUid);
      }
      assert.equal(n, 2500);
      assert.equal((await index.counts()).instances, 1250);
      await index.close();
    });
  });

test('an index in a storage root persists across reopen; the schema version is recorded', async (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const index = new SqliteIndex(dir);
  await index.upsertInstance(record({ sopInstanceUid: '1.2.3.4.5' }));
  assert.equal(index.db.pragma('journal_mode', { simple: true }), 'wal');
  await index.close();
  assert.ok(existsSync(join(dir, 'index.db')));
  const again = new SqliteIndex(join(dir, 'index.db'));
  assert.equal(again.db.pragma('user_version', { simple: true }), MIGRATIONS.length);
  assert.equal(await again.hasInstance('1.2.3.4.5'), true);
  again.db.pragma('user_version = 99');
  again.close();
  assert.throws(() => new SqliteIndex(dir), /newer than this dicomnet understands/);
});

test('an instance record without its UIDs is refused', async () => {
  const index = new SqliteIndex(':memory:');
  await assert.rejects(() => index.upsertInstance(record({ sopInstanceUid: '1.2', studyInstanceUid: '' })), {
    code: 'ERR_INDEX',
  });
  await index.close();
});

test('opening a version-1 database migrates it and backfills ModalitiesInStudy', async (t) => {
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
    (await findAll(index, 'study', 'STUDY', [k('ModalitiesInStudy', 'CS')])).map((r) => r.ModalitiesInStudy),
    ['CT\\MR'],
  );
  await index.close();
});
