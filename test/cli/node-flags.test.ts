import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { DICOMNET_NODE_FLAGS } from '../../bench/_util.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const { runtime, commandLine } = createRequire(import.meta.url)(`${root}bin/v8-flags.js`) as {
  runtime: string[];
  commandLine: string[];
};
const flags = [...commandLine, ...runtime];

test('the V8 flags of the dicomnet command are ones this Node accepts, and the benchmarks use them', () => {
  assert.ok(runtime.length > 0 && commandLine.length > 0);
  // an unknown V8 flag on the command line makes node exit with "bad option"
  execFileSync(process.execPath, [...flags, '-e', '0']);
  assert.deepEqual(DICOMNET_NODE_FLAGS, flags);
});

test('bin/dicomnet.js keeps a portable shebang and runs through it; npm start uses it', () => {
  const shebang = readFileSync(`${root}bin/dicomnet.js`, 'utf8').split('\n')[0];
  assert.equal(shebang, '#!/usr/bin/env node');
  // the shebang is what a package manager's bin link runs; --help exits 0 without side effects
  const out = execFileSync(`${root}bin/dicomnet.js`, ['--help'], { encoding: 'utf8' });
  assert.match(out, /Usage: dicomnet/);
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, `node ${commandLine.join(' ')} bin/dicomnet.js serve`);
});
