/** Requestor ↔ acceptor in-process over real TCP sockets on 127.0.0.1. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  type AssociationChannel,
  AssociationAbortedError,
  AssociationRejectedError,
  type ChannelCloseReason,
  connectTcp,
  encodePdu,
  emptyUserInformation,
  NetworkError,
  type Pdv,
} from '../../src/network/index.js';
import {
  associate,
  basicPolicy,
  CT_STORAGE,
  EXPLICIT_LE,
  IMPLICIT_LE,
  JPEG_BASELINE,
  rawExchange,
  startAcceptor,
  type TestAcceptor,
  VERIFICATION,
  within,
} from './helpers.js';

function closedOf(channel: AssociationChannel): Promise<ChannelCloseReason> {
  return new Promise((resolve) => channel.once('closed', resolve));
}

/** Collect PDVs until `total` data bytes arrived with a last fragment. */
function receiveBytes(channel: AssociationChannel, total: number): Promise<{ data: Buffer; pdvs: Pdv[] }> {
  return new Promise((resolve) => {
    const pdvs: Pdv[] = [];
    let got = 0;
    const on = (batch: Pdv[]): void => {
      for (const p of batch) {
        pdvs.push({ ...p, data: Buffer.from(p.data) });
        got += p.data.length;
      }
      if (got >= total && pdvs.at(-1)?.last) {
        channel.off('pdvs', on);
        resolve({ data: Buffer.concat(pdvs.map((p) => p.data)), pdvs });
      }
    };
    channel.on('pdvs', on);
  });
}

function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

const abortBytes = (source: number, reason: number): Buffer => encodePdu({ type: 'A-ABORT', source, reason });

