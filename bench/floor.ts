// The floor: what the least Node.js program reaches on this machine, side by side with DCMTK and
// dicomnet in the same run. bench/_floor.ts is a bare C-STORE SCU and storage SCP (no state
// machine, validation, API, limits or logging) and a bare file-to-file TLS copy. Where the floor
// itself misses a target of the network or TLS benchmarks, no Node.js implementation reaches
// that target here; the distance between the floor and dicomnet is what the DICOM stack costs.
//   1. 130 KB instances, plain and TLS, window 1 and 8: floor and dicomnet against the DCMTK
//      baseline, in REPEAT rounds (median rate, median per-round ratio, and each round's ratio)
//   2. one large file over TLS (1 GiB; smoke 32 MiB): the raw TLS socket that drops the bytes,
//      the floor that reads the file and writes it on the other side, and dicomnet, in rounds
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestPki } from '../test/helpers/pki.js';
import { makeInstance, makeStudy } from '../test/helpers/samples.js';
import {
  benchWorkDir,
  DCMTK_MAX_PDU,
  emptyDirs,
  interleavedRounds,
  perSecond,
  printTable,
  runBenchClient,
  runBenchScript,
  SMOKE,
  startBenchScript,
  startBenchServer,
  startDcmtk,
  storeRunners,
} from './_util.js';

const work = benchWorkDir('floor');
const SMALL_COUNT = SMOKE ? 40 : 1000;
const LARGE_BYTES = SMOKE ? 32 * 1024 * 1024 : 1024 * 1024 * 1024;

type Row = (string | number)[];

/** A bench/_floor.ts server (`scp` or `recvfile`) in its own process. */
const startFloor = (args: string[], env: NodeJS.ProcessEnv) => startBenchScript('_floor', args, env);

/** Run a bench/_floor.ts client (`scu` or `sendfile`) to completion: its own measured ms. */
const runFloor = async (args: string[], env: NodeJS.ProcessEnv) =>
  (await runBenchScript('_floor', args, env)).ms;

async function main(): Promise<void> {
  console.log(
    `floor: ${SMALL_COUNT} × 130 KB instances, large ${LARGE_BYTES / 2 ** 20} MiB over TLS; work dir ${work}`,
  );
  const pkiDir = join(work, 'pki');
  mkdirSync(pkiDir);
  const pki = await makeTestPki(pkiDir);
  const small = makeStudy(join(work, 'small'), SMALL_COUNT, { pixelBytes: 131072 }).map((f) => f.path);
  const dir = (name: string) => {
    const path = join(work, name);
    mkdirSync(path);
    return path;
  };
  const received = dir('received');
  const receivedOurs = dir('received-dicomnet');
  const receivedFloor = dir('received-floor');
  const incoming = dir('incoming');
  const incomingFloor = dir('incoming-floor');
  const clean = () => emptyDirs([received, receivedOurs, receivedFloor]);
  // the rounds column shows how often a case reached a target, which the median alone hides
  const rows: Row[] = [['case', 'value', 'unit', 'ratio', 'rounds']];
  const perRound = (ratios: number[]) => ratios.map((r) => r.toFixed(2)).join(' ');

  for (const tls of [false, true]) {
    const t = tls ? ' +tls' : '';
    const env: NodeJS.ProcessEnv = tls ? { BENCH_TLS_DIR: pkiDir } : {};
    const serverTls = tls ? ['+tls', pki.server.key, pki.server.cert, '+cf', pki.caCert] : [];
    const clientTls = tls ? ['+tls', pki.client.key, pki.client.cert, '+cf', pki.caCert] : [];
    const storescp = await startDcmtk('storescp', [
      ...serverTls,
      '--max-pdu',
      DCMTK_MAX_PDU,
      '-od',
      received,
      '-fe',
      '.dcm',
    ]);
    const scp = await startBenchServer('dicom', tls ? pkiDir : undefined, receivedOurs, incoming);
    const floorScp = await startFloor(['scp', '0', receivedFloor, incomingFloor], env);
    const { storescu, ourScu } = storeRunners({ files: small, clean, dcmtkTls: clientTls, env });
    const floorScu = async (port: number, window: number) => {
      clean();
      return {
        rate: perSecond(
          small.length,
          await runFloor(['scu', '127.0.0.1', String(port), String(window), ...small], env),
        ),
      };
    };
    const rounds = await interleavedRounds(
      () => storescu(storescp.port),
      [
        [`floor SCU → storescp${t}`, () => floorScu(storescp.port, 1)],
        [`dicomnet SCU → storescp${t}`, () => ourScu(storescp.port, 1)],
        [`storescu${t} → floor SCP`, () => storescu(floorScp.port)],
        [`storescu${t} → dicomnet SCP`, () => storescu(scp.port)],
        ['floor SCU → floor SCP, async window 8', () => floorScu(floorScp.port, 8)],
        ['dicomnet SCU → dicomnet SCP, async window 8', () => ourScu(scp.port, 8)],
      ],
    );
    rows.push([
      `130 KB${t}: storescu${t} → storescp${t} (DCMTK baseline)`,
      rounds.base.toFixed(0),
      'inst/s',
      '1.00x',
    ]);
    for (const r of rounds.rows)
      rows.push([
        `130 KB${t}: ${r.name}`,
        r.rate.toFixed(0),
        'inst/s',
        `${r.ratio.toFixed(2)}x`,
        perRound(r.ratios),
      ]);
    await Promise.all([storescp.stop(), scp.stop(), floorScp.stop()]);
    clean();
  }

  // one large file over TLS: the ceiling the TLS benchmark uses, the floor with the files, dicomnet
  const large = makeInstance(join(work, 'large'), { pixelBytes: LARGE_BYTES }).path;
  const env = { BENCH_TLS_DIR: pkiDir };
  const mb = LARGE_BYTES / 1e6;
  const raw = await startBenchServer('rawtls', pkiDir);
  const fileCopy = await startFloor(['recvfile', '0', receivedFloor], env);
  const scp = await startBenchServer('dicom', pkiDir, receivedOurs, incoming);
  const rate = (ms: number) => ({ rate: mb / (ms / 1000) });
  const largeRounds = await interleavedRounds(
    async () =>
      rate(
        (
          await runBenchClient(
            ['rawtls', '127.0.0.1', String(raw.port), String(LARGE_BYTES), String(1 << 20)],
            env,
          )
        ).ms,
      ),
    [
      [
        'floor: file read, sent, written to a file',
        async () => {
          clean();
          return rate(await runFloor(['sendfile', '127.0.0.1', String(fileCopy.port), large], env));
        },
      ],
      [
        'dicomnet SCU → dicomnet SCP',
        async () => {
          clean();
          return rate((await runBenchClient(['store', '127.0.0.1', String(scp.port), '1', large], env)).ms);
        },
      ],
    ],
  );
  rows.push([
    'large TLS: raw Node TLS socket, bytes dropped (the TLS ceiling)',
    largeRounds.base.toFixed(0),
    'MB/s',
    '1.00x',
  ]);
  for (const r of largeRounds.rows)
    rows.push([
      `large TLS: ${r.name}`,
      r.rate.toFixed(0),
      'MB/s',
      `${r.ratio.toFixed(2)}x`,
      perRound(r.ratios),
    ]);
  await Promise.all([raw.stop(), fileCopy.stop(), scp.stop()]);
  printTable(rows);
}

try {
  await main();
} finally {
  rmSync(work, { recursive: true, force: true });
}
