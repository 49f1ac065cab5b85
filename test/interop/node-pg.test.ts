import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, hasDcmtk, run } from '../helpers/dcmtk.js';
import { postgresSkip, startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { makeStudy, testUid } from '../helpers/samples.js';
import { type ServeProcess, startServe } from './node-helpers.js';

const skip = hasDcmtk() ? postgresSkip() : 'DCMTK is not installed';

/** The value of one tag in each pending C-FIND response findscu printed. */
function findscuValues(output: string, tag: string): string[] {
  return output
    .split(/Find Response: \d+ \(Pending\)/)
    .slice(1)
    .map(
      (b) =>
        b
          .split('\n')
          .find((l) => l.includes(tag))
          ?.match(/\[([^\]]*)\]/)?.[1]
          ?.trim() ?? '',
    );
}

describe('dicomnet serve --index postgres://… with DCMTK peers', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-node-pg-'));
  let pg: TestPostgres;
  const running: ServeProcess[] = [];
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    for (const s of running) await s.stop();
    await pg?.stop();
  });

  async function serve(storage: string, url: string) {
    const port = await freePort();
    // the DCMTK tools query and retrieve over plain TCP: they must be configured peers
    const config = join(work, 'node.json');
    const peers = { FINDSCU: { allow: ['echo', 'find'] }, GETSCU: { allow: ['echo', 'get'] } };
    writeFileSync(config, JSON.stringify({ peers }));
    const node = await startServe(
      [
        ...['--storage', storage, '--index', url, '--host', '127.0.0.1', '--port', String(port)],
        ...['--tls-port', 'off', '--config', config],
      ],
      { cwd: work, waitPort: port },
    );
    running.push(node);
    return { node, port };
  }

  const findStudies = async (port: number) => {
    const r = await run('findscu', [
      '-S',
      '-aec',
      'DICOMNET',
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      'StudyInstanceUID',
      '-k',
      'NumberOfStudyRelatedInstances',
      '127.0.0.1',
      String(port),
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return findscuValues(r.stdout + r.stderr, '(0020,1208)');
  };

  test('storescu stores, findscu finds, getscu retrieves; a restart keeps everything', async () => {
    const url = await pg.createDatabase();
    const storage = join(work, 'storage');
    const study = makeStudy(join(work, 'study'), 5, { pixelBytes: 2048 });
    let { node, port } = await serve(storage, url);
    assert.ok(node.stdout().includes('dicomnet serve'));
    const stored = await run('storescu', [
      '-aec',
      'DICOMNET',
      '127.0.0.1',
      String(port),
      ...study.map((s) => s.path),
    ]);
    assert.equal(stored.code, 0, stored.stdout + stored.stderr);
    assert.deepEqual(await findStudies(port), ['5']);
    const out = join(work, 'get-out');
    mkdirSync(out, { recursive: true });
    const got = await run('getscu', [
      '-S',
      '-aec',
      'DICOMNET',
      '-od',
      out,
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${study[0]?.studyInstanceUid}`,
      '127.0.0.1',
      String(port),
    ]);
    assert.equal(got.code, 0, got.stdout + got.stderr);
    assert.equal(readdirSync(out).length, 5);
    await node.stop();
    ({ node, port } = await serve(storage, url));
    assert.deepEqual(await findStudies(port), ['5']);
    await node.stop();
  });

  test('PostgreSQL down: C-STORE answers a failure with an Error Comment and the node lives on; then it stores again', async () => {
    const url = await pg.createDatabase();
    const storage = join(work, 'storage-down');
    const [one, two] = makeStudy(join(work, 'down'), 2, { pixelBytes: 2048, studyInstanceUid: testUid() });
    const { node, port } = await serve(storage, url);
    pg.pause();
    let r;
    try {
      r = await run('storescu', ['-d', '-aec', 'DICOMNET', '127.0.0.1', String(port), one!.path], {
        timeoutMs: 60_000,
      });
    } finally {
      pg.start();
    }
    const out = r.stdout + r.stderr;
    assert.match(out, /DIMSE Status\s*: 0xa700/i, out);
    assert.match(out, /ErrorComment/, out);
    assert.ok(node.child.exitCode === null, 'the node is still running');
    assert.ok(node.stderr().includes('PostgreSQL'), 'the log names the index');
    const again = await run('storescu', ['-aec', 'DICOMNET', '127.0.0.1', String(port), two!.path]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual(await findStudies(port), ['1']);
    await node.stop();
  });
});
