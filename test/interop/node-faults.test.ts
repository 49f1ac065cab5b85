import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { SqliteIndex } from '../../src/node/index-db.js';
import { dcmtkEnv, freePort, hasDcmtk, run } from '../helpers/dcmtk.js';
import { makeInstance, makeStudy } from '../helpers/samples.js';
import { type ServeProcess, startServe } from './node-helpers.js';

const skip = hasDcmtk() ? false : 'DCMTK is not installed';

/** Instance files in a storage tree (the temp directory excluded). */
function treeFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (depth === 0 && e.name === '.incoming') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.name.endsWith('.dcm')) out.push(resolve(p));
    }
  };
  walk(root, 0);
  return out.sort();
}

/** Index rows and files agree: no row without a file, no file without a row. */
function assertConsistent(storage: string): number {
  const index = new SqliteIndex(storage, { readonly: true });
  try {
    const rows = [...index.allInstancesSync()].map((i) => resolve(i.path)).sort();
    assert.deepEqual(rows, treeFiles(storage), 'index rows and files must match');
    return rows.length;
  } finally {
    index.close();
  }
}

describe('dicomnet serve faults: kill -9 during a large C-STORE, full disk', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-node-faults-'));
  const running: ServeProcess[] = [];
  let mounted: string | undefined;

  after(async () => {
    for (const s of running) await s.kill9();
    if (mounted) spawnSync('umount', ['-l', mounted]);
  });

  async function serve(storage: string): Promise<{ node: ServeProcess; port: number }> {
    const port = await freePort();
    // findscu queries over plain TCP: it must be a configured peer
    const config = join(work, 'node.json');
    writeFileSync(config, JSON.stringify({ peers: { FINDSCU: { allow: ['echo', 'find'] } } }));
    const node = await startServe(
      [
        ...['--storage', storage, '--host', '127.0.0.1', '--port', String(port), '--tls-port', 'off'],
        ...['--config', config],
      ],
      { cwd: work, waitPort: port },
    );
    running.push(node);
    return { node, port };
  }

  test('kill -9 during a large C-STORE, restart: no partial file, index and files agree', async () => {
    const storage = join(work, 'storage-kill');
    const small = makeStudy(join(work, 'small'), 3, { pixelBytes: 1024 });
    const big = makeInstance(join(work, 'big'), { pixelBytes: 96 * 1024 * 1024 });
    const first = await serve(storage);
    const r = await run('storescu', [
      '-aec',
      'DICOMNET',
      '127.0.0.1',
      String(first.port),
      ...small.map((s) => s.path),
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);

    const sender = spawn('storescu', ['-aec', 'DICOMNET', '127.0.0.1', String(first.port), big.path], {
      env: dcmtkEnv(),
      stdio: 'ignore',
    });
    const senderDone = new Promise<void>((res) => sender.once('exit', () => res()));
    const incoming = join(storage, '.incoming');
    const deadline = Date.now() + 30_000;
    let partial = false;
    while (!partial && Date.now() < deadline) {
      partial =
        existsSync(incoming) && readdirSync(incoming).some((f) => statSync(join(incoming, f)).size > 4 << 20);
      if (!partial) await new Promise((res) => setTimeout(res, 5));
    }
    assert.ok(partial, 'the large instance was being received');
    await first.node.kill9();
    await senderDone;
    assert.ok(readdirSync(incoming).length > 0, 'the interrupted reception left a temp file behind');

    const second = await serve(storage);
    assert.deepEqual(readdirSync(incoming), [], 'the consistency check on start removed the temp file');
    const repaired = second.node
      .logLines()
      .find((l) => l.msg === 'storage consistency check repaired or found problems');
    assert.ok(repaired && (repaired.tempFilesRemoved as number) >= 1, second.node.stderr());
    assert.equal(existsSync(join(storage, big.studyInstanceUid)), false, 'no partial instance in the tree');
    assert.equal(await second.node.stop('SIGTERM'), 0);
    assert.equal(assertConsistent(storage), 3);
  });

  test('a full disk answers C-STORE 0xA700 and the node keeps serving', async (t) => {
    const dir = join(work, 'full');
    mkdirSync(dir);
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { encoding: 'utf8' });
    if (m.status !== 0) {
      t.skip(`cannot mount a 2 MB tmpfs to fill (${(m.stderr || m.error?.message || '').trim()})`);
      return;
    }
    mounted = dir;
    const storage = join(dir, 'storage');
    const { node, port } = await serve(storage);
    const files = makeStudy(join(work, 'fill'), 12, { pixelBytes: 200 * 1024 });
    let refused = '';
    let storedCount = 0;
    for (const f of files) {
      const r = await run('storescu', ['-v', '-aec', 'DICOMNET', '127.0.0.1', String(port), f.path]);
      const out = r.stdout + r.stderr;
      if (/0xa700|Out ?of ?Resources/i.test(out)) {
        refused = out;
        break;
      }
      assert.equal(r.code, 0, out);
      storedCount++;
    }
    assert.ok(refused, 'a C-STORE was refused with 0xA700 once the disk was full');
    assert.ok(storedCount >= 1, 'instances were stored before the disk filled up');
    const echo = await run('echoscu', ['-aec', 'DICOMNET', '127.0.0.1', String(port)]);
    assert.equal(echo.code, 0, `the node keeps serving: ${echo.stdout}${echo.stderr}`);
    const find = await run('findscu', [
      '-S',
      '-aec',
      'DICOMNET',
      '-k',
      'QueryRetrieveLevel=IMAGE',
      '-k',
      `StudyInstanceUID=${files[0]?.studyInstanceUid}`,
      '-k',
      'SOPInstanceUID',
      '127.0.0.1',
      String(port),
    ]);
    assert.equal((find.stdout + find.stderr).match(/\(Pending\)/g)?.length ?? 0, storedCount);
    assert.deepEqual(readdirSync(join(storage, '.incoming')), [], 'the refused instance left no temp file');
    assert.equal(await node.stop('SIGTERM'), 0);
    assert.equal(assertConsistent(storage), storedCount);
  });
});
