import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  ConfigError,
  type DicomJsonObject,
  MPPS_ERROR_NO_LONGER_UPDATABLE,
  MppsStatus,
  QueryError,
  type QueryKey,
  SqliteIndex,
} from '../../src/node/index.js';
import { tempRoot } from './helpers.js';

function item(opts: {
  patientId: string;
  name: string;
  modality: string;
  aet: string;
  date: string;
  time: string;
  accession: string;
}): DicomJsonObject {
  return {
    '00080005': { vr: 'CS', Value: ['ISO_IR 100'] },
    '00080050': { vr: 'SH', Value: [opts.accession] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: opts.name }] },
    '00100020': { vr: 'LO', Value: [opts.patientId] },
    '0020000D': { vr: 'UI', Value: [`1.2.9.${opts.patientId.length}${opts.accession.length}`] },
    '00400100': {
      vr: 'SQ',
      Value: [
        {
          '00080060': { vr: 'CS', Value: [opts.modality] },
          '00400001': { vr: 'AE', Value: [opts.aet] },
          '00400002': { vr: 'DA', Value: [opts.date] },
          '00400003': { vr: 'TM', Value: [opts.time] },
          '00400009': { vr: 'SH', Value: [`SPS-${opts.accession}`] },
        },
      ],
    },
  };
}

const ITEMS = [
  item({
    patientId: 'W1',
    name: 'Doe^Jane',
    modality: 'CT',
    aet: 'CT1',
    date: '20240301',
    time: '0800',
    accession: 'A1',
  }),
  item({
    patientId: 'W2',
    name: 'Roe^Rick',
    modality: 'MR',
    aet: 'MR1',
    date: '20240301',
    time: '1400',
    accession: 'A2',
  }),
  item({
    patientId: 'W3',
    name: 'Poe^Edgar',
    modality: 'CT',
    aet: 'CT2',
    date: '20240302',
    time: '0900',
    accession: 'A3',
  }),
];

const k = (keyword: string, vr: string, value = '', items?: QueryKey[]): QueryKey =>
  items ? { keyword, vr, value, items } : { keyword, vr, value };

function spsKeys(overrides: Record<string, string>) {
  const base: Record<string, string> = {
    Modality: '',
    ScheduledStationAETitle: '',
    ScheduledProcedureStepStartDate: '',
    ScheduledProcedureStepStartTime: '',
  };
  const vrs: Record<string, string> = {
    Modality: 'CS',
    ScheduledStationAETitle: 'AE',
    ScheduledProcedureStepStartDate: 'DA',
    ScheduledProcedureStepStartTime: 'TM',
  };
  return Object.entries({ ...base, ...overrides }).map(([kw, v]) => k(kw, vrs[kw] ?? 'LO', v));
}

