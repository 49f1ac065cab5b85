import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { main } from '../../src/cli/main.js';

function capture() {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => {
    stdout += d;
  });
  err.on('data', (d) => {
    stderr += d;
  });
  return { ctx: { stdout: out, stderr: err }, text: () => ({ stdout, stderr }) };
}

test('--help lists every command of the CLI contract', async () => {
  const c = capture();
  const code = await main(['--help'], c.ctx);
  assert.equal(code, 0);
  for (const cmd of ['dump', 'echo', 'store', 'find', 'move', 'get', 'serve', 'pki', 'tls']) {
    assert.match(c.text().stdout, new RegExp(`\\b${cmd}\\b`));
  }
});

test('an unknown command is a usage error (exit 2)', async () => {
  const c = capture();
  assert.equal(await main(['frobnicate'], c.ctx), 2);
});