describe('association negotiation', () => {
  let acceptor: TestAcceptor;
  before(async () => {
    acceptor = await startAcceptor(() =>
      basicPolicy({
        maxPduLength: 1024 * 1024,
        maxOperationsInvoked: 2,
        maxOperationsPerformed: 10,
        roleSelection: (_uid, proposed) => ({ scu: proposed.scu, scp: proposed.scp }),
        userIdentity: (id) => (id.primaryField.toString() === 'mallory' ? false : Buffer.from('welcome')),
      }),
    );
  });
  after(() => acceptor.close());

  test('per-context results: accepted with our preferred syntax, 4 no common syntax, 3 unknown abstract syntax', async () => {
    const [channel, server] = await Promise.all([
      associate(acceptor.port, {
        contexts: [
          { abstractSyntax: VERIFICATION, transferSyntaxes: [EXPLICIT_LE, IMPLICIT_LE] },
          { abstractSyntax: CT_STORAGE, transferSyntaxes: [JPEG_BASELINE] },
          { abstractSyntax: '1.2.3.4.5', transferSyntaxes: [IMPLICIT_LE] },
        ],
      }),
      acceptor.nextChannel(),
    ]);
    for (const side of [channel, server]) {
      const c = side.negotiated.contexts;
      assert.deepEqual(c.get(1), {
        id: 1,
        abstractSyntax: VERIFICATION,
        result: 0,
        transferSyntax: IMPLICIT_LE,
        requestorIsScu: true,
        requestorIsScp: false,
      });
      assert.equal(c.get(3)?.result, 4);
      assert.equal(c.get(3)?.transferSyntax, undefined);
      assert.equal(c.get(5)?.result, 3);
    }
    assert.equal(server.negotiated.callingAet, 'TESTSCU');
    assert.equal(channel.negotiated.peerImplementationVersionName, 'DICOMNET_010');
    await channel.release();
  });

  test('no context accepted: still an A-ASSOCIATE-AC listing the rejections (as DCMTK)', async () => {
    const [channel] = await Promise.all([
      associate(acceptor.port, { contexts: [{ abstractSyntax: '1.2.3', transferSyntaxes: [IMPLICIT_LE] }] }),
      acceptor.nextChannel(),
    ]);
    assert.equal(channel.negotiated.contexts.get(1)?.result, 3);
    await channel.release();
  });

  test('unknown called AE title: AssociationRejectedError reason 7 with its name', async () => {
    const err = await associate(acceptor.port, { calledAet: 'NOBODY' }).catch((e: unknown) => e);
    assert.ok(err instanceof AssociationRejectedError);
    assert.equal(err.code, 'ERR_ASSOCIATION_REJECTED');
    assert.equal(err.kind, 'network');
    assert.deepEqual([err.result, err.source, err.reason], [1, 1, 7]);
    assert.equal(err.message, 'association rejected: called AE title not recognized (reason 7)');
    assert.ok((await acceptor.nextFailure()) instanceof AssociationRejectedError);
  });

  test('async operations window > 1 negotiated per PS3.7 D.3.3.3', async () => {
    const [channel, server] = await Promise.all([
      associate(acceptor.port, { asyncOps: { invoked: 5, performed: 3 } }),
      acceptor.nextChannel(),
    ]);
    // Acceptor answers invoked = min(2, rq.performed 3) = 2, performed = min(10, rq.invoked 5) = 5.
    assert.deepEqual(
      [server.negotiated.maxOperationsInvoked, server.negotiated.maxOperationsPerformed],
      [2, 5],
    );
    assert.deepEqual(
      [channel.negotiated.maxOperationsInvoked, channel.negotiated.maxOperationsPerformed],
      [5, 2],
    );
    await channel.release();
  });

  test('SCP/SCU role selection and user identity (username + passcode, positive response)', async () => {
    const [channel, server] = await Promise.all([
      associate(acceptor.port, {
        contexts: [
          { abstractSyntax: CT_STORAGE, transferSyntaxes: [IMPLICIT_LE], scuRole: true, scpRole: true },
        ],
        userIdentity: {
          type: 2,
          primaryField: 'alice',
          secondaryField: 's3cret',
          positiveResponseRequested: true,
        },
      }),
      acceptor.nextChannel(),
    ]);
    for (const side of [channel, server]) {
      assert.equal(side.negotiated.contexts.get(1)?.requestorIsScp, true);
      assert.equal(side.negotiated.contexts.get(1)?.requestorIsScu, true);
    }
    assert.equal(channel.negotiated.userIdentityResponse?.toString(), 'welcome');
    assert.equal(server.negotiated.userIdentity?.type, 2);
    assert.equal(server.negotiated.userIdentity?.primaryField.toString(), 'alice');
    assert.equal(server.negotiated.userIdentity?.secondaryField?.toString(), 's3cret');
    await channel.release();
  });

  test('user identity refused by the policy: rejected (permanent, service user, no reason)', async () => {
    const err = await associate(acceptor.port, { userIdentity: { type: 1, primaryField: 'mallory' } }).catch(
      (e: unknown) => e,
    );
    assert.ok(err instanceof AssociationRejectedError);
    assert.deepEqual([err.result, err.source, err.reason], [1, 1, 1]);
    await acceptor.nextFailure();
  });
});

describe('hook and calling AE checks', () => {
  test('onAssociationRequest can reject (transient, local limit) and calling AE check gives reason 3', async () => {
    const acceptor = await startAcceptor(() =>
      basicPolicy({
        callingAets: ['TESTSCU', 'BUSY'],
        onAssociationRequest: (rq) =>
          rq.callingAet === 'BUSY' ? { result: 2, source: 3, reason: 2 } : { accept: true },
      }),
    );
    try {
      const busy = await associate(acceptor.port, { callingAet: 'BUSY' }).catch((e: unknown) => e);
      assert.ok(busy instanceof AssociationRejectedError);
      assert.equal(busy.message, 'association rejected (transient): local limit exceeded (reason 2)');
      const stranger = await associate(acceptor.port, { callingAet: 'STRANGER' }).catch((e: unknown) => e);
      assert.ok(stranger instanceof AssociationRejectedError);
      assert.equal(stranger.message, 'association rejected: calling AE title not recognized (reason 3)');
    } finally {
      await acceptor.close();
    }
  });
});

