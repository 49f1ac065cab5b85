// The secure node against DCMTK: N instances (1000; smoke 50) of 130 KB sent by DCMTK
// `storescu` on one association into
//   - `dicomnet serve` over TLS (mutual authentication), every instance fsynced, renamed
//     into place and indexed in SQLite before its C-STORE response,
//   - DCMTK `storescp +tls` (same credentials; writes files, no fsync, no index),
//   - DCMTK `dcmqrscp` (plain TCP: Debian's build has no TLS in dcmqrscp; indexes into its
//     own index.dat, no fsync).
// Not a test: prints instances/s and the ratio against storescp +tls. Each row is the best
// of REPEAT runs (default 3), each run into a fresh storage directory.
// BENCH_NODE_PARALLEL=N splits the files over N storescu processes started together (the
// node's group commit shares fsyncs between them); BENCH_NODE_ROWS=tls skips the plain
// serve and dcmqrscp rows.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestPki } from '../test/helpers/pki.js';
import { makeStudy } from '../test/helpers/samples.js';
import {
  bestOf,
  cliEntry,
  nodeFlags,
  perSecond,
  printTable,
  ratio,
  runTool,
  SMOKE,
  startChild,
  startDcmtk,
} from './_util.js';

const work = mkdtempSync(join(tmpdir(), 'dicomnet-bench-serve-'));
const COUNT = SMOKE ? 50 : Number(process.env.BENCH_NODE_COUNT ?? 1000);
const PIXEL_BYTES = 131072;
const PARALLEL = Math.max(1, Number(process.env.BENCH_NODE_PARALLEL ?? 1));
const ALL_ROWS = process.env.BENCH_NODE_ROWS !== 'tls';

/** Run storescu over `files`, split across {@link PARALLEL} processes; wall time of them all. */
async function storescu(args: string[], files: string[]): Promise<{ ms: number }> {
  const parts: string[][] = Array.from({ length: PARALLEL }, () => []);
  files.forEach((f, i) => parts[i % PARALLEL]?.push(f));
  const started = performance.now();
  await Promise.all(parts.map((part) => runTool('storescu', [...args, ...part])));
  return { ms: performance.now() - started };
}

async function main(): Promise<void> {
  console.log(
    `${COUNT} × 130 KB instances from ${PARALLEL} storescu process(es), one association each; work dir ${work}`,
  );
  const pkiDir = join(work, 'pki');
  mkdirSync(pkiDir);
  const pki = await makeTestPki(pkiDir);
  const files = makeStudy(join(work, 'src'), COUNT, { pixelBytes: PIXEL_BYTES }).map((f) => f.path);
  const tlsClient = ['+tls', pki.client.key, pki.client.cert, '+cf', pki.caCert];
  let run = 0;
  const fresh = (name: string) => {
    const dir = join(work, `${name}-${run++}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  };

  // dicomnet serve (indexed, fsynced), restarted per run on a fresh storage; TLS or plain
  const serveRun = (tls: boolean) =>
    bestOf(async () => {
      const storage = fresh('serve');
      const { freePort } = await import('../test/helpers/dcmtk.js');
      const port = await freePort();
      const listen = tls
        ? ['--port', 'off', '--tls-port', String(port), '--key', pki.server.key, '--cert', pki.server.cert]
        : ['--port', String(port), '--tls-port', 'off'];
      const node = await startChild(
        process.execPath,
        [
          ...nodeFlags(),
          cliEntry,
          'serve',
          '--storage',
          storage,
          '--host',
          '127.0.0.1',
          ...listen,
          '--ca',
          pki.caCert,
          '--require-peer-cert',
          '--log-level',
          'warn',
        ],
        tls ? /DICOM over TLS on / : /plain DICOM on /,
      );
      try {
        return await storescu(
          [...(tls ? tlsClient : []), '-aec', 'DICOMNET', '127.0.0.1', String(port)],
          files,
        );
      } finally {
        await node.stop();
        rmSync(storage, { recursive: true, force: true });
      }
    });
  const serve = await serveRun(true);
  const servePlain = ALL_ROWS ? await serveRun(false) : undefined;

  // storescp +tls: files only
  const storescp = await bestOf(async () => {
    const out = fresh('storescp');
    const scp = await startDcmtk('storescp', [
      '+tls',
      pki.server.key,
      pki.server.cert,
      '+cf',
      pki.caCert,
      '-od',
      out,
    ]);
    try {
      return await storescu([...tlsClient, '127.0.0.1', String(scp.port)], files);
    } finally {
      await scp.stop();
      rmSync(out, { recursive: true, force: true });
    }
  });

  // dcmqrscp: plain TCP, its own index
  const dcmqrscp = !ALL_ROWS
    ? undefined
    : await bestOf(async () => {
        const db = fresh('dcmqrscp');
        const cfg = join(db, 'dcmqrscp.cfg');
        const { freePort, startDcmtkServer } = await import('../test/helpers/dcmtk.js');
        const port = await freePort();
        writeFileSync(
          cfg,
          [
            `NetworkTCPPort = ${port}`,
            'MaxPDUSize = 16384',
            'MaxAssociations = 16',
            'HostTable BEGIN',
            'HostTable END',
            'VendorTable BEGIN',
            'VendorTable END',
            'AETable BEGIN',
            `QRSCP ${db} RW (10, 4096mb) ANY`,
            'AETable END',
            '',
          ].join('\n'),
        );
        const qr = await startDcmtkServer('dcmqrscp', ['-c', cfg], { port, readyCheck: 'port' });
        try {
          return await storescu(['-aec', 'QRSCP', '127.0.0.1', String(port)], files);
        } finally {
          await qr.stop();
          rmSync(db, { recursive: true, force: true });
        }
      });

  const base = perSecond(COUNT, storescp.ms);
  const rows: (string | number)[][] = [['storescu → …', 'instances/s', 'vs storescp +tls']];
  const row = (name: string, ms: number) => {
    const v = perSecond(COUNT, ms);
    rows.push([name, v.toFixed(0), ratio(v, base)]);
  };
  row('dicomnet serve (TLS, fsync, SQLite index)', serve.ms);
  if (servePlain) row('dicomnet serve (plain TCP, fsync, SQLite index)', servePlain.ms);
  row('storescp +tls (files only)', storescp.ms);
  if (dcmqrscp) row('dcmqrscp (plain TCP, index.dat)', dcmqrscp.ms);
  printTable(rows);
}

main()
  .then(() => rmSync(work, { recursive: true, force: true }))
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
