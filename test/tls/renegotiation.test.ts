import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect as tlsConnect, createServer as tlsCreateServer, type TLSSocket } from 'node:tls';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { connectClient, roundTrip, startAcceptor } from './peers.js';

let dir: string;
let pki: TestPki;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dicomnet-tls-reneg-'));
  pki = await makeTestPki(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Ask for a TLS 1.2 renegotiation on `socket`; resolves with the error it ended with, if any. */
function renegotiate(socket: TLSSocket): Promise<Error | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      resolve(err);
    };
    socket.once('error', (err) => done(err));
    socket.once('close', () => done(new Error('closed')));
    const started = socket.renegotiate({ rejectUnauthorized: false }, (err) => done(err ?? undefined));
    if (!started) done(new Error('renegotiation could not start'));
    // the answer to our HelloRequest/ClientHello only comes with traffic
    socket.write('ping');
  });
}

test('the acceptor refuses a client-initiated TLS 1.2 renegotiation and keeps accepting', async (t) => {
  const server = await startAcceptor({ key: pki.server.key, cert: pki.server.cert, ca: pki.caCert });
  t.after(() => server.close());
  // a stock Node client, which would renegotiate if the server let it
  const client = tlsConnect({
    host: '127.0.0.1',
    port: server.port,
    ca: readFileSync(pki.caCert),
    servername: 'localhost',
    maxVersion: 'TLSv1.2',
  });
  await new Promise<void>((resolve, reject) => {
    client.once('secureConnect', resolve);
    client.once('error', reject);
  });
  const outcome = await server.nextOutcome();
  assert.ok('ok' in outcome);
  const err = await renegotiate(client);
  assert.ok(err !== undefined, 'the renegotiation failed');
  client.destroy();
  // the next client is served as usual
  const next = await connectClient(server.port, { ca: pki.caCert, servername: 'localhost' });
  assert.equal(await roundTrip(next.socket, 'still here'), 'still here');
  next.socket.destroy();
});

test('the client refuses a server-initiated TLS 1.2 renegotiation', async (t) => {
  const errors: Error[] = [];
  let serverSide: ((err: Error | undefined) => void) | undefined;
  const refused = new Promise<Error | undefined>((resolve) => {
    serverSide = resolve;
  });
  const server = tlsCreateServer(
    { key: readFileSync(pki.server.key), cert: readFileSync(pki.server.cert), maxVersion: 'TLSv1.2' },
    (socket) => {
      socket.on('error', (err) => errors.push(err));
      void renegotiate(socket).then((err) => serverSide?.(err));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  const client = await connectClient(address.port, { ca: pki.caCert, servername: 'localhost' });
  client.socket.on('data', () => undefined);
  const err = await refused;
  client.socket.destroy();
  assert.ok(err !== undefined, 'the renegotiation failed');
  assert.match(`${err.message} ${(err as NodeJS.ErrnoException).code ?? ''}`, /renegotiation|closed/i);
});
