/** The association runs over any connected Duplex: here a TLS socket pair on 127.0.0.1. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  connect as tlsConnect,
  createServer as createTlsServer,
  type Server,
  type TLSSocket,
} from 'node:tls';
import {
  type AssociationChannel,
  acceptAssociation,
  type ChannelCloseReason,
  type Pdv,
  requestAssociation,
} from '../../src/network/index.js';
import { basicPolicy, IMPLICIT_LE, VERIFICATION, within } from './helpers.js';

const skip =
  spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0 ? false : 'openssl not installed';

describe('association over TLS', { skip }, () => {
  let dir: string;
  let server: Server;
  let port: number;
  const accepted: Promise<AssociationChannel>[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dicomnet-net-tls-'));
    const r = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1'].concat([
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ]),
      { stdio: 'ignore' },
    );
    assert.equal(r.status, 0, 'openssl req');
    server = createTlsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (socket: TLSSocket) => {
        accepted.push(acceptAssociation(socket, basicPolicy({ maxPduLength: 8192 })));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('negotiate, send 2 MiB fragmented to the acceptor max of 8 KiB, release', async () => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      ca: readFileSync(join(dir, 'cert.pem')),
      servername: 'localhost',
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    const channel = await requestAssociation(socket, {
      callingAet: 'TLSSCU',
      calledAet: 'DICOMNET',
      contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
      timeoutMs: 5000,
    });
    const server = await (accepted.at(-1) as Promise<AssociationChannel>);
    assert.equal(channel.maxSendPdvDataLength, 8186);
    const payload = Buffer.alloc(2 * 1024 * 1024, 0x5a);
    let got = 0;
    let largest = 0;
    const done = new Promise<void>((resolve) =>
      server.on('pdvs', (pdvs: Pdv[]) => {
        for (const p of pdvs) {
          got += p.data.length;
          largest = Math.max(largest, p.data.length);
        }
        if (got >= payload.length) resolve();
      }),
    );
    await channel.sendPdvs([{ contextId: 1, command: false, last: true, data: payload }]);
    await within(done, 10_000, '2 MiB over TLS');
    assert.ok(largest <= 8186);
    const closed = new Promise<ChannelCloseReason>((resolve) => server.once('closed', resolve));
    await within(channel.release(), 5000, 'release over TLS');
    assert.deepEqual(await closed, { kind: 'released' });
  });
});
