/**
 * `dicomnet serve --workers 2` (issue 20 item 1): worker processes share the port, the
 * storage directory and the index; the association cap holds for the node as a whole; a
 * killed worker leaves no half instance and is restarted. Peers are DCMTK tools.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { verifyAuditChain } from '../../src/audit/chain.js';
import { AssociationRejectedError } from '../../src/network/errors.js';
import { type Association, connect } from '../../src/services/client.js';
import { freePort, hasDcmtk, run } from '../helpers/dcmtk.js';
import { makeInstance, makeStudy } from '../helpers/samples.js';
import { type ServeProcess, startServe } from '../interop/node-helpers.js';

const skip = hasDcmtk() ? false : 'DCMTK is not installed';
const ECHO = [{ abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] }];

async function startWorkers(
  dir: string,
  extra: Record<string, unknown> = {},
): Promise<{ serve: ServeProcess; port: number; storage: string }> {
  const port = await freePort();
  const storage = join(dir, 'storage');
  const config = join(dir, 'serve.json');
  writeFileSync(
    config,
    JSON.stringify({
      aet: 'DICOMNET',
      port,
      tlsPort: null,
      storage,
      workers: 2,
      // the DCMTK tools come unauthenticated: they may store and query
      access: { unknownPeers: ['echo', 'store', 'find'] },
      log: { level: 'info' },
      ...extra,
    }),
  );
  const serve = await startServe(['--config', config], { cwd: dir, waitPort: port, timeoutMs: 60_000 });
  return { serve, port, storage };
}

/** Index rows: [SOP Instance UID, file path]. */
function indexed(storage: string): { uid: string; path: string }[] {
  const db = new BetterSqlite3(join(storage, 'index.db'), { readonly: true });
  try {
    return db.prepare('SELECT sop_uid AS uid, path FROM instance').all() as { uid: string; path: string }[];
  } finally {
    db.close();
  }
}

/** Instance files under the storage tree, the temp directory excluded. */
function storedFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...storedFiles(p));
    else if (e.name.endsWith('.dcm')) out.push(p);
  }
  return out;
}

function workerPidsOf(serve: ServeProcess): number[] {
  return serve
    .logLines()
    .filter((l) => l.msg === 'worker started')
    .map((l) => Number(l.pid));
}

function findImages(port: number): Promise<string[]> {
  return run(
    'findscu',
    [
      '-S',
      '-aec',
      'DICOMNET',
      '-k',
      'QueryRetrieveLevel=IMAGE',
      '-k',
      'SOPInstanceUID',
      '127.0.0.1',
      String(port),
    ],
    {
      timeoutMs: 60_000,
    },
  ).then((r) => {
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return (r.stdout + r.stderr)
      .split(/Find Response: \d+ \(Pending\)/)
      .slice(1)
      .map(
        (b) =>
          b
            .split('\n')
            .find((l) => l.includes('(0008,0018)'))
            ?.match(/\[([^\]]*)\]/)?.[1]
            ?.trim() ?? '',
      );
  });
}

