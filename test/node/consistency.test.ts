import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkConsistency, FileStorage, SqliteIndex } from '../../src/node/index.js';
import { record, tempRoot } from './helpers.js';

test('startup check: sweeps .incoming, drops rows without files, reports and re-indexes orphan files', async (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const storage = new FileStorage(dir);
  const index = new SqliteIndex(dir);
  t.after(() => index.close());

  const locs = ['1', '2', '3'].map((n) => ({
    studyInstanceUid: '1.2.3',
    seriesInstanceUid: '1.2.3.4',
    sopInstanceUid: `1.2.3.4.${n}`,
  }));
  for (const loc of locs) {
    const { path } = await storage.write(Buffer.from(loc.sopInstanceUid), loc, 'keep');
    index.upsertInstanceSync(record({ ...loc, path }));
  }
  // Interrupted receptions: a temp file and a stray directory in .incoming.
  writeFileSync(join(storage.tempDir(), 'abc.part'), 'half');
  mkdirSync(join(storage.tempDir(), 'junk'));
  // A row whose file vanished.
  unlinkSync(storage.pathFor(locs[1]!));
  // Files nobody indexed, plus things that are not instance files.
  const orphanA = (await storage.write(Buffer.from('a'), { ...locs[0]!, sopInstanceUid: '7.7' }, 'keep'))
    .path;
  const orphanB = (await storage.write(Buffer.from('b'), { ...locs[0]!, sopInstanceUid: '8.8' }, 'keep'))
    .path;
  writeFileSync(join(dir, '1.2.3', 'README'), 'not an instance');

  const reindexed: string[] = [];
  const summary = await checkConsistency({
    storage,
    index,
    reindex: (path) => {
      if (path === orphanB) throw new Error('not DICOM');
      reindexed.push(path);
      return record({ ...locs[0]!, sopInstanceUid: '7.7', path });
    },
  });
  assert.equal(summary.tempFilesRemoved, 2);
  assert.deepEqual(readdirSync(storage.tempDir()), []);
  assert.deepEqual(
    summary.missingFiles.map((m) => m.sopInstanceUid),
    ['1.2.3.4.2'],
  );
  assert.equal(summary.rowsRemoved, 1);
  assert.equal(await index.hasInstance('1.2.3.4.2'), false);
  assert.deepEqual(reindexed, [orphanA]);
  assert.equal(summary.reindexed, 1);
  assert.equal(await index.hasInstance('7.7'), true);
  assert.deepEqual(summary.orphanFiles, [orphanB]);
  assert.deepEqual(summary.reindexFailures, [{ path: orphanB, error: 'not DICOM' }]);
  assert.ok(existsSync(join(dir, 'index.db')), 'index files untouched');

  // A second run finds a consistent store (the failing orphan stays reported).
  const again = await checkConsistency({ storage, index });
  assert.deepEqual(
    { ...again, orphanFiles: again.orphanFiles.length },
    {
      tempFilesRemoved: 0,
      missingFiles: [],
      rowsRemoved: 0,
      orphanFiles: 1,
      reindexed: 0,
      reindexFailures: [],
      supersededRemoved: [],
    },
  );
});

test('report-only mode keeps rows whose file is missing; a fresh root is consistent', async (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const storage = new FileStorage(dir);
  const index = new SqliteIndex(':memory:');
  t.after(() => index.close());
  const empty = await checkConsistency({ storage, index });
  assert.deepEqual(empty, {
    tempFilesRemoved: 0,
    missingFiles: [],
    rowsRemoved: 0,
    orphanFiles: [],
    reindexed: 0,
    reindexFailures: [],
    supersededRemoved: [],
  });
  index.upsertInstanceSync(
    record({ sopInstanceUid: '1.9', path: join(dir, '1.2.3.1', '1.2.3.1.1', '1.9.dcm') }),
  );
  const summary = await checkConsistency({ storage, index, removeMissingRows: false });
  assert.equal(summary.missingFiles.length, 1);
  assert.equal(summary.rowsRemoved, 0);
  assert.equal(await index.hasInstance('1.9'), true);
});

test('startup check: a file whose SOP Instance UID is indexed with another file is removed, never re-indexed', async (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const storage = new FileStorage(dir);
  const index = new SqliteIndex(dir);
  t.after(() => index.close());
  const first = { studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sopInstanceUid: '1.2.3.4.5' };
  const { path } = await storage.write(Buffer.from('first'), first, 'keep');
  index.upsertInstanceSync(record({ ...first, patientId: 'FIRST', path }));
  // A duplicate claiming another study, left by a store that never got its row (or a replaced file).
  const claim = { ...first, studyInstanceUid: '9.9', seriesInstanceUid: '9.9.1' };
  const other = (await storage.write(Buffer.from('other'), claim, 'keep')).path;

  for (let round = 0; round < 2; round++) {
    let asked = 0;
    const summary = await checkConsistency({
      storage,
      index,
      reindex: (p) => {
        asked++;
        return record({ ...claim, patientId: 'OTHER', path: p });
      },
    });
    assert.equal(asked, 0, 'the duplicate is not parsed for re-indexing');
    assert.deepEqual(summary.supersededRemoved, round === 0 ? [other] : []);
    assert.equal(existsSync(other), false);
    assert.equal(index.getInstanceSync(first.sopInstanceUid)?.studyInstanceUid, '1.2.3');
    assert.equal(index.getInstanceSync(first.sopInstanceUid)?.path, path);
  }
});
