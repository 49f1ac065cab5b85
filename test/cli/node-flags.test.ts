import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { DICOMNET_NODE_FLAGS } from '../../bench/_util.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('the dicomnet command, npm start and the benchmarks run Node with the same flags', () => {
  const shebang = readFileSync(`${root}bin/dicomnet.js`, 'utf8').split('\n')[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${DICOMNET_NODE_FLAGS.join(' ')}`);
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, `node ${DICOMNET_NODE_FLAGS.join(' ')} bin/dicomnet.js serve`);
});

test('bin/dicomnet.js run through its shebang starts Node with those flags', () => {
  // the shebang is what a package manager's bin link runs; --help exits 0 without side effects
  const out = execFileSync(`${root}bin/dicomnet.js`, ['--help'], { encoding: 'utf8' });
  assert.match(out, /Usage: dicomnet/);
  const flags = execFileSync(
    '/usr/bin/env',
    [
      '-S',
      `node ${DICOMNET_NODE_FLAGS.join(' ')} -p process.execArgv.slice(0,${DICOMNET_NODE_FLAGS.length})`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(flags.trim(), `[ ${DICOMNET_NODE_FLAGS.map((f) => `'${f}'`).join(', ')} ]`);
});
