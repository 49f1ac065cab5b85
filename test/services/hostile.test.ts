/**
 * A DicomServer under hostile input: every case ends one connection and nothing
 * else — afterwards a good association (dicomnet and DCMTK echoscu, plain and TLS)
 * still succeeds and no temporary file is left in tempDir.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { encodeCommandSet } from '../../src/dimse/command-set.js';
import { CommandField, Status } from '../../src/dimse/index.js';
import type { ChannelCloseReason } from '../../src/network/channel.js';
import { requestAssociation } from '../../src/network/requestor.js';
import { connect } from '../../src/services/client.js';
import type { DicomServer } from '../../src/services/server.js';
import type { TlsOptions } from '../../src/tls/types.js';
import {
  ECHO_CONTEXTS,
  eventually,
  filesIn,
  goodAssociationsStillWork,
  makeServicePki,
  pdu,
  rawSocket,
  readUntilClosed,
  type ServicePki,
  scratch,
  startServer,
} from './helpers.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** A-ABORT PDU bytes: 07 00 <len 4> 00 00 source reason. */
function isAbort(bytes: Buffer): boolean {
  return bytes.length >= 10 && bytes[0] === 0x07 && bytes.readUInt32BE(2) === 4;
}

describe('DicomServer under hostile input', () => {
  let server: DicomServer;
  let port: number;
  let tlsPort: number;
  let tempDir: string;
  let pki: ServicePki;
  let clientTls: TlsOptions;
  let echoscuTls: string[];
  const errors: { code?: string; message: string }[] = [];
  let stored = 0;

  before(async () => {
    pki = await makeServicePki(scratch('pki'), ['GOODSCU']);
    const started = await startServer(
      {
        timeoutMs: 1500,
        maxPduLength: 65536,
        tls: { key: pki.server.key, cert: pki.server.cert, ca: [pki.ca] },
        handlers: {
          store: async () => {
            stored++;
            return Status.Success;
          },
        },
      },
      { secure: false },
    );
    ({ server, port, tempDir } = started);
    tlsPort = (await server.listen({ port: 0, host: '127.0.0.1', secure: true })).port;
    server.on('connectionError', (err: Error & { code?: string }) =>
      errors.push({ code: err.code, message: err.message }),
    );
    const c = pki.clients.GOODSCU as { key: string; cert: string };
    clientTls = { key: c.key, cert: c.cert, ca: [pki.ca] };
    echoscuTls = ['+tls', c.key, c.cert, '+cf', pki.ca];
  });

  after(async () => {
    await server?.close();
  });

  async function stillServing(): Promise<void> {
    await goodAssociationsStillWork(port);
    await goodAssociationsStillWork(tlsPort, { tls: clientTls, echoscuTls });
    await eventually(
      () => filesIn(tempDir).length === 0,
      `no temp file left in ${tempDir}: ${filesIn(tempDir)}`,
    );
  }

  async function lastError(): Promise<{ code?: string; message: string }> {
    await eventually(() => errors.length > 0, 'a connectionError event');
    return errors[errors.length - 1] as { code?: string; message: string };
  }

  test('garbage bytes: the connection is dropped', async () => {
    errors.length = 0;
    const s = await rawSocket(port);
    const garbage = randomBytes(2000);
    garbage[0] = 0xff; // not a PDU type
    s.write(garbage);
    const { closed } = await readUntilClosed(s);
    assert.ok(closed, 'the server closes the connection');
    assert.match((await lastError()).message, /unknown PDU type FFH/i);
    await stillServing();
  });

  test('a PDU header announcing 4 GiB is refused before any body byte is buffered', async () => {
    errors.length = 0;
    for (const type of [0x01, 0x04]) {
      const s = await rawSocket(port);
      const before = process.memoryUsage().rss;
      s.write(pdu(type, randomBytes(1024), 0xffffffff));
      const { closed } = await readUntilClosed(s);
      assert.ok(closed);
      assert.ok(process.memoryUsage().rss - before < 64 * 2 ** 20, 'nothing near 4 GiB was allocated');
    }
    assert.match((await lastError()).message, /PDU length 4294967295 exceeds max/);
    await stillServing();
  });

  test('an unknown PDU type is answered with A-ABORT', async () => {
    errors.length = 0;
    const s = await rawSocket(port);
    s.write(pdu(0x0a, Buffer.alloc(8)));
    const { bytes, closed } = await readUntilClosed(s);
    assert.ok(closed);
    assert.ok(isAbort(bytes), `A-ABORT expected, got ${bytes.toString('hex')}`);
    assert.match((await lastError()).message, /unknown PDU type 0AH/i);
    await stillServing();
  });

  test('P-DATA-TF before the association is answered with A-ABORT', async () => {
    errors.length = 0;
    const s = await rawSocket(port);
    const pdv = Buffer.alloc(4 + 2 + 10);
    pdv.writeUInt32BE(12, 0);
    pdv[4] = 1;
    pdv[5] = 0x03;
    s.write(pdu(0x04, pdv));
    const { bytes, closed } = await readUntilClosed(s);
    assert.ok(closed);
    assert.ok(isAbort(bytes), `A-ABORT expected, got ${bytes.toString('hex')}`);
    await stillServing();
  });

  test('abrupt disconnect in the middle of an A-ASSOCIATE-RQ', async () => {
    const s = await rawSocket(port);
    s.write(pdu(0x01, Buffer.alloc(40), 300)); // announces 300 bytes, sends 40
    await new Promise((r) => setTimeout(r, 50));
    s.destroy();
    await stillServing();
  });

  test('abrupt disconnect in the middle of a C-STORE data set leaves no temp file', async () => {
    const socket = await rawSocket(port);
    const channel = await requestAssociation(socket, {
      callingAet: 'HOSTILE',
      calledAet: 'DICOMNET',
      contexts: [{ abstractSyntax: CT, transferSyntaxes: [EXPLICIT_LE] }],
    });
    const ctx = [...channel.negotiated.contexts.values()][0];
    assert.equal(ctx?.result, 0);
    const command = encodeCommandSet({
      commandField: CommandField.C_STORE_RQ,
      messageId: 1,
      affectedSopClassUid: CT,
      affectedSopInstanceUid: '2.25.1234',
      priority: 0,
      hasDataset: true,
    });
    await channel.sendPdvs([{ contextId: ctx.id, command: true, last: true, data: command }]);
    await channel.sendPdvs([{ contextId: ctx.id, command: false, last: false, data: Buffer.alloc(30_000) }]);
    await eventually(() => filesIn(tempDir).length === 1, 'the instance being received in tempDir');
    // half a P-DATA-TF, then the connection is gone
    socket.write(pdu(0x04, Buffer.alloc(1000), 20_000));
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await stillServing();
    assert.equal(stored, 0, 'the store handler never saw the truncated instance');
  });

  test('idle connection before A-ASSOCIATE-RQ: closed by the ARTIM timer', async () => {
    const s = await rawSocket(port);
    const started = Date.now();
    const { closed } = await readUntilClosed(s, 5000);
    assert.ok(closed, 'the server closes a silent connection');
    assert.ok(Date.now() - started < 4000);
    await stillServing();
  });

  test('plaintext and garbage on the TLS port are refused and named', async () => {
    errors.length = 0;
    const s = await rawSocket(tlsPort);
    s.write(randomBytes(64).fill(0x42, 0, 1));
    await readUntilClosed(s);
    assert.equal((await lastError()).code, 'ERR_TLS_NOT_TLS');
    errors.length = 0;
    const p = await rawSocket(tlsPort);
    p.write(pdu(0x01, Buffer.alloc(68)));
    await readUntilClosed(p);
    assert.equal((await lastError()).code, 'ERR_TLS_PLAINTEXT_ON_TLS_PORT');
    await stillServing();
  });

  /**
   * A relay between a TLS client and the server that forwards the ClientHello and
   * then, on the server's first flight, drops both sides (`cut`) or goes silent.
   */
  async function halfHandshake(mode: 'cut' | 'silent'): Promise<void> {
    const relay: Server = createServer((client: Socket) => {
      const upstream = netConnect({ port: tlsPort, host: '127.0.0.1' });
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
      client.on('data', (d: Buffer) => upstream.write(d));
      upstream.once('data', () => {
        if (mode === 'cut') {
          upstream.destroy();
          client.destroy();
        }
      });
      upstream.once('close', () => client.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const address = relay.address();
    const relayPort = typeof address === 'object' && address ? address.port : 0;
    await new Promise<void>((resolve) => {
      const t = tlsConnect({ port: relayPort, host: '127.0.0.1', rejectUnauthorized: false });
      t.on('error', () => resolve());
      t.on('close', () => resolve());
    });
    await new Promise<void>((r) => relay.close(() => r()));
  }

  test('a TLS handshake abandoned halfway (connection cut after the ServerHello)', async () => {
    errors.length = 0;
    await halfHandshake('cut');
    assert.match((await lastError()).code ?? '', /^ERR_TLS_/);
    await stillServing();
  });

  test('a TLS handshake that stalls after the ClientHello times out', async () => {
    errors.length = 0;
    const started = Date.now();
    await halfHandshake('silent');
    const err = await lastError();
    assert.equal(err.code, 'ERR_TLS_HANDSHAKE_TIMEOUT', err.message);
    assert.ok(Date.now() - started < 4000);
    await stillServing();
  });

  test('an idle association is aborted after idleTimeoutMs and the server keeps serving', async () => {
    const idle = await startServer({ idleTimeoutMs: 300 });
    try {
      const assoc = await connect({
        host: '127.0.0.1',
        port: idle.port,
        calledAet: 'DICOMNET',
        contexts: ECHO_CONTEXTS,
      });
      await assoc.echo();
      const closed = new Promise<ChannelCloseReason>((resolve) => {
        idle.server.once('associationClosed', (_info, reason: ChannelCloseReason) => resolve(reason));
      });
      const started = Date.now();
      const reason = await closed;
      assert.equal(reason.kind, 'aborted');
      assert.ok(Date.now() - started >= 250, 'not before the idle timeout');
      await assert.rejects(assoc.echo());
      await goodAssociationsStillWork(idle.port);
      assert.deepEqual(filesIn(idle.tempDir), []);
    } finally {
      await idle.server.close();
    }
  });

  test('the server counted no association left over', async () => {
    await eventually(() => server.activeAssociations === 0, 'activeAssociations back to 0');
  });
});
