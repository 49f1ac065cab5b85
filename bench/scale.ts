// Every core (issue 20): 16 concurrent mutual-TLS associations (16 storescu +tls processes,
// started together) × 40 instances of 130 KB (smoke: 2 × 4) into
//   - `dicomnet serve --workers 2` (every instance fsynced, renamed into place and indexed
//     in the shared SQLite index before its C-STORE response),
//   - `dicomnet serve --workers 1` (the same, one process),
//   - DCMTK `storescp --fork +tls` (a process per association; writes files, no fsync, no index).
// Not a test: prints instances/s and the ratios (target on a 2-core machine, where the 16
// clients share the cores with the server: workers 2 ≥ 1.4× workers 1). Each row is the best of
// REPEAT runs (default 3), each into a fresh storage directory. BENCH_SCALE_SENDERS and
// BENCH_SCALE_COUNT override the sizes.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestPki } from '../test/helpers/pki.js';
import { makeStudy } from '../test/helpers/samples.js';
import {
  benchWorkDir,
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

const work = benchWorkDir('scale');
const SENDERS = Number(process.env.BENCH_SCALE_SENDERS ?? (SMOKE ? 2 : 16));
const PER_SENDER = Number(process.env.BENCH_SCALE_COUNT ?? (SMOKE ? 4 : 40));

async function main(): Promise<void> {
  console.log(
    `${SENDERS} concurrent storescu +tls (mutual authentication) × ${PER_SENDER} instances of 130 KB; work dir ${work}`,
  );
  const pkiDir = join(work, 'pki');
  mkdirSync(pkiDir);
  const pki = await makeTestPki(pkiDir);
  const sets = Array.from({ length: SENDERS }, (_, i) =>
    makeStudy(join(work, `src${i}`), PER_SENDER, { pixelBytes: 131072 }).map((f) => f.path),
  );
  const total = SENDERS * PER_SENDER;
  const tlsClient = ['+tls', pki.client.key, pki.client.cert, '+cf', pki.caCert];
  let run = 0;
  const fresh = (name: string) => {
    const dir = join(work, `${name}-${run++}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const send = async (port: number, aet: string[]) => {
    const started = performance.now();
    await Promise.all(
      sets.map((files) => runTool('storescu', [...tlsClient, ...aet, '127.0.0.1', String(port), ...files])),
    );
    return { ms: performance.now() - started };
  };

  const serve = (workers: number) =>
    bestOf(async () => {
      const storage = fresh(`serve-w${workers}`);
      const { freePort } = await import('../test/helpers/dcmtk.js');
      const port = await freePort();
      const node = await startChild(
        process.execPath,
        [
          ...nodeFlags(),
          cliEntry,
          'serve',
          '--workers',
          String(workers),
          '--storage',
          storage,
          '--host',
          '127.0.0.1',
          '--port',
          'off',
          '--tls-port',
          String(port),
          '--key',
          pki.server.key,
          '--cert',
          pki.server.cert,
          '--ca',
          pki.caCert,
          '--require-peer-cert',
          '--log-level',
          'warn',
        ],
        /DICOM over TLS on /,
      );
      try {
        return await send(port, ['-aec', 'DICOMNET']);
      } finally {
        await node.stop();
        rmSync(storage, { recursive: true, force: true });
      }
    });

  const two = await serve(2);
  const one = await serve(1);
  const storescp = await bestOf(async () => {
    const out = fresh('storescp');
    const scp = await startDcmtk('storescp', [
      '--fork',
      '+tls',
      pki.server.key,
      pki.server.cert,
      '+cf',
      pki.caCert,
      '-od',
      out,
    ]);
    try {
      return await send(scp.port, []);
    } finally {
      await scp.stop();
      rmSync(out, { recursive: true, force: true });
    }
  });

  const rate = (ms: number) => perSecond(total, ms);
  printTable([
    ['receiver', 'instances/s', 'vs workers 1', 'vs storescp --fork'],
    [
      'dicomnet serve --workers 2',
      rate(two.ms).toFixed(0),
      ratio(rate(two.ms), rate(one.ms)),
      ratio(rate(two.ms), rate(storescp.ms)),
    ],
    ['dicomnet serve --workers 1', rate(one.ms).toFixed(0), '1.00x', ratio(rate(one.ms), rate(storescp.ms))],
    [
      'storescp --fork +tls (no fsync, no index)',
      rate(storescp.ms).toFixed(0),
      ratio(rate(storescp.ms), rate(one.ms)),
      '1.00x',
    ],
  ]);
  rmSync(work, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
