import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DicomServer } from '../../src/services/server.js';
import { runCli } from '../helpers/cli.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';

/** A TCP listener that counts the connections it gets. */
async function countingListener(): Promise<{ server: Server; port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, port, connections: () => n };
}

describe('CLI exit codes and TLS options as the contract says', () => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-exit-'));
  let pki: TestPki;
  let tlsServer: DicomServer;
  let tlsPort: number;
  let listener: Awaited<ReturnType<typeof countingListener>>;

  before(async () => {
    pki = await makeTestPki(mkdtempSync(join(work, 'pki-')));
    tlsServer = new DicomServer({
      aet: 'DICOMNET',
      acceptAnyCalledAet: true,
      tls: { key: pki.server.key, cert: pki.server.cert, ca: [pki.caCert] },
    });
    tlsPort = (await tlsServer.listen({ port: 0, host: '127.0.0.1' })).port;
    listener = await countingListener();
  });
  after(async () => {
    await tlsServer?.close();
    listener?.server.close();
  });

  test('a TLS option without --tls implies --tls (item 6)', async () => {
    const r = await runCli(['echo', '--ca', pki.caCert, '127.0.0.1', String(tlsPort)]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /succeeded over TLSv1\.[23] /);
  });

  test('a missing --ca / --cert file is a usage error (exit 2) named before any connection is opened (item 7)', async () => {
    const missing = join(work, 'no-such-ca.crt');
    const ca = await runCli(['echo', '--tls', '--ca', missing, '127.0.0.1', String(listener.port)]);
    assert.equal(ca.code, 2, ca.stderr);
    assert.equal(ca.stderr, `dicomnet: no such file: ${missing} (--ca)\n`);
    const cert = await runCli([
      ...['echo', '--key', pki.client.key, '--cert', join(work, 'client.crt'), '--ca', pki.caCert],
      ...['127.0.0.1', String(listener.port)],
    ]);
    assert.equal(cert.code, 2, cert.stderr);
    assert.match(cert.stderr, /^dicomnet: no such file: .*client\.crt \(--cert\)\n$/);
    assert.equal(listener.connections(), 0, 'no connection was opened');
  });

  test('serve on a taken port exits 3 naming the port (item 7)', async () => {
    const r = await runCli(
      [
        'serve',
        ...['--host', '127.0.0.1', '--port', String(listener.port), '--tls-port', 'off'],
        ...['--storage', join(work, 'storage')],
      ],
      { cwd: work, timeoutMs: 30_000 },
    );
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, new RegExp(`^dicomnet: port ${listener.port} is already in use`, 'm'));
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  });
});
