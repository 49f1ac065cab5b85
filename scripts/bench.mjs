#!/usr/bin/env node
// Runs the benchmarks (compiled to dist/bench/*.js) one after another.
// Usage: npm run bench [-- name-filter...]   (BENCH_SMOKE=1 for the short CI slice)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(process.env.DIST_DIR ?? 'dist', 'bench');
if (!existsSync(dir)) {
  console.error(`bench: ${dir} does not exist; run npm run build first`);
  process.exit(1);
}
const filters = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.js') && !f.startsWith('_'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f.replace(/\.js$/, '')} ===`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(dir, f)], {
    stdio: 'inherit',
    env: { ...process.env, TCP_NODELAY: '1' },
  });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