describe('data transfer', () => {
  let acceptor: TestAcceptor;
  before(async () => {
    acceptor = await startAcceptor(() => basicPolicy({ maxPduLength: 1024 * 1024 }));
  });
  after(() => acceptor.close());

  test('max PDU 4096 (requestor) vs 1 MiB (acceptor): large PDVs fragmented to each peer maximum', async () => {
    const [channel, server] = await Promise.all([
      associate(acceptor.port, { maxPduLength: 4096 }),
      acceptor.nextChannel(),
    ]);
    assert.equal(channel.negotiated.peerMaxPduLength, 1024 * 1024);
    assert.equal(server.negotiated.peerMaxPduLength, 4096);
    assert.equal(server.maxSendPdvDataLength, 4090);
    assert.equal(channel.maxSendPdvDataLength, 1024 * 1024 - 6);

    const up = pattern(3 * 1024 * 1024 + 17);
    const upReceived = receiveBytes(server, up.length);
    await channel.sendPdvs([{ contextId: 1, command: false, last: true, data: up }]);
    const got = await within(upReceived, 10_000, 'upload');
    assert.ok(got.data.equals(up));
    assert.ok(got.pdvs.every((p) => p.data.length <= 1024 * 1024 - 6));
    assert.equal(got.pdvs.filter((p) => p.last).length, 1);

    const down = pattern(200_000);
    const downReceived = receiveBytes(channel, down.length);
    await server.sendPdvs([
      { contextId: 1, command: true, last: true, data: Buffer.from([1, 2, 3]) },
      { contextId: 1, command: false, last: true, data: down },
    ]);
    const got2 = await within(downReceived, 10_000, 'download');
    assert.ok(got2.data.subarray(3).equals(down));
    assert.ok(got2.pdvs.every((p) => p.data.length <= 4090));
    await channel.release();
  });

  test('pause stops delivery until resume; sendPdvs resolves under backpressure', async () => {
    const [channel, server] = await Promise.all([associate(acceptor.port), acceptor.nextChannel()]);
    let delivered = 0;
    server.on('pdvs', (pdvs) => {
      for (const p of pdvs) delivered += p.data.length;
    });
    server.pause();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      sends.push(channel.sendPdvs([{ contextId: 1, command: false, last: true, data: pattern(60_000) }]));
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(delivered, 0, 'nothing delivered while paused');
    server.resume();
    await within(Promise.all(sends), 10_000, 'all sends');
    await within(
      (async () => {
        while (delivered < 200 * 60_000) await new Promise((r) => setTimeout(r, 10));
      })(),
      10_000,
      'delivery after resume',
    );
    await channel.release();
  });
});

