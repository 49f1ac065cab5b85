// TLS benchmarks on loopback: dicomnet side by side with DCMTK 3.6.7 (+tls), and the ceiling —
// a plain Node TLS socket pushing the same bytes with the same protocol and cipher suite.
//   1. N × 130 KB instances on one association (instances/s), and with an async window of 8
//   2. one large instance (1 GiB; smoke 32 MiB): MB/s against the raw TLS socket, peak RSS
//   3. sequential associations (C-ECHO each): with and without TLS session resumption
// The 130 KB rows run in REPEAT rounds (default 3) with the DCMTK baseline (median rate, median
// per-round ratio); the association rows are the best of REPEAT runs; the large rows run once.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestPki } from '../test/helpers/pki.js';
import { makeInstance, makeStudy } from '../test/helpers/samples.js';
import {
  benchWorkDir,
  bestOf,
  DCMTK_MAX_PDU,
  emptyDirs,
  perSecond,
  printTable,
  ratio,
  runBenchClient,
  runTool,
  smallStoreRows,
  SMOKE,
  startBenchServer,
  startDcmtk,
  storeRunners,
} from './_util.js';

const work = benchWorkDir('tls');
const SMALL_COUNT = SMOKE ? 40 : 1000;
const LARGE_BYTES = SMOKE ? 32 * 1024 * 1024 : 1024 * 1024 * 1024;
const ECHO_COUNT = SMOKE ? 20 : 300;

type Row = (string | number)[];

