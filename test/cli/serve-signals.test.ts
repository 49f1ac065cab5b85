import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliEntry } from '../helpers/cli.js';
import { freePort, waitForPort } from '../helpers/dcmtk.js';

test('SIGTERM the moment the port opens stops serve cleanly (exit 0), never the default kill', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dicomnet-signals-'));
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const child = spawn(
        process.execPath,
        [cliEntry, 'serve', '--port', String(port), '--tls-port', 'off', '--storage', join(dir, String(i))],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      const exited = new Promise<number | string | null>((resolve) =>
        child.once('exit', (code, signal) => resolve(code ?? signal)),
      );
      await waitForPort(port, 30_000);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, `run ${i}: serve must stop itself, not be killed by the signal`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