describe('release and abort', () => {
  let acceptor: TestAcceptor;
  before(async () => {
    acceptor = await startAcceptor(() => basicPolicy());
  });
  after(() => acceptor.close());

  test('release requested by the requestor', async () => {
    const [channel, server] = await Promise.all([associate(acceptor.port), acceptor.nextChannel()]);
    let asked = false;
    server.on('releaseRequested', () => {
      asked = true;
      server.respondRelease();
    });
    const serverClosed = closedOf(server);
    const clientClosed = closedOf(channel);
    await channel.release();
    assert.ok(asked);
    assert.deepEqual(await clientClosed, { kind: 'released' });
    assert.deepEqual(await serverClosed, { kind: 'released' });
  });

  test('release requested by the acceptor', async () => {
    const [channel, server] = await Promise.all([associate(acceptor.port), acceptor.nextChannel()]);
    const clientClosed = closedOf(channel);
    await within(server.release(), 5000, 'acceptor release');
    assert.deepEqual(await clientClosed, { kind: 'released' });
  });

  test('release collision (Sta9–Sta12): both sides release at once and both complete', async () => {
    const [channel, server] = await Promise.all([associate(acceptor.port), acceptor.nextChannel()]);
    const a = closedOf(channel);
    const b = closedOf(server);
    await within(Promise.all([channel.release(), server.release()]), 5000, 'collided releases');
    assert.deepEqual(await a, { kind: 'released' });
    assert.deepEqual(await b, { kind: 'released' });
  });

  test('abort by the requestor: acceptor sees source 0 from the peer', async () => {
    const [channel, server] = await Promise.all([associate(acceptor.port), acceptor.nextChannel()]);
    const serverClosed = closedOf(server);
    const clientClosed = closedOf(channel);
    channel.abort();
    const r = await within(serverClosed, 5000, 'acceptor closed');
    assert.equal(r.kind, 'aborted');
    assert.ok(r.kind === 'aborted' && r.byPeer && r.source === 0);
    const c = await clientClosed;
    assert.ok(c.kind === 'aborted' && !c.byPeer);
    await assert.rejects(
      channel.sendPdvs([{ contextId: 1, command: true, last: true, data: Buffer.alloc(2) }]),
      {
        code: 'ERR_ASSOCIATION_ABORTED',
      },
    );
  });

  test('abort by the acceptor: requestor sees it, pending release rejects with AssociationAbortedError', async () => {
    const [channel, server] = await Promise.all([associate(acceptor.port), acceptor.nextChannel()]);
    server.on('releaseRequested', () => server.abort(0));
    const err = await channel.release().catch((e: unknown) => e);
    assert.ok(err instanceof AssociationAbortedError);
    assert.equal(err.byPeer, true);
    assert.match(err.message, /aborted by peer \(service user/);
  });
});

describe('bad input and timeouts', () => {
  let acceptor: TestAcceptor;
  before(async () => {
    acceptor = await startAcceptor(() => basicPolicy({ timeoutMs: 300 }));
  });
  after(() => acceptor.close());

  test('malformed A-ASSOCIATE-RQ: A-ABORT (provider, reason 6) and the server keeps serving', async () => {
    const rq = Buffer.from(
      encodePdu({
        type: 'A-ASSOCIATE-RQ',
        protocolVersion: 1,
        calledAet: 'DICOMNET',
        callingAet: 'X',
        applicationContext: '1.2.840.10008.3.1.1.1',
        presentationContexts: [],
        userInfo: emptyUserInformation(),
      }),
    );
    rq.writeUInt16BE(5000, 74 + 2); // application context item length runs past the PDU
    const reply = await rawExchange(acceptor.port, rq);
    assert.deepEqual(reply, abortBytes(2, 6));
    const err = await acceptor.nextFailure();
    assert.ok(err instanceof AssociationAbortedError);
    assert.match(
      err.message,
      /A-ASSOCIATE-RQ item 10H \(application context\) of length 5000 needs 5000 bytes/,
    );
    const [channel] = await Promise.all([associate(acceptor.port), acceptor.nextChannel()]);
    await channel.release();
  });

  test('PDU announcing 4 GiB: aborted (reason 6) without allocating', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const reply = await rawExchange(
      acceptor.port,
      Buffer.from([0x01, 0, 0xff, 0xff, 0xff, 0xff, 0, 1, 0, 0]),
    );
    assert.deepEqual(reply, abortBytes(2, 6));
    const err = await acceptor.nextFailure();
    assert.match(err.message, /PDU length 4294967295 exceeds max 16 MiB/);
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024);
  });

  test('P-DATA-TF before association: A-ABORT source 2 reason 2 (unexpected PDU)', async () => {
    const pdata = encodePdu({
      type: 'P-DATA-TF',
      pdvs: [{ contextId: 1, command: true, last: true, data: Buffer.alloc(4) }],
    });
    const reply = await rawExchange(acceptor.port, pdata);
    assert.deepEqual(reply, abortBytes(2, 2));
    await acceptor.nextFailure();
  });

  test('unknown PDU type: A-ABORT source 2 reason 1 (unrecognized PDU)', async () => {
    const reply = await rawExchange(acceptor.port, Buffer.from([0x0b, 0, 0, 0, 0, 0]));
    assert.deepEqual(reply, abortBytes(2, 1));
    await acceptor.nextFailure();
  });

  test('PDV on a context that was not accepted: A-ABORT reason 6', async () => {
    const [channel, server] = await Promise.all([associate(acceptor.port), acceptor.nextChannel()]);
    const closed = closedOf(channel);
    const serverClosed = closedOf(server);
    // Bypass the channel: write a P-DATA-TF for context 99 straight onto the requestor's socket.
    const raw = (channel as unknown as { stream: import('node:stream').Duplex }).stream;
    raw.write(
      encodePdu({
        type: 'P-DATA-TF',
        pdvs: [{ contextId: 99, command: true, last: true, data: Buffer.alloc(2) }],
      }),
    );
    const c = await within(closed, 5000, 'requestor closed');
    assert.ok(c.kind === 'aborted' && c.byPeer && c.source === 2 && c.reason === 6);
    const s = await serverClosed;
    assert.ok(s.kind === 'aborted' && s.message.includes('presentation context 99'));
  });

  test('P-DATA-TF longer than our negotiated max (4096): we abort with reason 6', async () => {
    const [channel, server] = await Promise.all([
      associate(acceptor.port, { maxPduLength: 4096 }),
      acceptor.nextChannel(),
    ]);
    const closed = closedOf(channel);
    const serverClosed = closedOf(server);
    const raw = (server as unknown as { stream: import('node:stream').Duplex }).stream;
    raw.write(
      encodePdu({
        type: 'P-DATA-TF',
        pdvs: [{ contextId: 1, command: false, last: true, data: Buffer.alloc(8000) }],
      }),
    );
    const c = await within(closed, 5000, 'requestor closed');
    assert.ok(c.kind === 'aborted' && !c.byPeer && c.source === 2 && c.reason === 6);
    assert.match(c.message, /P-DATA-TF length 8006 exceeds the negotiated max 4096/);
    const s = await serverClosed;
    assert.ok(s.kind === 'aborted' && s.byPeer && s.source === 2 && s.reason === 6);
  });

  test('ARTIM: a connection that never sends A-ASSOCIATE-RQ is closed', async () => {
    const failure = acceptor.nextFailure();
    const reply = await rawExchange(acceptor.port, Buffer.alloc(0), 3000);
    assert.equal(reply.length, 0);
    const err = await failure;
    assert.ok(err instanceof NetworkError);
    assert.equal(err.code, 'ERR_ASSOCIATION_TIMEOUT');
  });

  test('idle timeout: an established association without traffic is aborted', async () => {
    const idle = await startAcceptor(() => basicPolicy({ idleTimeoutMs: 150 }));
    try {
      const [channel] = await Promise.all([associate(idle.port), idle.nextChannel()]);
      const r = await within(closedOf(channel), 3000, 'idle abort');
      assert.ok(r.kind === 'aborted' && r.byPeer && r.source === 2 && r.reason === 0);
    } finally {
      await idle.close();
    }
  });

  test('idle timeout: traffic keeps the association open; the abort comes idleTimeoutMs after it stops', async () => {
    const idle = await startAcceptor(() => basicPolicy({ idleTimeoutMs: 150 }));
    try {
      const [channel] = await Promise.all([associate(idle.port), idle.nextChannel()]);
      const closed = closedOf(channel);
      let closedEarly = false;
      void closed.then(() => (closedEarly = true));
      const started = performance.now();
      // the quiet time starts with the last send, not when a (possibly late, on a loaded machine) sleep ends
      let quietFrom = started;
      while (performance.now() - started < 500) {
        await channel.sendPdvs([{ contextId: 1, command: false, last: true, data: Buffer.alloc(16) }]);
        quietFrom = performance.now();
        await new Promise((r) => setTimeout(r, 40));
      }
      assert.equal(closedEarly, false, 'aborted while traffic flowed');
      const r = await within(closed, 3000, 'idle abort');
      assert.ok(r.kind === 'aborted' && r.byPeer && r.source === 2 && r.reason === 0);
      assert.ok(performance.now() - quietFrom >= 100, 'aborted before the association was idle');
    } finally {
      await idle.close();
    }
  });

  test('requestor gives up when no A-ASSOCIATE-AC comes (timeout)', async () => {
    const held = new Set<import('node:net').Socket>();
    const silent = createServer((s) => held.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const err = await associate(port, { timeoutMs: 200 }).catch((e: unknown) => e);
      assert.ok(err instanceof NetworkError);
      assert.equal(err.code, 'ERR_ASSOCIATION_TIMEOUT');
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  test('connectTcp: refused connection named precisely', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    await assert.rejects(connectTcp({ host: '127.0.0.1', port, timeoutMs: 2000 }), {
      name: 'NetworkError',
      code: 'ERR_CONNECTION_REFUSED',
      message: `connection refused to 127.0.0.1:${port}`,
    });
  });
});

describe('requestor parameter errors', () => {
  test('an AE title longer than 16 characters rejects with a usage error before any I/O', async () => {
    const { PassThrough } = await import('node:stream');
    const { requestAssociation } = await import('../../src/network/index.js');
    const stream = new PassThrough();
    await assert.rejects(
      requestAssociation(stream, {
        callingAet: 'A'.repeat(17),
        calledAet: 'B',
        contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
      }),
      { code: 'ERR_AE_TITLE_TOO_LONG', kind: 'usage' },
    );
    assert.equal(stream.readableLength, 0);
  });
});

describe('PDUs arriving together with the A-ASSOCIATE-AC', () => {
  test('a P-DATA-TF in the same TCP chunk as the AC reaches a listener attached after await', async () => {
    const { decodePdu } = await import('../../src/network/index.js');
    const server = createServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        const rq = decodePdu(chunk);
        if (rq.type !== 'A-ASSOCIATE-RQ') return;
        const ui = emptyUserInformation();
        ui.maxLength = 16384;
        const ac = encodePdu({
          type: 'A-ASSOCIATE-AC',
          protocolVersion: 1,
          calledAet: rq.calledAet,
          callingAet: rq.callingAet,
          applicationContext: rq.applicationContext,
          presentationContexts: [{ id: 1, result: 0, transferSyntax: IMPLICIT_LE }],
          userInfo: ui,
        });
        const data = encodePdu({
          type: 'P-DATA-TF',
          pdvs: [{ contextId: 1, command: true, last: true, data: Buffer.from('hello!') }],
        });
        socket.write(Buffer.concat([ac, data]));
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const channel = await associate(port);
    try {
      const got = await within(
        new Promise<Pdv[]>((resolve) => channel.on('pdvs', resolve)),
        2000,
        'P-DATA delivered after the AC',
      );
      assert.equal(got[0]?.data.toString(), 'hello!');
    } finally {
      channel.abort();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('hostile input against a running acceptor', () => {
  test('log line names the cause of an abort', async () => {
    const { createLogger } = await import('../../src/log.js');
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (s: string) => lines.push(s) } });
    const acceptor = await startAcceptor(() => basicPolicy({ logger }));
    try {
      await rawExchange(acceptor.port, Buffer.from([0x01, 0, 0xff, 0xff, 0xff, 0xff]));
      await acceptor.nextFailure();
      assert.ok(
        lines.some((l) => l.includes('PDU length 4294967295 exceeds max 16 MiB')),
        `log lines: ${lines.join('')}`,
      );
    } finally {
      await acceptor.close();
    }
  });

  test('property: random bytes end the connection cleanly and the acceptor keeps serving', async () => {
    const fc = (await import('fast-check')).default;
    const acceptor = await startAcceptor(() => basicPolicy({ timeoutMs: 100 }));
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 9 }),
          fc.uint8Array({ maxLength: 200 }),
          async (type, body) => {
            const header = Buffer.alloc(6);
            header[0] = type;
            header.writeUInt32BE(body.length, 2);
            const reply = await rawExchange(acceptor.port, Buffer.concat([header, body]), 3000);
            // Whatever came back is whole PDUs: an A-ABORT, an A-ASSOCIATE-RJ/AC, or nothing (ARTIM).
            if (reply.length > 0)
              assert.ok([0x02, 0x03, 0x07].includes(reply[0] as number), reply.toString('hex'));
          },
        ),
        { numRuns: 25 },
      );
      const [channel] = await Promise.all([associate(acceptor.port), acceptor.nextChannel()]);
      await channel.release();
    } finally {
      await acceptor.close();
    }
  });
});