describe('serve --workers 2', { skip }, () => {
  test('several storescu at once: every instance indexed once, C-FIND sees all, both workers serve, audit once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomnet-workers-'));
    const { serve, port, storage } = await startWorkers(dir);
    try {
      const senders = 4;
      const studies = Array.from({ length: senders }, (_, i) =>
        makeStudy(join(dir, `in${i}`), 10, { patientId: `W${i}`, pixelBytes: 8192 }),
      );
      const results = await Promise.all(
        studies.map((_, i) =>
          run(
            'storescu',
            ['-aec', 'DICOMNET', '--scan-directories', '127.0.0.1', String(port), join(dir, `in${i}`)],
            {
              timeoutMs: 120_000,
            },
          ),
        ),
      );
      for (const r of results)
        assert.equal(
          r.code,
          0,
          `storescu exit ${r.code}: ${r.stdout}${r.stderr
            .split('\n')
            .filter((l) => !/Sending|Converting|Received Store|XMIT/.test(l))
            .join('\n')}\n${serve
            .stderr()
            .split('\n')
            .filter((l) => /ended|abort|error|warn|released/i.test(l))
            .join('\n')}`,
        );
      const sent = studies.flat().map((s) => s.sopInstanceUid);
      const rows = indexed(storage);
      assert.equal(rows.length, sent.length, 'one row per instance');
      assert.deepEqual(rows.map((r) => r.uid).sort(), [...sent].sort());
      assert.equal(storedFiles(storage).length, sent.length, 'one file per instance');
      assert.deepEqual((await findImages(port)).sort(), [...sent].sort());
      const pids = workerPidsOf(serve);
      assert.equal(new Set(pids).size, 2, 'two workers');
      const served = new Set(
        serve
          .logLines()
          .filter((l) => l.msg === 'association ended')
          .map((l) => Number(l.pid)),
      );
      assert.equal(served.size, 2, `both workers served associations (${[...served].join(', ')})`);
      assert.equal(await serve.stop('SIGTERM', 30_000), 0);
      // every worker drained and exited with the primary
      for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} gone`);
      const audit = readFileSync(join(storage, 'audit.log'), 'utf8')
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as { eventId: { displayName: string }; eventTypeCode?: { displayName: string } },
        );
      const count = (name: string) => audit.filter((a) => a.eventId.displayName === name).length;
      assert.equal(count('Application Activity'), 2, 'one start and one stop for the node');
      // 4 storescu + 1 findscu associations, each audited once as it began, whichever worker had it
      const logins = audit.filter(
        (a) => a.eventId.displayName === 'User Authentication' && a.eventTypeCode?.displayName === 'Login',
      );
      assert.equal(logins.length, senders + 1, 'one Login record per association');
      const transferred = audit.filter((a) => a.eventId.displayName === 'DICOM Instances Transferred');
      assert.equal(transferred.length, senders, 'one Instances Transferred record per storescu association');
      // the primary is the one writer: the records of every worker form one hash chain
      const chain = await verifyAuditChain([join(storage, 'audit.log')]);
      assert.ok(chain.ok, chain.ok ? '' : chain.message);
      assert.equal(chain.records, audit.length);
    } finally {
      await serve.stop('SIGKILL');
    }
  });

  test('the association cap holds for the node, not per worker; an idle one is evicted across workers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomnet-workers-cap-'));
    const { serve, port } = await startWorkers(dir, {
      limits: { maxAssociations: 3, maxAssociationsPerAddress: 10, idleEvictSeconds: 2 },
    });
    const held: Association[] = [];
    try {
      for (let i = 0; i < 3; i++)
        held.push(await connect({ host: '127.0.0.1', port, calledAet: 'DICOMNET', contexts: ECHO }));
      const fourth = await connect({ host: '127.0.0.1', port, calledAet: 'DICOMNET', contexts: ECHO }).then(
        (a) => a,
        (e: unknown) => e,
      );
      assert.ok(
        fourth instanceof AssociationRejectedError && fourth.reason === 2,
        `rejected: ${String(fourth)}`,
      );
      const echo = await run('echoscu', ['-aec', 'DICOMNET', '127.0.0.1', String(port)]);
      assert.notEqual(echo.code, 0, 'echoscu rejected too while the three are fresh');
      await held[0]?.echo();
      await new Promise((r) => setTimeout(r, 3000));
      const ok = await run('echoscu', ['-aec', 'DICOMNET', '127.0.0.1', String(port)]);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      // the A-ABORT went out before echoscu's association was accepted
      await new Promise((r) => setTimeout(r, 500));
      const echoes = await Promise.allSettled(held.map((a) => a.echo()));
      assert.equal(
        echoes.filter((e) => e.status === 'rejected').length,
        1,
        'exactly one idle association aborted',
      );
      assert.ok(
        serve.logLines().some((l) => /aborted \(A-ABORT\): idle for/.test(String(l.msg))),
        'logged',
      );
    } finally {
      for (const a of held) a.abort();
      await serve.stop('SIGTERM', 30_000);
    }
  });

  test('a worker killed mid-transfer: no half instance, the worker is restarted and serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomnet-workers-kill-'));
    const { serve, port, storage } = await startWorkers(dir);
    try {
      const big = Array.from({ length: 6 }, (_, i) =>
        makeInstance(join(dir, 'big'), {
          patientId: 'BIG',
          instanceNumber: i + 1,
          pixelBytes: 24 * 1024 * 1024,
        }),
      );
      const sending = run(
        'storescu',
        ['-aec', 'DICOMNET', '--scan-directories', '127.0.0.1', String(port), join(dir, 'big')],
        {
          timeoutMs: 180_000,
        },
      );
      const incoming = join(storage, '.incoming');
      // wait for a worker's temp file: that worker is receiving an instance right now
      let victim: number | undefined;
      const deadline = Date.now() + 60_000;
      while (victim === undefined && Date.now() < deadline) {
        for (const d of existsSync(incoming) ? readdirSync(incoming) : []) {
          const m = /^worker-(\d+)$/.exec(d);
          if (
            m &&
            readdirSync(join(incoming, d)).some((f) => statSync(join(incoming, d, f)).size > 1024 * 1024)
          )
            victim = Number(m[1]);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(victim !== undefined, 'a worker was receiving');
      process.kill(victim, 'SIGKILL');
      await sending; // fails or not: the association it was on is gone
      const restartBy = Date.now() + 60_000;
      while (workerPidsOf(serve).length < 3 && Date.now() < restartBy)
        await new Promise((r) => setTimeout(r, 100));
      assert.equal(workerPidsOf(serve).length, 3, 'a third worker started in its place');
      assert.ok(!existsSync(join(incoming, `worker-${victim}`)), 'its temp files removed');
      // every stored file is indexed and whole; the killed transfer left nothing
      const rows = indexed(storage);
      const files = storedFiles(storage);
      assert.deepEqual(files.sort(), rows.map((r) => r.path).sort());
      const sizes = new Map(big.map((b) => [b.sopInstanceUid, statSync(b.path).size]));
      for (const r of rows) assert.equal(statSync(r.path).size, sizes.get(r.uid), `${r.uid} whole`);
      // the node serves on: everything goes in now
      const again = await run(
        'storescu',
        ['-aec', 'DICOMNET', '--scan-directories', '127.0.0.1', String(port), join(dir, 'big')],
        {
          timeoutMs: 180_000,
        },
      );
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.equal(indexed(storage).length, big.length);
      assert.equal((await findImages(port)).length, big.length);
    } finally {
      await serve.stop('SIGTERM', 30_000);
    }
  });
});
