// CLI start-up benchmark: wall time of `dicomnet --help`, `dicomnet echo --tls` to a local
// storescp +tls and `dicomnet dump` of one small file, each as a ratio to `node -e 0` measured in
// the same rounds (interleaved, so machine load hits both alike). The process is started as a
// user starts it: `node bin/dicomnet.js …`. Medians of BENCH_CLI_ROUNDS (default 15; 3 in smoke).
// Targets (issue 17): --help ≤ 1.5×, echo --tls ≤ 2.0× (handshake included), dump ≤ 1.5×.
// Run: node dist/bench/cli.js
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { createDevelopmentPki } from '../src/tls/pki.js';
import { makeInstance } from '../test/helpers/samples.js';
import { freePort, waitForPort } from '../test/helpers/dcmtk.js';
import { benchWorkDir, median, printTable, SMOKE } from './_util.js';

const ROUNDS = SMOKE ? 3 : Number(process.env.BENCH_CLI_ROUNDS ?? 15);
const bin = fileURLToPath(new URL('../../bin/dicomnet.js', import.meta.url));

/** Wall milliseconds of one run of `node ARGS` (exit code must be 0). */
function wall(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env },
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else reject(new Error(`node ${args.join(' ')} exited ${code}: ${err}`));
    });
  });
}

async function main(): Promise<void> {
  const work = benchWorkDir('cli');
  const pki = await createDevelopmentPki(join(work, 'pki'));
  const file = makeInstance(join(work, 'dump'), { pixelBytes: 1024 }).path;
  const port = await freePort();
  mkdirSync(join(work, 'received'), { recursive: true });
  const storescp = spawn(
    'storescp',
    [
      ...['+tls', pki.serverKey, pki.serverCertificate, '+cf', pki.caCertificate],
      ...['-od', join(work, 'received')],
      String(port),
    ],
    { stdio: 'ignore', env: { ...process.env, TCP_NODELAY: '1' } },
  );
  try {
    await waitForPort(port);
    const cases: { name: string; args: string[]; target: number }[] = [
      { name: 'dicomnet --help', args: [bin, '--help'], target: 1.5 },
      {
        name: 'dicomnet echo --tls (storescp +tls)',
        args: [
          ...[bin, 'echo', '--tls', '--ca', pki.caCertificate, '--key', pki.clientKey],
          ...['--cert', pki.clientCertificate, 'localhost', String(port)],
        ],
        target: 2.0,
      },
      { name: 'dicomnet dump (one small file)', args: [bin, 'dump', file], target: 1.5 },
    ];
    const base: number[] = [];
    const times = cases.map((): number[] => []);
    // warm-up: the page cache holds every file of both
    await wall(['-e', '0']);
    for (const c of cases) await wall(c.args);
    for (let round = 0; round < ROUNDS; round++) {
      base.push(await wall(['-e', '0']));
      for (const [i, c] of cases.entries()) (times[i] as number[]).push(await wall(c.args));
    }
    const nodeMs = median(base);
    const rows: (string | number)[][] = [['case', 'median ms', 'node -e 0 ms', 'ratio', 'target']];
    for (const [i, c] of cases.entries()) {
      const ms = median(times[i] as number[]);
      rows.push([
        c.name,
        ms.toFixed(1),
        nodeMs.toFixed(1),
        `${(ms / nodeMs).toFixed(2)}×`,
        `≤ ${c.target.toFixed(1)}×`,
      ]);
    }
    printTable(rows);
    console.log(`(${ROUNDS} rounds, medians; \`node -e 0\` measured in the same rounds)`);
  } finally {
    storescp.kill('SIGKILL');
  }
}

await main();
