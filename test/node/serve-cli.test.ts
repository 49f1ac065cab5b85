import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type ServeProcess, startServe } from '../interop/node-helpers.js';
import { connect } from '../../src/services/client.js';
import { binEntry, checkoutRoot, cliEntry, runCli, runShell } from '../helpers/cli.js';
import { dcmtkEnv, freePort, hasDcmtk, run } from '../helpers/dcmtk.js';
import { makeStudy } from '../helpers/samples.js';

/** Wait (up to 10 s) until the node's log matches `pattern`. */
async function logged(node: ServeProcess, pattern: RegExp): Promise<void> {
  const by = Date.now() + 10_000;
  while (!pattern.test(node.stderr()) && Date.now() < by) await new Promise((r) => setTimeout(r, 50));
  assert.match(node.stderr(), pattern);
}

const skip = hasDcmtk() ? false : 'DCMTK is not installed';

/** The ready-to-paste echo line serve prints, as the user would paste it. */
function echoLine(stdout: string): string {
  const line = stdout.split('\n').find((l) => /try: .* echo --tls /.test(l));
  assert.ok(line, `serve prints a ready-to-paste echo line:\n${stdout}`);
  return (line.split('try: ')[1] as string).trim();
}

describe('dicomnet serve as `npm start` runs it: defaults, development PKI, graceful stop', { skip }, () => {
  const running: ServeProcess[] = [];
  after(async () => {
    for (const s of running) await s.kill9();
  });

  async function serve(cwd: string, extra: string[] = []) {
    const port = await freePort();
    const tlsPort = await freePort();
    const node = await startServe(
      ['--host', '127.0.0.1', '--port', String(port), '--tls-port', String(tlsPort), ...extra],
      { cwd, waitPort: tlsPort },
    );
    running.push(node);
    return { node, port, tlsPort };
  }

  test('first start makes ./data/pki and ./data/storage, prints the CA fingerprint and an echo line that works; a restart reuses them', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dicomnet-start-'));
    const first = await serve(cwd);
    const out = first.node.stdout();
    assert.match(out, new RegExp(`development PKI created in ${join(cwd, 'data', 'pki')}`));
    const fingerprint = out.match(/CA SHA-256\s+([0-9A-F:]{95})/)?.[1];
    assert.ok(fingerprint, out);
    assert.match(out, /AE DICOMNET/);
    for (const f of ['ca.crt', 'server.crt', 'server.key', 'client.crt', 'client.key'])
      assert.ok(existsSync(join(cwd, 'data', 'pki', f)), f);
    assert.ok(existsSync(join(cwd, 'data', 'storage', 'index.db')));
    const line = echoLine(out);
    assert.ok(line.endsWith(` ${first.tlsPort}`), line);
    assert.ok(line.startsWith(`node ${cliEntry} echo`), line);
    const echo = await runShell(line, { cwd: tmpdir() });
    assert.equal(echo.code, 0, echo.stderr);
    assert.equal(await first.node.stop('SIGINT'), 0);

    const second = await serve(cwd);
    assert.match(second.node.stdout(), /development PKI reused/);
    assert.ok(second.node.stdout().includes(fingerprint), 'same CA after a restart');
    const again = await runShell(echoLine(second.node.stdout()), { cwd });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await second.node.stop('SIGTERM'), 0);
  });

  test('started as `npm start` starts it (bin/dicomnet.js in the checkout), the echo line is `npx dicomnet …` and runs as printed in another shell opened in the checkout', async () => {
    const work = mkdtempSync(join(tmpdir(), 'dicomnet-npx-'));
    const tlsPort = await freePort();
    const node = await startServe(
      [
        ...['--host', '127.0.0.1', '--port', 'off', '--tls-port', String(tlsPort)],
        ...['--pki', join(work, 'pki'), '--storage', join(work, 'storage')],
      ],
      { cwd: checkoutRoot, waitPort: tlsPort, entry: binEntry },
    );
    running.push(node);
    const line = echoLine(node.stdout());
    assert.ok(line.startsWith('npx dicomnet echo --tls '), line);
    const echo = await runShell(line, { cwd: checkoutRoot, timeoutMs: 60_000 });
    assert.equal(echo.code, 0, echo.stderr);
    assert.match(echo.stdout, /C-ECHO .* succeeded over TLS/);
    assert.equal(await node.stop('SIGINT'), 0);
  });

  test("the shortest echo (`dicomnet echo HOST PORT`, called AE ANY-SCP) is accepted; acceptAnyCalledAet: false enforces the node's own title", async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dicomnet-aec-'));
    const { node, port } = await serve(cwd);
    const ok = await runCli(['echo', '127.0.0.1', String(port)]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /C-ECHO DICOMNET -> ANY-SCP@127\.0\.0\.1:\d+ succeeded/);
    await node.stop('SIGTERM');

    const strictDir = mkdtempSync(join(tmpdir(), 'dicomnet-aec-strict-'));
    const config = join(strictDir, 'node.json');
    writeFileSync(config, JSON.stringify({ acceptAnyCalledAet: false }));
    const strict = await serve(strictDir, ['--config', config]);
    const refused = await runCli(['echo', '127.0.0.1', String(strict.port)]);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /called AE title not recognized \(reason 7\)/);
    const own = await runCli(['echo', '--aec', 'DICOMNET', '127.0.0.1', String(strict.port)]);
    assert.equal(own.code, 0, own.stderr);
    await strict.node.stop('SIGTERM');
  });

  test('defaults: plain listener on 127.0.0.1 only, TLS on every interface requiring client certificates, files owner-only; --plain-host opens it with a warning', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dicomnet-defaults-'));
    const port = await freePort();
    const tlsPort = await freePort();
    const node = await startServe(['--port', String(port), '--tls-port', String(tlsPort)], {
      cwd,
      waitPort: tlsPort,
    });
    running.push(node);
    const listening = (p: number) =>
      spawnSync('ss', ['-ltnH'], { encoding: 'utf8' })
        .stdout.split('\n')
        .map((l) => l.trim().split(/\s+/)[3] ?? '')
        .filter((local) => local.endsWith(`:${p}`));
    assert.deepEqual(listening(port), [`127.0.0.1:${port}`], 'the plain listener is on loopback only');
    assert.ok(
      listening(tlsPort).every((local) =>
        ['*', '0.0.0.0', '[::]'].includes(local.slice(0, local.lastIndexOf(':'))),
      ),
      `the TLS listener is on every interface: ${listening(tlsPort).join(' ')}`,
    );
    assert.ok(listening(tlsPort).length > 0);
    const out = node.stdout();
    assert.match(
      out,
      new RegExp(
        `plain DICOM on 127\\.0\\.0\\.1:${port} \\(unauthenticated, unencrypted: this machine only\\)`,
      ),
    );
    assert.match(
      out,
      new RegExp(`DICOM over TLS on port ${tlsPort} \\(all interfaces\\), client certificates required`),
    );
    assert.match(out, /unknown peers \(no client certificate\) +echo, store\n/);
    // an anonymous TLS client is refused; the printed echo line (dev client certificate) works
    const ca = join(cwd, 'data', 'pki', 'ca.crt');
    const anonymous = await run('echoscu', [
      '+tla',
      '+cf',
      ca,
      '-aec',
      'DICOMNET',
      '127.0.0.1',
      String(tlsPort),
    ]);
    assert.notEqual(anonymous.code, 0, anonymous.stdout);
    // the node's log line may reach the pipe a moment after the client has exited
    await logged(node, /sent no certificate, but one is required/);
    const echo = await runShell(echoLine(out), { cwd: tmpdir() });
    assert.equal(echo.code, 0, echo.stderr);
    // owner-only: the storage, the index, the PKI directory and keys
    for (const dir of ['data', 'data/pki', 'data/storage'])
      assert.equal(statSync(join(cwd, dir)).mode & 0o777, 0o700, dir);
    for (const file of [
      'data/pki/ca.key',
      'data/pki/server.key',
      'data/pki/client.key',
      'data/pki/ca.crt',
      'data/storage/index.db',
    ])
      assert.equal(statSync(join(cwd, file)).mode & 0o777, 0o600, file);
    assert.doesNotMatch(node.stderr(), /group or others can read it/);
    assert.equal(await node.stop('SIGTERM'), 0);

    // a looser mode found at start is warned about; --plain-host opens the plain port, with a warning
    chmodSync(join(cwd, 'data', 'storage'), 0o755);
    const open = await startServe(
      ['--port', String(port), '--tls-port', String(tlsPort), '--plain-host', '0.0.0.0'],
      { cwd, waitPort: tlsPort },
    );
    running.push(open);
    assert.deepEqual(listening(port), [`0.0.0.0:${port}`]);
    assert.match(
      open.stderr(),
      new RegExp(
        `warning: plain DICOM listener on 0\\.0\\.0\\.0:${port} is open to the network: it is unauthenticated and unencrypted`,
      ),
    );
    assert.match(
      open.stderr(),
      new RegExp(
        `directory ${join(cwd, 'data', 'storage')} has mode 755: group or others can read it; chmod 700`,
      ),
    );
    assert.equal(await open.stop('SIGTERM'), 0);
  });

  test('SIGTERM during a transfer: no new associations, the running one finishes, exit 0', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dicomnet-stop-'));
    const storage = join(cwd, 'storage');
    const files = makeStudy(join(cwd, 'src'), 40, { pixelBytes: 256 * 1024 });
    const { node, port } = await serve(cwd, ['--storage', storage, '--grace', '20']);
    const sender = spawn(
      'storescu',
      ['-aec', 'DICOMNET', '127.0.0.1', String(port), ...files.map((f) => f.path)],
      {
        env: dcmtkEnv(),
        stdio: 'ignore',
      },
    );
    const senderCode = new Promise<number | null>((res) => sender.once('exit', (code) => res(code)));
    const first = files[0] as (typeof files)[number];
    const series = join(storage, first.studyInstanceUid, first.seriesInstanceUid);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !(existsSync(series) && readdirSync(series).length >= 2))
      await new Promise((r) => setTimeout(r, 5));
    const stopped = node.stop('SIGTERM', 30_000);
    await new Promise((r) => setTimeout(r, 100));
    const refused = await run('echoscu', ['-to', '5', '-aec', 'DICOMNET', '127.0.0.1', String(port)]);
    assert.notEqual(refused.code, 0, 'no new associations while stopping');
    assert.equal(await senderCode, 0, 'the running association finished');
    assert.equal(await stopped, 0, node.stderr().slice(-2000));
    assert.equal(readdirSync(series).length, 40);
    assert.deepEqual(readdirSync(join(storage, '.incoming')), []);
  });
  test('an idle association is aborted when the grace period ends; a second signal aborts at once', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'dicomnet-grace-'));
    for (const [grace, second] of [
      ['1', false],
      ['60', true],
    ] as const) {
      const { node, port } = await serve(cwd, ['--storage', join(cwd, `storage-${grace}`), '--grace', grace]);
      const assoc = await connect({ host: '127.0.0.1', port, calledAet: 'DICOMNET' });
      await assoc.echo();
      const started = Date.now();
      const stopped = node.stop('SIGTERM', 30_000);
      if (second) {
        await new Promise((r) => setTimeout(r, 300));
        node.child.kill('SIGINT');
      }
      assert.equal(await stopped, 0, node.stderr().slice(-2000));
      const took = Date.now() - started;
      assert.ok(took < 5000, `stopped after ${took} ms`);
      await assert.rejects(assoc.echo(), 'the association was aborted');
      if (second) assert.match(node.stderr(), /second signal/);
    }
  });
});