test('worklist: loaded from a directory, matched on sequence keys, projected to the requested keys', async (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const wl = join(dir, 'worklist');
  mkdirSync(wl);
  writeFileSync(join(wl, 'a.json'), JSON.stringify(ITEMS[0]));
  writeFileSync(join(wl, 'more.json'), JSON.stringify([ITEMS[1], ITEMS[2]]));
  writeFileSync(join(wl, 'notes.txt'), 'ignored');
  const index = new SqliteIndex(':memory:');
  assert.equal(index.worklist.loadDirectory(wl), 3);
  assert.equal(index.worklist.loadDirectory(wl), 3, 'reloading replaces, does not duplicate');
  assert.equal(index.worklist.count(), 3);

  const ctToday = await index.findWorklist([
    k('PatientName', 'PN'),
    k(
      'ScheduledProcedureStepSequence',
      'SQ',
      '',
      spsKeys({ Modality: 'CT', ScheduledProcedureStepStartDate: '20240301' }),
    ),
  ]);
  assert.equal(ctToday.length, 1);
  assert.deepEqual(ctToday[0], {
    '00080005': { vr: 'CS', Value: ['ISO_IR 100'] },
    '00100010': { vr: 'PN', Value: [{ Alphabetic: 'Doe^Jane' }] },
    '00400100': {
      vr: 'SQ',
      Value: [
        {
          '00080060': { vr: 'CS', Value: ['CT'] },
          '00400001': { vr: 'AE', Value: ['CT1'] },
          '00400002': { vr: 'DA', Value: ['20240301'] },
          '00400003': { vr: 'TM', Value: ['0800'] },
        },
      ],
    },
  });
  const ids = async (keys: QueryKey[]) =>
    (await index.findWorklist([k('PatientID', 'LO'), ...keys])).map((m) => m['00100020']?.Value?.[0]);
  assert.deepEqual(await ids([]), ['W1', 'W2', 'W3']);
  assert.deepEqual(await ids([k('PatientName', 'PN', '*oe^*')]), ['W1', 'W2', 'W3']);
  assert.deepEqual(await ids([k('PatientName', 'PN', 'roe*')]), ['W2']);
  assert.deepEqual(
    await ids([
      k(
        'ScheduledProcedureStepSequence',
        'SQ',
        '',
        spsKeys({ ScheduledProcedureStepStartTime: '0700-1200' }),
      ),
    ]),
    ['W1', 'W3'],
  );
  assert.deepEqual(
    await ids([k('ScheduledProcedureStepSequence', 'SQ', '', spsKeys({ ScheduledStationAETitle: 'CT*' }))]),
    ['W1', 'W3'],
  );
  assert.deepEqual(await ids([k('AccessionNumber', 'SH', 'A2\\A3')]), ['W2', 'W3']);
  // A requested key the item lacks comes back empty.
  const withMissing = await index.findWorklist([
    k('AccessionNumber', 'SH', 'A1'),
    k('PatientBirthDate', 'DA'),
  ]);
  assert.deepEqual(withMissing[0]?.['00100030'], { vr: 'DA' });
  await assert.rejects(() => index.findWorklist([k('NoSuchKeyword', 'LO', 'x')]), QueryError);
  await assert.rejects(
    () =>
      index.findWorklist([
        k('ScheduledProcedureStepSequence', 'SQ', '', spsKeys({ ScheduledProcedureStepStartDate: '2024x' })),
      ]),
    { code: 'ERR_QUERY_INVALID' },
  );
  index.close();
});

test('worklist: items added through the API; a bad file names itself', (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const index = new SqliteIndex(':memory:');
  index.worklist.add('sps-1', ITEMS[0] as DicomJsonObject);
  index.worklist.add('sps-1', ITEMS[1] as DicomJsonObject);
  assert.equal(index.worklist.count(), 1);
  assert.equal(index.worklist.remove('sps-1'), true);
  assert.equal(index.worklist.remove('sps-1'), false);
  writeFileSync(join(dir, 'bad.json'), '{ nope');
  assert.throws(
    () => index.worklist.loadDirectory(dir),
    (err: unknown) => err instanceof ConfigError && /bad\.json/.test(err.message),
  );
  assert.throws(() => index.worklist.loadDirectory(join(dir, 'missing')), ConfigError);
  index.close();
});

const inProgress: DicomJsonObject = {
  '00400252': { vr: 'CS', Value: ['IN PROGRESS'] },
  '00400253': { vr: 'SH', Value: ['PPS-1'] },
  '00100020': { vr: 'LO', Value: ['W1'] },
};

