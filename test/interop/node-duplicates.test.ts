import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { SqliteIndex } from '../../src/node/index-db.js';
import { freePort, hasDcmtk, run } from '../helpers/dcmtk.js';
import { makeInstance, testUid } from '../helpers/samples.js';
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

/** The index row of one instance (read-only, serve stopped or running), and every row's file. */
function indexState(storage: string, sopInstanceUid: string) {
  const index = new SqliteIndex(storage, { readonly: true });
  try {
    const rows = [...index.allInstancesSync()].map((i) => resolve(i.path)).sort();
    assert.deepEqual(rows, treeFiles(storage), 'index rows and files must match');
    const row = index.getInstanceSync(sopInstanceUid);
    const name = index.db
      .prepare(
        'SELECT p.patient_id AS id, p.patient_name AS name FROM instance i JOIN series se ON se.pk = i.series_fk' +
          ' JOIN study st ON st.pk = se.study_fk JOIN patient p ON p.pk = st.patient_fk WHERE i.sop_uid = ?',
      )
      .get(sopInstanceUid) as { id: string; name: string } | undefined;
    return { row, patient: name, files: rows.length };
  } finally {
    index.close();
  }
}

/** Pending C-FIND responses findscu printed, with the value of one tag in each. */
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

describe(
  'duplicate SOP Instance UIDs cannot take over an instance; C-FIND results are bounded',
  { skip },
  () => {
    const work = mkdtempSync(join(tmpdir(), 'dicomnet-dup-'));
    const running: ServeProcess[] = [];
    after(async () => {
      for (const s of running) await s.stop();
    });

    async function serve(storage: string, config: Record<string, unknown> = {}) {
      const port = await freePort();
      const file = join(work, `config-${testUid()}.json`);
      // findscu queries over plain TCP: a configured peer (unknown peers may only echo and store)
      const peers = { FINDSCU: { allow: ['echo', 'find'] } };
      writeFileSync(
        file,
        JSON.stringify({ storage, host: '127.0.0.1', port, tlsPort: false, peers, ...config }),
      );
      const node = await startServe(['--config', file], { cwd: work, waitPort: port });
      running.push(node);
      return { node, port };
    }

    async function storescu(port: number, aet: string, files: string[]) {
      const r = await run(
        'storescu',
        ['-v', '-aet', aet, '-aec', 'DICOMNET', '127.0.0.1', String(port), ...files],
        {
          timeoutMs: 60_000,
        },
      );
      return r.stdout + r.stderr + `\nexit ${r.code}`;
    }

    async function studyOf(port: number, sopInstanceUid: string): Promise<string[]> {
      const r = await run('findscu', [
        '-S',
        '-aec',
        'DICOMNET',
        '-k',
        'QueryRetrieveLevel=IMAGE',
        '-k',
        `SOPInstanceUID=${sopInstanceUid}`,
        '-k',
        'StudyInstanceUID',
        '127.0.0.1',
        String(port),
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      return findscuValues(r.stdout + r.stderr, '(0020,000d)');
    }

    /** The same SOP Instance UID claimed by two studies of two patients. */
    function twins(name: string) {
      const sopInstanceUid = testUid();
      const first = makeInstance(join(work, 'src', name, 'first'), {
        sopInstanceUid,
        patientId: 'FIRST',
        patientName: 'First^Patient',
        pixelBytes: 2048,
      });
      const other = makeInstance(join(work, 'src', name, 'other'), {
        sopInstanceUid,
        patientId: 'OTHER',
        patientName: 'Other^Patient',
        pixelBytes: 2048,
      });
      return { sopInstanceUid, first, other };
    }

    test('keep (default): a second store claiming another study and patient is answered, the first stays, also after a restart', async () => {
      const storage = join(work, 'keep');
      const { sopInstanceUid, first, other } = twins('keep');
      let { node, port } = await serve(storage);
      assert.match(await storescu(port, 'MOD1', [first.path]), /exit 0/);
      const out = await storescu(port, 'MOD2', [other.path]);
      assert.match(out, /exit 0/);
      assert.doesNotMatch(out, /Status: [^S]/i);
      assert.deepEqual(await studyOf(port, sopInstanceUid), [first.studyInstanceUid]);
      // the same AE cannot take it over either under keep
      assert.match(await storescu(port, 'MOD1', [other.path]), /exit 0/);
      assert.deepEqual(await studyOf(port, sopInstanceUid), [first.studyInstanceUid]);
      assert.ok(
        node
          .logLines()
          .some((l) => String(l.msg).includes('duplicate SOP Instance UID: the first instance is kept')),
      );
      await node.stop();
      let state = indexState(storage, sopInstanceUid);
      assert.equal(state.row?.studyInstanceUid, first.studyInstanceUid);
      assert.deepEqual(state.patient, { id: 'FIRST', name: 'First^Patient' });
      assert.equal(state.files, 1);
      assert.ok(!existsSync(join(storage, other.studyInstanceUid)), 'no file placed for the newcomer');
      ({ node, port } = await serve(storage));
      assert.deepEqual(await studyOf(port, sopInstanceUid), [first.studyInstanceUid]);
      await node.stop();
      state = indexState(storage, sopInstanceUid);
      assert.equal(state.row?.studyInstanceUid, first.studyInstanceUid);
    });

    test('replace: only the AE that sent the original replaces it (audited as an update); another AE is kept out', async () => {
      const storage = join(work, 'replace');
      const { sopInstanceUid, first, other } = twins('replace');
      const { node, port } = await serve(storage, { duplicates: 'replace' });
      assert.match(await storescu(port, 'MOD1', [first.path]), /exit 0/);
      assert.match(await storescu(port, 'MOD2', [other.path]), /exit 0/);
      assert.deepEqual(await studyOf(port, sopInstanceUid), [first.studyInstanceUid]);
      assert.match(await storescu(port, 'MOD1', [other.path]), /exit 0/);
      assert.deepEqual(await studyOf(port, sopInstanceUid), [other.studyInstanceUid]);
      await node.stop();
      const state = indexState(storage, sopInstanceUid);
      assert.equal(state.row?.studyInstanceUid, other.studyInstanceUid);
      assert.deepEqual(state.patient, { id: 'OTHER', name: 'Other^Patient' });
      assert.equal(state.files, 1, 'the replaced file is gone');
      const records = readFileSync(join(storage, 'audit.log'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('"Instances Transferred"') || l.includes('110104'));
      const actions = records.map((l) => /"eventActionCode":"(\w)"/.exec(l)?.[1]);
      assert.deepEqual(actions.sort(), ['C', 'U'], records.join('\n'));
      // restart: the consistency check keeps the replacement
      const again = await serve(storage, { duplicates: 'replace' });
      assert.deepEqual(await studyOf(again.port, sopInstanceUid), [other.studyInstanceUid]);
      await again.node.stop();
    });

    test('reject: the duplicate is answered 0x0111 and nothing changes', async () => {
      const storage = join(work, 'reject');
      const { sopInstanceUid, first, other } = twins('reject');
      const { node, port } = await serve(storage, { duplicates: 'reject' });
      assert.match(await storescu(port, 'MOD1', [first.path]), /exit 0/);
      const out = await storescu(port, 'MOD1', [other.path]);
      assert.match(out, /Store Response \([^)]*0x0?111\)/, out);
      assert.deepEqual(await studyOf(port, sopInstanceUid), [first.studyInstanceUid]);
      await node.stop();
      assert.equal(indexState(storage, sopInstanceUid).files, 1);
    });

    test('concurrent stores of one SOP Instance UID from several AEs leave exactly one instance', async () => {
      const storage = join(work, 'concurrent');
      const sopInstanceUid = testUid();
      const claims = Array.from({ length: 6 }, (_, i) =>
        makeInstance(join(work, 'concurrent-src', String(i)), {
          sopInstanceUid,
          patientId: `P${i}`,
          pixelBytes: 2048,
        }),
      );
      const { node, port } = await serve(storage, { duplicates: 'replace' });
      const outs = await Promise.all(claims.map((c, i) => storescu(port, `MOD${i % 2}`, [c.path])));
      for (const o of outs) assert.match(o, /exit 0/);
      const studies = await studyOf(port, sopInstanceUid);
      assert.equal(studies.length, 1);
      await node.stop();
      const state = indexState(storage, sopInstanceUid);
      assert.equal(state.files, 1);
      assert.equal(state.row?.studyInstanceUid, studies[0]);
    });

    test('limits.maxQueryResults ends a longer C-FIND with 0xA700 after that many pending responses', async () => {
      const storage = join(work, 'bounded');
      const series = { studyInstanceUid: testUid(), seriesInstanceUid: testUid(), pixelBytes: 1024 };
      const files = Array.from(
        { length: 5 },
        (_, i) => makeInstance(join(work, 'bounded-src'), { ...series, instanceNumber: i + 1 }).path,
      );
      const { node, port } = await serve(storage, { limits: { maxQueryResults: 3 } });
      assert.match(await storescu(port, 'MOD1', files), /exit 0/);
      const r = await run('findscu', [
        '-d',
        '-S',
        '-aec',
        'DICOMNET',
        '-k',
        'QueryRetrieveLevel=IMAGE',
        '-k',
        'SOPInstanceUID',
        '127.0.0.1',
        String(port),
      ]);
      const out = r.stdout + r.stderr;
      assert.equal(out.match(/Status\s*: 0xff00: Pending/g)?.length, 3, out);
      assert.match(out, /Status\s*: 0xa700/i, out);
      assert.match(out, /ErrorComment/, out);
      assert.match(out, /more than 3 matches \(limits\.maxQueryResults\)/, out);
      // the bound is per query: a narrower one answers in full
      const narrow = await run('findscu', [
        '-S',
        '-aec',
        'DICOMNET',
        '-k',
        'QueryRetrieveLevel=SERIES',
        '-k',
        `StudyInstanceUID=${series.studyInstanceUid}`,
        '-k',
        'SeriesInstanceUID',
        '127.0.0.1',
        String(port),
      ]);
      assert.equal(findscuValues(narrow.stdout + narrow.stderr, '(0020,000e)').length, 1);
      await node.stop();
    });
  },
);
