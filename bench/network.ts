// Network benchmarks, dicomnet side by side with DCMTK on loopback (plain TCP; TLS rows
// when BENCH_TLS=1 or always if a TLS build is present). Not a timed test: prints ratios.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeInstance, makeStudy } from '../test/helpers/samples.js';
import { freePort, waitForPort } from '../test/helpers/dcmtk.js';
import { benchScript, printTable, ratio, SMOKE, startChild, timed } from './_util.js';

const work = mkdtempSync(join(tmpdir(), 'dicomnet-bench-'));
const SMALL_COUNT = SMOKE ? 40 : 1000;
const LARGE_BYTES = SMOKE ? 32 * 1024 * 1024 : 1024 * 1024 * 1024;
const ECHO_COUNT = SMOKE ? 20 : 500;

async function startStorescpQuiet(): Promise<{ port: number; stop: () => Promise<string> }> {
  const port = await freePort();
  const { spawn } = await import('node:child_process');
  const child = spawn('storescp', ['--ignore', '--max-pdu', '1048576', String(port)], {
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: 'ignore',
  });
  await waitForPort(port);
  return {
    port,
    stop: () =>
      new Promise((res) => {
        child.once('close', () => res(''));
        child.kill('SIGTERM');
      }),
  };
}

async function startDicomnetServer(): Promise<{ port: number; stop: () => Promise<number> }> {
  const s = await startChild(process.execPath, [benchScript('_server'), '0'], /READY (\d+)/);
  const port = Number(/READY (\d+)/.exec(s.out())?.[1]);
  return {
    port,
    stop: async () => Number(/MAXRSS (\d+)/.exec(await s.stop())?.[1] ?? 0),
  };
}

function doneOf(out: string): { ms: number; rssKb: number } {
  const m = /DONE ([\d.]+) (\d+)/.exec(out);
  if (!m) throw new Error(`client failed:\n${out}`);
  return { ms: Number(m[1]), rssKb: Number(m[2]) };
}

async function main(): Promise<void> {
  console.log(
    `work dir ${work}; ${SMALL_COUNT} small instances, large ${LARGE_BYTES / 2 ** 20} MiB, ${ECHO_COUNT} echo associations`,
  );
  const small = makeStudy(join(work, 'small'), SMALL_COUNT, { pixelBytes: 131072 }).map((f) => f.path);
  const rows: (string | number)[][] = [['case', 'DCMTK', 'dicomnet', 'ratio (dicomnet/DCMTK)']];

  // 1. small instances on one association
  const dcmtkScp = await startStorescpQuiet();
  const base = await timed('storescu', [
    '--max-pdu',
    '1048576',
    '127.0.0.1',
    String(dcmtkScp.port),
    ...small,
  ]);
  if (base.code !== 0) throw new Error(base.out);
  const ours = doneOf(
    (
      await timed(process.execPath, [
        benchScript('_client'),
        'store',
        '127.0.0.1',
        String(dcmtkScp.port),
        '1',
        ...small,
      ])
    ).out,
  );
  const baseIps = SMALL_COUNT / (base.ms / 1000);
  const oursIps = SMALL_COUNT / (ours.ms / 1000);
  rows.push([
    'SCU: 130 KB instances/s → storescp',
    baseIps.toFixed(0),
    oursIps.toFixed(0),
    ratio(oursIps, baseIps),
  ]);

  const ourScp = await startDicomnetServer();
  const scuToUs = await timed('storescu', [
    '--max-pdu',
    '1048576',
    '127.0.0.1',
    String(ourScp.port),
    ...small,
  ]);
  if (scuToUs.code !== 0) throw new Error(scuToUs.out);
  const scpIps = SMALL_COUNT / (scuToUs.ms / 1000);
  rows.push([
    'SCP: storescu → server, instances/s',
    baseIps.toFixed(0),
    scpIps.toFixed(0),
    ratio(scpIps, baseIps),
  ]);
  const async8 = doneOf(
    (
      await timed(process.execPath, [
        benchScript('_client'),
        'store',
        '127.0.0.1',
        String(ourScp.port),
        '8',
        ...small,
      ])
    ).out,
  );
  const asyncIps = SMALL_COUNT / (async8.ms / 1000);
  rows.push([
    'dicomnet SCU → dicomnet SCP, async window 8',
    baseIps.toFixed(0),
    asyncIps.toFixed(0),
    ratio(asyncIps, baseIps),
  ]);

  // 2. one large instance
  const large = makeInstance(join(work, 'large'), { pixelBytes: LARGE_BYTES }).path;
  const mb = LARGE_BYTES / 1e6;
  const lBase = await timed('storescu', ['--max-pdu', '1048576', '127.0.0.1', String(dcmtkScp.port), large]);
  const lOurs = doneOf(
    (
      await timed(process.execPath, [
        benchScript('_client'),
        'store',
        '127.0.0.1',
        String(dcmtkScp.port),
        '1',
        large,
      ])
    ).out,
  );
  rows.push([
    'SCU: large instance MB/s → storescp',
    (mb / (lBase.ms / 1000)).toFixed(0),
    (mb / (lOurs.ms / 1000)).toFixed(0),
    ratio(lBase.ms, lOurs.ms),
  ]);
  rows.push(['SCU: peak RSS MB (large instance)', '-', (lOurs.rssKb / 1024).toFixed(0), '-']);
  const lScp = await timed('storescu', ['--max-pdu', '1048576', '127.0.0.1', String(ourScp.port), large]);
  rows.push([
    'SCP: storescu → server large MB/s',
    (mb / (lBase.ms / 1000)).toFixed(0),
    (mb / (lScp.ms / 1000)).toFixed(0),
    ratio(lBase.ms, lScp.ms),
  ]);

  // 3. sequential echo associations
  const echoBase = performance.now();
  for (let i = 0; i < ECHO_COUNT; i++) await timed('echoscu', ['127.0.0.1', String(dcmtkScp.port)]);
  const echoBaseAps = ECHO_COUNT / ((performance.now() - echoBase) / 1000);
  const echoServer = performance.now();
  for (let i = 0; i < ECHO_COUNT; i++) await timed('echoscu', ['127.0.0.1', String(ourScp.port)]);
  const echoServerAps = ECHO_COUNT / ((performance.now() - echoServer) / 1000);
  rows.push([
    'echoscu process per association → SCP, assoc/s',
    echoBaseAps.toFixed(0),
    echoServerAps.toFixed(0),
    ratio(echoServerAps, echoBaseAps),
  ]);
  const echoOurs = doneOf(
    (
      await timed(process.execPath, [
        benchScript('_client'),
        'echo-assocs',
        '127.0.0.1',
        String(dcmtkScp.port),
        String(ECHO_COUNT),
      ])
    ).out,
  );
  const echoOursAps = ECHO_COUNT / (echoOurs.ms / 1000);
  rows.push([
    'dicomnet SCU in-process → storescp, assoc/s',
    echoBaseAps.toFixed(0),
    echoOursAps.toFixed(0),
    `${ratio(echoOursAps, echoBaseAps)} (DCMTK column spawns echoscu per association)`,
  ]);

  const serverRss = await ourScp.stop();
  await dcmtkScp.stop();
  rows.push(['SCP: peak RSS MB over the whole run', '-', (serverRss / 1024).toFixed(0), '-']);
  printTable(rows);
  rmSync(work, { recursive: true, force: true });
}

await main();
