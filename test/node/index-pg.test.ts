import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IndexError, PG_MIGRATIONS, PgIndex } from '../../src/node/index.js';
import { postgresSkip, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { record, tempRoot } from './helpers.js';

describe('PostgreSQL index: schema versions, retries, connection loss', { skip: postgresSkip() }, () => {
  let server: TestPostgres;
  const cleanups: (() => void)[] = [];
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    for (const c of cleanups) c();
    await server?.stop();
  });
  const localDir = () => {
    const t = tempRoot('dicomnet-pg-local-');
    cleanups.push(t.cleanup);
    return t.dir;
  };

  test('the schema is created and versioned at start; a newer schema is refused; a bad URL is an IndexError', async () => {
    const url = await server.createDatabase();
    const index = await PgIndex.open(url, { localDir: localDir() });
    await index.upsertInstance(record({ sopInstanceUid: '1.2.9.1' }));
    await index.close();
    // reopening migrates nothing and keeps the rows
    const again = await PgIndex.open(url, { localDir: localDir() });
    assert.equal(await again.hasInstance('1.2.9.1'), true);
    await again.close();

    const { default: pg } = (await import('pg')) as unknown as { default: typeof import('pg') };
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    assert.deepEqual((await client.query('SELECT version FROM dicomnet_schema')).rows, [
      { version: PG_MIGRATIONS.length },
    ]);
    await client.query('UPDATE dicomnet_schema SET version = 99');
    await client.end();
    await assert.rejects(
      () => PgIndex.open(url, { localDir: localDir() }),
      (err: unknown) =>
        err instanceof IndexError && /version 99, newer than this dicomnet understands/.test(err.message),
    );
    await assert.rejects(
      () =>
        PgIndex.open(`postgres://dicomnet:secret@127.0.0.1:${server.port}/no_such_db`, {
          localDir: localDir(),
        }),
      (err: unknown) =>
        err instanceof IndexError && /cannot open/.test(err.message) && !err.message.includes('secret'),
    );
  });

  test('concurrent stores of one study from two indexes (two nodes) retry and leave one row per entity', async () => {
    const url = await server.createDatabase();
    const a = await PgIndex.open(url, { localDir: localDir() });
    const b = await PgIndex.open(url, { localDir: localDir() });
    const study = { studyInstanceUid: '1.2.77', seriesInstanceUid: '1.2.77.1', patientId: 'PX' };
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      writes.push(a.upsertInstance(record({ ...study, sopInstanceUid: `1.2.77.1.${i}` })));
      writes.push(b.upsertInstance(record({ ...study, sopInstanceUid: `1.2.77.1.${i}` })));
    }
    await Promise.all(writes);
    assert.deepEqual(await a.counts(), { patients: 1, studies: 1, series: 1, instances: 20 });
    const rows = [];
    for await (const m of b.find('study', 'STUDY', [
      { keyword: 'StudyInstanceUID', vr: 'UI', value: '' },
      { keyword: 'NumberOfStudyRelatedInstances', vr: 'IS', value: '' },
    ]))
      rows.push(m);
    assert.deepEqual(
      rows.map((r) => r.NumberOfStudyRelatedInstances),
      ['20'],
    );
    await a.close();
    await b.close();
  });

  test('a lost connection fails the operation with an IndexError, never a crash; the index works again after', async () => {
    const url = await server.createDatabase();
    const index = await PgIndex.open(url, { localDir: localDir() });
    await index.upsertInstance(record({ sopInstanceUid: '1.2.8.1' }));
    server.pause();
    try {
      await assert.rejects(() => index.upsertInstance(record({ sopInstanceUid: '1.2.8.2' })), IndexError);
      await assert.rejects(() => index.getInstance('1.2.8.1'), IndexError);
    } finally {
      server.start();
    }
    await index.upsertInstance(record({ sopInstanceUid: '1.2.8.3' }));
    assert.equal(await index.hasInstance('1.2.8.1'), true);
    assert.equal(await index.hasInstance('1.2.8.3'), true);
    await index.close();
  });
});
