// Network benchmarks over plain TCP on loopback, dicomnet side by side with DCMTK 3.6.7
// (TLS: bench/tls.ts). Not a test: prints a table with ratios against the DCMTK row of each group.
//   1. N × 130 KB instances on one association (instances/s), and with an async window of 8
//   2. one large instance (1 GiB; smoke 32 MiB): MB/s and peak RSS of the dicomnet side
//   3. sequential echo associations (associations/s)
// The 130 KB rows run in REPEAT rounds (default 3) with the DCMTK baseline (median rate, median
// per-round ratio); the echo rows are the best of REPEAT runs; the large rows run once.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
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

const work = benchWorkDir('net');
const SMALL_COUNT = SMOKE ? 40 : 1000;
const LARGE_BYTES = SMOKE ? 32 * 1024 * 1024 : 1024 * 1024 * 1024;
const ECHO_COUNT = SMOKE ? 20 : 500;

type Row = (string | number)[];

async function main(): Promise<void> {
  console.log(
    `${SMALL_COUNT} × 130 KB instances, large ${LARGE_BYTES / 2 ** 20} MiB, ${ECHO_COUNT} echo associations; work dir ${work}`,
  );
  const small = makeStudy(join(work, 'small'), SMALL_COUNT, { pixelBytes: 131072 }).map((f) => f.path);
  const received = join(work, 'received');
  const receivedOurs = join(work, 'received-dicomnet');
  const incoming = join(work, 'incoming');
  mkdirSync(received);
  mkdirSync(receivedOurs);
  // storescp keeps what it receives (-od); the dicomnet SCP writes a temp file and its handler
  // moves it into a directory the same way
  const storescp = await startDcmtk('storescp', ['--max-pdu', DCMTK_MAX_PDU, '-od', received, '-fe', '.dcm']);
  const scp = await startBenchServer('dicom', undefined, receivedOurs, incoming);
  const rows: Row[] = [['case', 'value', 'unit', 'vs DCMTK']];
  const clean = () => emptyDirs([received, receivedOurs]);

  // 1. small instances on one association, in rounds with the DCMTK baseline
  rows.push(
    ...(await smallStoreRows({
      ...storeRunners({ files: small, clean }),
      storescpPort: storescp.port,
      scpPort: scp.port,
      tls: false,
    })),
  );
  clean();

  // 2. one large instance
  const large = makeInstance(join(work, 'large'), { pixelBytes: LARGE_BYTES }).path;
  const mb = LARGE_BYTES / 1e6;
  const lBase =
    mb /
    ((await runTool('storescu', ['--max-pdu', DCMTK_MAX_PDU, '127.0.0.1', String(storescp.port), large])).ms /
      1000);
  clean();
  rows.push(['large: storescu → storescp (DCMTK baseline)', lBase.toFixed(0), 'MB/s', '1.00x']);
  const lScu = await runBenchClient(['store', '127.0.0.1', String(storescp.port), '1', large]);
  clean();
  const lScuMbs = mb / (lScu.ms / 1000);
  rows.push(['large: dicomnet SCU → storescp', lScuMbs.toFixed(0), 'MB/s', ratio(lScuMbs, lBase)]);
  rows.push(['large: dicomnet SCU peak RSS', (lScu.rssKb / 1024).toFixed(0), 'MB', '-']);
  const largeScp = await startBenchServer('dicom', undefined, receivedOurs, incoming);
  const lScp =
    mb /
    ((await runTool('storescu', ['--max-pdu', DCMTK_MAX_PDU, '127.0.0.1', String(largeScp.port), large])).ms /
      1000);
  const lScpRss = await largeScp.stop();
  rows.push(['large: storescu → dicomnet SCP', lScp.toFixed(0), 'MB/s', ratio(lScp, lBase)]);
  rows.push(['large: dicomnet SCP peak RSS (process)', (lScpRss / 1024).toFixed(0), 'MB', '-']);
  const lBoth = await runBenchClient(['store', '127.0.0.1', String(scp.port), '1', large]);
  rows.push([
    'large: dicomnet SCU → dicomnet SCP',
    (mb / (lBoth.ms / 1000)).toFixed(0),
    'MB/s',
    ratio(mb / (lBoth.ms / 1000), lBase),
  ]);
  rmSync(large, { force: true });

  // 3. sequential echo associations
  const echoLoop = async (port: number) => {
    const started = performance.now();
    for (let i = 0; i < ECHO_COUNT; i++) await runTool('echoscu', ['127.0.0.1', String(port)]);
    return { ms: performance.now() - started };
  };
  const eBase = perSecond(ECHO_COUNT, (await bestOf(() => echoLoop(storescp.port))).ms);
  const echoRows: [string, number][] = [
    ['echoscu process per association → storescp (DCMTK baseline)', eBase],
    [
      'echoscu process per association → dicomnet SCP',
      perSecond(ECHO_COUNT, (await bestOf(() => echoLoop(scp.port))).ms),
    ],
    [
      'dicomnet SCU, associations in one process → storescp',
      perSecond(
        ECHO_COUNT,
        (
          await bestOf(() =>
            runBenchClient(['echo-assocs', '127.0.0.1', String(storescp.port), String(ECHO_COUNT)]),
          )
        ).ms,
      ),
    ],
    [
      'dicomnet SCU, associations in one process → dicomnet SCP',
      perSecond(
        ECHO_COUNT,
        (
          await bestOf(() =>
            runBenchClient(['echo-assocs', '127.0.0.1', String(scp.port), String(ECHO_COUNT)]),
          )
        ).ms,
      ),
    ],
  ];
  for (const [name, v] of echoRows) rows.push([`echo: ${name}`, v.toFixed(0), 'assoc/s', ratio(v, eBase)]);

  const scpRss = await scp.stop();
  await storescp.stop();
  rows.push(['dicomnet SCP peak RSS over the run (process)', (scpRss / 1024).toFixed(0), 'MB', '-']);
  printTable(rows);
  rmSync(work, { recursive: true, force: true });
}

await main();