async function main(): Promise<void> {
  console.log(
    `TLS: ${SMALL_COUNT} × 130 KB instances, large ${LARGE_BYTES / 2 ** 20} MiB, ${ECHO_COUNT} associations; work dir ${work}`,
  );
  const pkiDir = join(work, 'pki');
  mkdirSync(pkiDir);
  const pki = await makeTestPki(pkiDir);
  const dcmtkServerTls = ['+tls', pki.server.key, pki.server.cert, '+cf', pki.caCert];
  const dcmtkClientTls = ['+tls', pki.client.key, pki.client.cert, '+cf', pki.caCert];
  const tlsEnv = { BENCH_TLS_DIR: pkiDir };
  const small = makeStudy(join(work, 'small'), SMALL_COUNT, { pixelBytes: 131072 }).map((f) => f.path);
  const received = join(work, 'received');
  const receivedOurs = join(work, 'received-dicomnet');
  const incoming = join(work, 'incoming');
  mkdirSync(received);
  mkdirSync(receivedOurs);
  // storescp keeps what it receives (-od); the dicomnet SCP moves each file into a directory too
  const clean = () => emptyDirs([received, receivedOurs]);
  const storescp = await startDcmtk('storescp', [
    ...dcmtkServerTls,
    '--max-pdu',
    DCMTK_MAX_PDU,
    '-od',
    received,
    '-fe',
    '.dcm',
  ]);
  const scp = await startBenchServer('dicom', pkiDir, receivedOurs, incoming);
  const rows: Row[] = [['case (TLS)', 'value', 'unit', 'ratio', 'link']];

  // 1. small instances on one association, in rounds with the DCMTK baseline
  rows.push(
    ...(await smallStoreRows({
      ...storeRunners({ files: small, clean, dcmtkTls: dcmtkClientTls, env: tlsEnv }),
      storescpPort: storescp.port,
      scpPort: scp.port,
      tls: true,
    })),
  );
  clean();

  // 2. one large instance, against the raw TLS socket ceiling
  const large = makeInstance(join(work, 'large'), { pixelBytes: LARGE_BYTES }).path;
  const mb = LARGE_BYTES / 1e6;
  const ours = await runBenchClient(['store', '127.0.0.1', String(scp.port), '1', large], tlsEnv);
  const oursMbs = mb / (ours.ms / 1000);
  const [protocol = 'TLSv1.3', cipher = 'TLS_AES_256_GCM_SHA384'] = (ours.link ?? '').split(' ');
  const raw = await startBenchServer('rawtls', pkiDir);
  // the raw socket writes 1 MiB chunks, the size of the PDUs dicomnet sends to a dicomnet SCP
  const rawRun = await runBenchClient(
    ['rawtls', '127.0.0.1', String(raw.port), String(LARGE_BYTES), String(1 << 20)],
    {
      ...tlsEnv,
      BENCH_TLS_VERSION: protocol,
      BENCH_CIPHER: protocol === 'TLSv1.3' ? cipher : undefined,
    },
  );
  await raw.stop();
  const rawMbs = mb / (rawRun.ms / 1000);
  rows.push([
    'large: raw Node TLS socket, same bytes (ceiling)',
    rawMbs.toFixed(0),
    'MB/s',
    '1.00x',
    rawRun.link ?? '',
  ]);
  rows.push([
    'large: dicomnet SCU → dicomnet SCP',
    oursMbs.toFixed(0),
    'MB/s',
    ratio(oursMbs, rawMbs),
    ours.link ?? '',
  ]);
  rows.push(['large: dicomnet SCU peak RSS', (ours.rssKb / 1024).toFixed(0), 'MB', '-', '']);
  const dBase =
    mb /
    ((
      await runTool('storescu', [
        ...dcmtkClientTls,
        '--max-pdu',
        DCMTK_MAX_PDU,
        '127.0.0.1',
        String(storescp.port),
        large,
      ])
    ).ms /
      1000);
  clean();
  rows.push([
    'large: storescu +tls → storescp +tls (DCMTK)',
    dBase.toFixed(0),
    'MB/s',
    ratio(dBase, rawMbs),
    '',
  ]);
  const largeScp = await startBenchServer('dicom', pkiDir, receivedOurs, incoming);
  const lScp =
    mb /
    ((
      await runTool('storescu', [
        ...dcmtkClientTls,
        '--max-pdu',
        DCMTK_MAX_PDU,
        '127.0.0.1',
        String(largeScp.port),
        large,
      ])
    ).ms /
      1000);
  const lScpRss = await largeScp.stop();
  clean();
  rows.push(['large: storescu +tls → dicomnet SCP', lScp.toFixed(0), 'MB/s', ratio(lScp, rawMbs), '']);
  rows.push(['large: dicomnet SCP peak RSS (process)', (lScpRss / 1024).toFixed(0), 'MB', '-', '']);
  const lScu = await runBenchClient(['store', '127.0.0.1', String(storescp.port), '1', large], tlsEnv);
  clean();
  rows.push([
    'large: dicomnet SCU → storescp +tls',
    (mb / (lScu.ms / 1000)).toFixed(0),
    'MB/s',
    ratio(mb / (lScu.ms / 1000), rawMbs),
    lScu.link ?? '',
  ]);
  rmSync(large, { force: true });

  // 3. sequential associations
  const echoLoop = async (port: number) => {
    const started = performance.now();
    for (let i = 0; i < ECHO_COUNT; i++)
      await runTool('echoscu', [...dcmtkClientTls, '127.0.0.1', String(port)]);
    return { ms: performance.now() - started };
  };
  const eBase = perSecond(ECHO_COUNT, (await bestOf(() => echoLoop(storescp.port))).ms);
  rows.push([
    'assoc: echoscu +tls process per association → storescp +tls (DCMTK baseline)',
    eBase.toFixed(0),
    'assoc/s',
    '1.00x',
    '',
  ]);
  const eScp = perSecond(ECHO_COUNT, (await bestOf(() => echoLoop(scp.port))).ms);
  rows.push([
    'assoc: echoscu +tls process per association → dicomnet SCP',
    eScp.toFixed(0),
    'assoc/s',
    ratio(eScp, eBase),
    '',
  ]);
  const assocRow = async (name: string, port: number, resume: boolean) => {
    const r = await bestOf(() =>
      runBenchClient(['echo-assocs', '127.0.0.1', String(port), String(ECHO_COUNT)], {
        ...tlsEnv,
        BENCH_NO_RESUME: resume ? '0' : '1',
      }),
    );
    const v = perSecond(ECHO_COUNT, r.ms);
    const resumed = /RESUMED (\d+\/\d+)/.exec(r.out)?.[1] ?? '?';
    rows.push([`assoc: ${name}`, v.toFixed(0), 'assoc/s', ratio(v, eBase), `resumed ${resumed}`]);
  };
  await assocRow('dicomnet SCU in one process → dicomnet SCP, no resumption', scp.port, false);
  await assocRow('dicomnet SCU in one process → dicomnet SCP, session resumption', scp.port, true);
  await assocRow('dicomnet SCU in one process → storescp +tls, session resumption', storescp.port, true);

  const scpRss = await scp.stop();
  await storescp.stop();
  rows.push(['dicomnet SCP peak RSS over the run (process)', (scpRss / 1024).toFixed(0), 'MB', '-', '']);
  printTable(rows);
  rmSync(work, { recursive: true, force: true });
}

await main();
