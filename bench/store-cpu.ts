// CPU cost per small instance (C-STORE of 130 KB instances on one association), dicomnet and DCMTK
// side by side: wall inst/s plus CPU ms per instance of the dicomnet SCU and of the dicomnet SCP
// (process.cpuUsage, each in its own process). CPU per instance is steadier than wall time on a
// shared machine. BENCH_STORE_COUNT sets the instance count (default 300; smoke 40).
// BENCH_CPU_PROF=DIR writes a .cpuprofile of every dicomnet child process into DIR.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeStudy } from '../test/helpers/samples.js';
import {
  benchWorkDir,
  DCMTK_MAX_PDU,
  perSecond,
  printTable,
  ratio,
  runBenchClient,
  runTool,
  SMOKE,
  startBenchServer,
  startDcmtk,
} from './_util.js';

const COUNT = SMOKE ? 40 : Number(process.env.BENCH_STORE_COUNT ?? 300);
const work = benchWorkDir('cpu');

async function main(): Promise<void> {
  const files = makeStudy(join(work, 'small'), COUNT, { pixelBytes: 131072 }).map((f) => f.path);
  const received = join(work, 'received');
  mkdirSync(received);
  const storescp = await startDcmtk('storescp', ['--max-pdu', DCMTK_MAX_PDU, '-od', received, '-fe', '.dcm']);
  const ms = (us: number) => (us / 1000 / COUNT).toFixed(3);
  const rows: (string | number)[][] = [['case', 'inst/s', 'vs DCMTK', 'SCU CPU ms/inst', 'SCP CPU ms/inst']];
  const base = perSecond(
    COUNT,
    (await runTool('storescu', ['--max-pdu', DCMTK_MAX_PDU, '127.0.0.1', String(storescp.port), ...files]))
      .ms,
  );
  rows.push(['storescu → storescp', base.toFixed(0), '1.00x', '-', '-']);
  const scu = await runBenchClient(['store', '127.0.0.1', String(storescp.port), '1', ...files]);
  const v = perSecond(COUNT, scu.ms);
  rows.push(['dicomnet SCU → storescp', v.toFixed(0), ratio(v, base), ms(scu.cpuUs), '-']);
  {
    const scp = await startBenchServer('dicom', undefined, received, join(work, 'incoming'));
    const r = await runTool('storescu', [
      '--max-pdu',
      DCMTK_MAX_PDU,
      '127.0.0.1',
      String(scp.port),
      ...files,
    ]);
    const { cpuUs } = await scp.stopWithCpu();
    const w = perSecond(COUNT, r.ms);
    rows.push(['storescu → dicomnet SCP', w.toFixed(0), ratio(w, base), '-', ms(cpuUs)]);
  }
  for (const window of [1, 8]) {
    const scp = await startBenchServer('dicom', undefined, received, join(work, 'incoming'));
    const c = await runBenchClient(['store', '127.0.0.1', String(scp.port), String(window), ...files]);
    const { cpuUs } = await scp.stopWithCpu();
    const w = perSecond(COUNT, c.ms);
    rows.push([
      `dicomnet → dicomnet, window ${window}`,
      w.toFixed(0),
      ratio(w, base),
      ms(c.cpuUs),
      ms(cpuUs),
    ]);
  }
  await storescp.stop();
  printTable(rows);
  rmSync(work, { recursive: true, force: true });
}

await main();