test('MPPS N-CREATE: IN PROGRESS only, duplicates and bad UIDs refused', () => {
  const index = new SqliteIndex(':memory:');
  const created = index.mpps.create('1.2.5.1', inProgress, 'CT1');
  assert.equal(created.ok, true);
  assert.equal(created.ok && created.state, 'IN PROGRESS');
  assert.deepEqual(index.mpps.create('1.2.5.1', inProgress), {
    ok: false,
    status: MppsStatus.DuplicateSopInstance,
    reason: 'MPPS N-CREATE: 1.2.5.1 already exists',
  });
  const completed = index.mpps.create('1.2.5.2', { '00400252': { vr: 'CS', Value: ['COMPLETED'] } });
  assert.equal(!completed.ok && completed.status, MppsStatus.InvalidAttributeValue);
  const missing = index.mpps.create('1.2.5.3', {});
  assert.equal(!missing.ok && missing.status, MppsStatus.MissingAttribute);
  const badUid = index.mpps.create('../x', inProgress);
  assert.equal(!badUid.ok && badUid.status, MppsStatus.InvalidObjectInstance);
  assert.equal(index.mpps.get('1.2.5.1')?.callingAet, 'CT1');
  index.close();
});

test('MPPS N-SET: updates while IN PROGRESS, frozen after COMPLETED/DISCONTINUED (0110 / A710)', () => {
  const index = new SqliteIndex(':memory:');
  index.mpps.create('1.2.5.1', inProgress);
  const unknown = index.mpps.set('9.9', {});
  assert.equal(!unknown.ok && unknown.status, MppsStatus.NoSuchObjectInstance);
  const update = index.mpps.set('1.2.5.1', { '00400254': { vr: 'LO', Value: ['Step description'] } });
  assert.equal(update.ok && update.state, 'IN PROGRESS');
  const invalid = index.mpps.set('1.2.5.1', { '00400252': { vr: 'CS', Value: ['PAUSED'] } });
  assert.equal(!invalid.ok && invalid.status, MppsStatus.InvalidAttributeValue);
  for (const final of ['COMPLETED', 'DISCONTINUED']) {
    const uid = final === 'COMPLETED' ? '1.2.5.1' : '1.2.5.2';
    if (uid !== '1.2.5.1') index.mpps.create(uid, inProgress);
    const done = index.mpps.set(uid, { '00400252': { vr: 'CS', Value: [final] } });
    assert.equal(done.ok && done.state, final);
    const after = index.mpps.set(uid, { '00400254': { vr: 'LO', Value: ['late'] } });
    assert.deepEqual(after.ok ? undefined : [after.status, after.errorId], [
      MppsStatus.ProcessingFailure,
      MPPS_ERROR_NO_LONGER_UPDATABLE,
    ]);
  }
  const record = index.mpps.get('1.2.5.1');
  assert.equal(record?.state, 'COMPLETED');
  assert.deepEqual(
    record?.attributes['00400254'],
    { vr: 'LO', Value: ['Step description'] },
    'the late N-SET was not applied',
  );
  assert.deepEqual(
    record?.attributes['00400253'],
    { vr: 'SH', Value: ['PPS-1'] },
    'N-CREATE attributes kept',
  );
  index.close();
});

test('worklist: an item naming a BulkDataURI is refused at load time, naming the file and the attribute', (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const index = new SqliteIndex(':memory:');
  const leak: DicomJsonObject = {
    ...(ITEMS[0] as DicomJsonObject),
    '00400100': {
      vr: 'SQ',
      Value: [
        { '00420011': { vr: 'OB', BulkDataURI: 'file:///etc/ssl/private/server.key?offset=0&length=1704' } },
      ],
    },
  };
  writeFileSync(join(dir, 'good.json'), JSON.stringify(ITEMS[1]));
  writeFileSync(join(dir, 'leak.json'), JSON.stringify([ITEMS[0], leak]));
  assert.throws(
    () => index.worklist.loadDirectory(dir),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.message.includes(join(dir, 'leak.json[1]')) &&
      err.message.includes('00400100[0].00420011') &&
      /BulkDataURI/.test(err.message),
  );
  assert.equal(index.worklist.count(), 0, 'nothing of the directory is loaded');
  assert.throws(() => index.worklist.add('api', leak), { name: 'QueryError', message: /BulkDataURI/ });
  index.close();
});
