import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileStorage, StorageError } from '../../src/node/index.js';
import { KeyedMutex } from '../../src/node/lock-map.js';
import { tempRoot } from './helpers.js';

const LOC = { studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sopInstanceUid: '1.2.3.4.5' };

function errno(code: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${code}: simulated`);
  err.code = code;
  return err;
}

function temp(storage: FileStorage, content: string): string {
  const path = storage.createTempPath();
  writeFileSync(path, content);
  return path;
}

test('commit moves the temp file to ROOT/study/series/sop.dcm and empties .incoming', async (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const storage = new FileStorage(dir);
  const result = await storage.commit(temp(storage, 'first'), LOC, 'keep');
  assert.equal(result.outcome, 'stored');
  assert.equal(result.path, join(dir, '1.2.3', '1.2.3.4', '1.2.3.4.5.dcm'));
  assert.equal(readFileSync(result.path, 'utf8'), 'first');
  assert.deepEqual(readdirSync(storage.tempDir()), []);
  assert.equal((await storage.read(result.path)).toString(), 'first');
  assert.equal(await storage.exists(result.path), true);
});

test('duplicate policies: keep keeps the first, reject drops the new one, replace overwrites', async (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const storage = new FileStorage(dir);
  const first = await storage.commit(temp(storage, 'one'), LOC, 'keep');
  const kept = await storage.commit(temp(storage, 'two'), LOC, 'keep');
  assert.equal(kept.outcome, 'kept-existing');
  assert.equal(readFileSync(first.path, 'utf8'), 'one');
  const rejected = await storage.commit(temp(storage, 'three'), LOC, 'reject');
  assert.equal(rejected.outcome, 'rejected');
  assert.equal(readFileSync(first.path, 'utf8'), 'one');
  const replaced = await storage.commit(temp(storage, 'four'), LOC, 'replace');
  assert.equal(replaced.outcome, 'replaced');
  assert.equal(readFileSync(first.path, 'utf8'), 'four');
  assert.deepEqual(readdirSync(storage.tempDir()), [], 'every temp file is consumed');
  const fresh = await storage.commit(temp(storage, 'x'), { ...LOC, sopInstanceUid: '9.9' }, 'replace');
  assert.equal(fresh.outcome, 'stored');
});

test('bad UIDs are a typed error and leave nothing behind', async (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const storage = new FileStorage(dir);
  for (const bad of ['..', '../../etc', '1.2/3', '1.2.3a', '', '.', '1'.repeat(65), '1.2\\3']) {
    const path = temp(storage, 'x');
    await assert.rejects(
      storage.commit(path, { ...LOC, seriesInstanceUid: bad }, 'keep'),
      (err: unknown) =>
        err instanceof StorageError && err.code === 'ERR_STORAGE_BAD_UID' && err.kind === 'dimse',
      `UID ${JSON.stringify(bad)}`,
    );
    assert.equal(existsSync(path), false);
  }
  assert.deepEqual(
    readdirSync(dir).filter((n) => n !== '.incoming'),
    [],
  );
});

test('ENOSPC / EDQUOT on rename map to ERR_STORAGE_FULL; no partial file, temp removed', async (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  for (const code of ['ENOSPC', 'EDQUOT']) {
    const storage = new FileStorage(dir, {
      fs: {
        rename: async () => {
          throw errno(code);
        },
        link: async () => {
          throw errno(code);
        },
      },
    });
    for (const policy of ['keep', 'replace'] as const) {
      const path = temp(storage, 'data');
      await assert.rejects(
        storage.commit(path, LOC, policy),
        (err: unknown) =>
          err instanceof StorageError && err.code === 'ERR_STORAGE_FULL' && err.message.includes(code),
      );
      assert.equal(existsSync(path), false);
      assert.equal(existsSync(storage.pathFor(LOC)), false);
    }
  }
});

test('a failing fsync or write leaves nothing in place', async (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const syncFails = new FileStorage(dir, {
    fs: {
      open: async () => ({
        sync: async () => {
          throw errno('EIO');
        },
        close: async () => {},
      }),
    },
  });
  const path = temp(syncFails, 'data');
  await assert.rejects(syncFails.commit(path, LOC, 'keep'), { code: 'ERR_STORAGE_IO' });
  assert.equal(existsSync(path), false);
  assert.equal(existsSync(syncFails.pathFor(LOC)), false);

  const writeFails = new FileStorage(dir, {
    fs: {
      writeFile: async (p) => {
        writeFileSync(p, 'partial');
        throw errno('ENOSPC');
      },
    },
  });
  await assert.rejects(writeFails.write(Buffer.from('whole'), LOC, 'keep'), { code: 'ERR_STORAGE_FULL' });
  assert.deepEqual(readdirSync(writeFails.tempDir()), []);
  assert.equal(existsSync(writeFails.pathFor(LOC)), false);
});

test('concurrent commits of one SOP Instance UID end in exactly one stored file', async (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const storage = new FileStorage(dir);
  for (const policy of ['keep', 'reject', 'replace'] as const) {
    const loc = { ...LOC, sopInstanceUid: `1.2.3.4.${policy.length}` };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => storage.commit(temp(storage, `v${i}`), loc, policy)),
    );
    const stored = results.filter((r) => r.outcome === 'stored');
    assert.equal(stored.length, 1, `${policy}: one 'stored'`);
    if (policy === 'replace') assert.equal(results.filter((r) => r.outcome === 'replaced').length, 19);
    else assert.equal(results.filter((r) => r.outcome !== 'stored').length, 19);
    const content = readFileSync(storage.pathFor(loc), 'utf8');
    // Commits are serialized in arrival order: keep/reject keep the first, replace ends with the last.
    assert.equal(content, policy === 'replace' ? 'v19' : 'v0');
  }
  assert.deepEqual(readdirSync(storage.tempDir()), []);
  assert.deepEqual(readdirSync(join(dir, '1.2.3', '1.2.3.4')).sort(), [
    '1.2.3.4.4.dcm',
    '1.2.3.4.6.dcm',
    '1.2.3.4.7.dcm',
  ]);
});

test('file systems without hard links fall back to rename', async (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const storage = new FileStorage(dir, {
    fs: {
      link: async () => {
        throw errno('EPERM');
      },
    },
  });
  assert.equal((await storage.commit(temp(storage, 'a'), LOC, 'keep')).outcome, 'stored');
  assert.equal((await storage.commit(temp(storage, 'b'), LOC, 'keep')).outcome, 'kept-existing');
  assert.equal(readFileSync(storage.pathFor(LOC), 'utf8'), 'a');
});

test('remove deletes the file and prunes empty series/study directories; paths outside root refused', async (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const storage = new FileStorage(dir);
  const a = await storage.write(Buffer.from('a'), LOC, 'keep');
  const b = await storage.write(Buffer.from('b'), { ...LOC, sopInstanceUid: '1.2.3.4.6' }, 'keep');
  await storage.remove(a.path);
  assert.equal(existsSync(a.path), false);
  assert.equal(existsSync(join(dir, '1.2.3', '1.2.3.4')), true);
  await storage.remove(b.path);
  assert.equal(existsSync(join(dir, '1.2.3')), false);
  assert.equal(existsSync(dir), true);
  await storage.remove(b.path); // already gone: no error
  assert.throws(() => storage.createReadStream('/etc/passwd'), { code: 'ERR_STORAGE_BAD_PATH' });
  await assert.rejects(storage.read(join(dir, '..', 'x')), { code: 'ERR_STORAGE_BAD_PATH' });
});

test('KeyedMutex serializes per key and forgets drained keys', async () => {
  const mutex = new KeyedMutex();
  const order: string[] = [];
  const slow = (label: string, ms: number) => async () => {
    order.push(`${label}>`);
    await new Promise((r) => setTimeout(r, ms));
    order.push(`<${label}`);
    return label;
  };
  const results = await Promise.all([
    mutex.run('a', slow('a1', 20)),
    mutex.run('a', slow('a2', 1)),
    mutex.run('b', slow('b1', 1)),
  ]);
  assert.deepEqual(results, ['a1', 'a2', 'b1']);
  assert.ok(order.indexOf('<a1') < order.indexOf('a2>'));
  assert.ok(order.indexOf('b1>') < order.indexOf('<a1'), 'other keys run concurrently');
  await assert.rejects(
    mutex.run('a', async () => {
      throw new Error('boom');
    }),
  );
  assert.equal(await mutex.run('a', async () => 'after failure'), 'after failure');
  assert.equal(mutex.size, 0);
});

test('a temp file on another file system (EXDEV) is copied in, then placed', async (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const elsewhere = tempRoot('dicomnet-elsewhere-');
  t.after(elsewhere.cleanup);
  const storage = new FileStorage(dir, {
    fs: {
      link: async (from, to) => {
        if (!from.startsWith(dir)) throw errno('EXDEV');
        await import('node:fs/promises').then((fsp) => fsp.link(from, to));
      },
    },
  });
  const foreign = join(elsewhere.dir, 'x.part');
  writeFileSync(foreign, 'from afar');
  const result = await storage.commit(foreign, LOC, 'keep');
  assert.equal(result.outcome, 'stored');
  assert.equal(readFileSync(result.path, 'utf8'), 'from afar');
  assert.equal(existsSync(foreign), false);
  assert.deepEqual(readdirSync(storage.tempDir()), []);
});

test('whileLocked runs inside the per-UID lock, in commit order', async (t) => {
  const { dir, cleanup } = tempRoot();
  t.after(cleanup);
  const storage = new FileStorage(dir);
  const log: string[] = [];
  await Promise.all(
    [0, 1, 2].map((i) =>
      storage.commit(temp(storage, `v${i}`), LOC, 'replace', {
        whileLocked: async (result) => {
          log.push(`start ${i} ${result.outcome}`);
          await new Promise((r) => setTimeout(r, 5));
          log.push(`end ${i} ${readFileSync(result.path, 'utf8')}`);
        },
      }),
    ),
  );
  assert.deepEqual(log, [
    'start 0 stored',
    'end 0 v0',
    'start 1 replaced',
    'end 1 v1',
    'start 2 replaced',
    'end 2 v2',
  ]);
});
