/**
 * N nodes behind a balancer (issue 20): HAProxy (mode tcp, round robin) in front of two
 * `dicomnet serve` processes sharing one storage directory and its SQLite index. storescu
 * through HAProxy lands on both nodes; a C-FIND through either node finds everything.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { freePort, hasDcmtk, run, waitForPort } from '../helpers/dcmtk.js';
import { makeStudy } from '../helpers/samples.js';
import { type ServeProcess, startServe } from './node-helpers.js';

const hasHaproxy = spawnSync('haproxy', ['-v']).status === 0;
const skip = !hasDcmtk() ? 'DCMTK is not installed' : !hasHaproxy ? 'haproxy is not installed' : false;

function sopUidsFound(output: string): string[] {
  return output
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
}

describe('two serve nodes behind HAProxy', { skip }, () => {
  test('storescu through HAProxy lands on both nodes; C-FIND through either finds all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomnet-haproxy-'));
    const storage = join(dir, 'storage');
    const nodes: ServeProcess[] = [];
    let haproxy: ChildProcess | undefined;
    try {
      const ports: number[] = [];
      for (let i = 0; i < 2; i++) {
        const port = await freePort();
        const config = join(dir, `node${i}.json`);
        writeFileSync(
          config,
          JSON.stringify({
            aet: 'DICOMNET',
            port,
            tlsPort: null,
            storage,
            log: { level: 'info' },
            access: { unknownPeers: ['echo', 'store', 'find'] },
          }),
        );
        // one after the other: a node's start-up check must not run while the other receives
        nodes.push(await startServe(['--config', config], { cwd: dir, waitPort: port, timeoutMs: 60_000 }));
        ports.push(port);
      }
      const front = await freePort();
      const cfg = join(dir, 'haproxy.cfg');
      writeFileSync(
        cfg,
        [
          'global',
          '  maxconn 256',
          'defaults',
          '  mode tcp',
          '  timeout connect 5s',
          '  timeout client 60s',
          '  timeout server 60s',
          'frontend dicom',
          `  bind 127.0.0.1:${front}`,
          '  default_backend nodes',
          'backend nodes',
          '  balance roundrobin',
          ...ports.map((p, i) => `  server node${i} 127.0.0.1:${p}`),
          '',
        ].join('\n'),
      );
      haproxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: 'ignore' });
      await waitForPort(front, 20_000);
      const sent: string[] = [];
      for (let i = 0; i < 4; i++) {
        const study = makeStudy(join(dir, `in${i}`), 3, { patientId: `HA${i}`, pixelBytes: 4096 });
        sent.push(...study.map((s) => s.sopInstanceUid));
        const r = await run(
          'storescu',
          ['-aec', 'DICOMNET', '--scan-directories', '127.0.0.1', String(front), join(dir, `in${i}`)],
          {
            timeoutMs: 60_000,
          },
        );
        assert.equal(r.code, 0, r.stdout + r.stderr);
      }
      nodes.forEach((n, i) => {
        const stored = n
          .logLines()
          .filter((l) => l.msg === 'association ended')
          .reduce((sum, l) => sum + Number(l.instances ?? 0), 0);
        assert.ok(stored > 0, `node ${i} received instances through HAProxy`);
      });
      for (const port of ports) {
        const r = await run(
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
        );
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.deepEqual(
          sopUidsFound(r.stdout + r.stderr).sort(),
          [...sent].sort(),
          `C-FIND on port ${port} finds all`,
        );
      }
    } finally {
      haproxy?.kill('SIGTERM');
      for (const n of nodes) await n.stop('SIGTERM', 30_000);
    }
  });
});
