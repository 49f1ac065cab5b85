// Storage benchmark: durable commits (fsync file + directory, atomic rename/link) per second.
// Run: node dist/bench/node-storage.js [--files N] [--size BYTES] [--concurrency N]
// The last row is the durability floor of `dicomnet serve` under one window-1 storescu:
// 130 KB commits one at a time, no network and no index (ms per commit).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FileStorage } from '../src/node/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const files = arg('files', process.env.BENCH_SMOKE === '1' ? 40 : 500);
  const size = arg('size', 512 * 1024);
  const concurrency = arg('concurrency', 4);
  const root = mkdtempSync(join(tmpdir(), 'dicomnet-bench-storage-'));
  const storage = new FileStorage(root);
  const data = Buffer.alloc(size, 7);
  try {
    for (const policy of ['keep', 'replace'] as const) {
      let next = 0;
      const start = performance.now();
      const worker = async () => {
        for (let i = next++; i < files; i = next++) {
          await storage.write(
            data,
            {
              studyInstanceUid: `1.2.${i % 10}`,
              seriesInstanceUid: `1.2.${i % 10}.${i % 3}`,
              sopInstanceUid: `1.3.${i}`,
            },
            policy,
          );
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
      const seconds = (performance.now() - start) / 1000;
      console.log(
        `${policy.padEnd(8)} ${files} × ${size} B, ${concurrency} in flight: ${(files / seconds).toFixed(0)} commits/s,` +
          ` ${((files * size) / seconds / 1048576).toFixed(1)} MiB/s`,
      );
    }
    const floorFiles = Math.min(files, 300);
    const small = Buffer.alloc(133 * 1024, 7);
    const start = performance.now();
    for (let i = 0; i < floorFiles; i++) {
      await storage.write(
        small,
        { studyInstanceUid: '1.4.1', seriesInstanceUid: '1.4.1.1', sopInstanceUid: `1.4.1.1.${i}` },
        'keep',
      );
    }
    const ms = (performance.now() - start) / floorFiles;
    console.log(
      `floor    ${floorFiles} × ${small.length} B, 1 in flight: ${(1000 / ms).toFixed(0)} commits/s, ${ms.toFixed(2)} ms per commit`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
