/**
 * DicomServer association limits: in total and per remote address (A-ASSOCIATE-RJ transient,
 * local limit exceeded), and connections waiting to become associations (closed at once).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { AssociationRejectedError } from '../../src/network/errors.js';
import { requestAssociation } from '../../src/network/requestor.js';
import { AdmissionRefusedError } from '../../src/services/admission.js';
import { type Association, connect } from '../../src/services/client.js';
import { SopClass } from '../../src/services/sop-classes.js';
import { hasDcmtk, run } from '../helpers/dcmtk.js';
import {
  clientTls,
  dcmtkTlsEcho,
  dicomnetEcho,
  ECHO_CONTEXTS,
  eventually,
  makeServicePki,
  pdu,
  rawSocket,
  readUntilClosed,
  scratch,
  startServer,
} from './helpers.js';

function open(port: number): Promise<Association> {
  return connect({ host: '127.0.0.1', port, calledAet: 'DICOMNET', contexts: ECHO_CONTEXTS });
}

function isLocalLimit(err: unknown): boolean {
  return err instanceof AssociationRejectedError && err.result === 2 && err.source === 3 && err.reason === 2;
}

describe('association limits', () => {
  test('maxAssociations: the one too many is rejected (transient, local limit exceeded) until one ends', async () => {
    const { server, port } = await startServer({ maxAssociations: 2 });
    try {
      const a = await open(port);
      const b = await open(port);
      const err = await open(port).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isLocalLimit(err), String(err));
      assert.match(String(err), /local limit exceeded/i);
      if (hasDcmtk()) {
        const r = await run('echoscu', ['-aec', 'DICOMNET', '127.0.0.1', String(port)]);
        assert.notEqual(r.code, 0);
        assert.match(r.stdout + r.stderr, /Local Limit Exceeded/i);
      }
      await a.echo();
      await a.release();
      await eventually(() => server.activeAssociations === 1, 'one association left');
      await dicomnetEcho(port);
      await b.release();
    } finally {
      await server.close();
    }
  });

  test('maxAssociations holds when many requests arrive at once', async () => {
    const { server, port } = await startServer({ maxAssociations: 3 });
    try {
      const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => open(port)));
      const ok = attempts.filter((r): r is PromiseFulfilledResult<Association> => r.status === 'fulfilled');
      assert.equal(ok.length, 3);
      for (const r of attempts)
        if (r.status === 'rejected') assert.ok(isLocalLimit(r.reason), String(r.reason));
      await Promise.all(ok.map((r) => r.value.release()));
      await eventually(() => server.activeAssociations === 0, 'all released');
    } finally {
      await server.close();
    }
  });

  test('maxAssociationsPerAddress: a second association from the same address is rejected', async () => {
    const rejections: string[] = [];
    const { server, port } = await startServer({ maxAssociationsPerAddress: 1, maxAssociations: 10 });
    server.on('associationRejected', (r: { message: string }) => rejections.push(r.message));
    try {
      const a = await open(port);
      const err = await open(port).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isLocalLimit(err), String(err));
      assert.match(
        rejections[0] ?? '',
        /1 associations running from 127\.0\.0\.1 \(maxAssociationsPerAddress 1\)/,
      );
      await a.release();
      await eventually(() => server.activeAssociations === 0, 'released');
      await dicomnetEcho(port);
    } finally {
      await server.close();
    }
  });

  test('a rejected or failed negotiation gives its slot back', async () => {
    const { server, port } = await startServer({
      maxAssociations: 1,
      onAssociationRequest: (rq) =>
        rq.callingAet === 'NOPE' ? { result: 1, source: 1, reason: 3 } : { accept: true },
    });
    try {
      for (let i = 0; i < 3; i++) {
        await assert.rejects(
          connect({
            host: '127.0.0.1',
            port,
            callingAet: 'NOPE',
            calledAet: 'DICOMNET',
            contexts: ECHO_CONTEXTS,
          }),
          AssociationRejectedError,
        );
      }
      assert.equal(server.activeAssociations, 0);
      await dicomnetEcho(port);
    } finally {
      await server.close();
    }
  });

  test('close(grace) ends idle associations when the grace period is over', async () => {
    const { server, port } = await startServer();
    const idle = await open(port);
    const closed = new Promise<void>((resolve) => server.once('associationClosed', () => resolve()));
    const started = Date.now();
    await server.close(300);
    const ms = Date.now() - started;
    assert.ok(ms >= 250 && ms < 3000, `closed after ${ms} ms`);
    await closed;
    await assert.rejects(idle.echo());
  });

  test('close() with no grace ends a running association at once', async () => {
    const { server, port } = await startServer();
    await open(port);
    const started = Date.now();
    await server.close();
    assert.ok(Date.now() - started < 1000);
  });
});

describe('maxPendingConnections', () => {
  /** A connection the server closes at once, having sent nothing. */
  async function refusedAtOnce(socket: Socket): Promise<void> {
    const started = Date.now();
    const { bytes, closed } = await readUntilClosed(socket, 3000);
    assert.ok(closed, 'the connection over the limit is closed');
    assert.equal(bytes.length, 0, 'nothing is sent to it');
    assert.ok(Date.now() - started < 1000, `closed after ${Date.now() - started} ms`);
  }

  test('plain: the connection over the limit is closed at once; accepted and rejected requests, and closed sockets, free their slot', async () => {
    const { server, port } = await startServer({ maxPendingConnections: 3, timeoutMs: 30_000 });
    const refusals: unknown[] = [];
    server.on('connectionError', (err: unknown) => {
      if (err instanceof AdmissionRefusedError) refusals.push(err);
    });
    const idle: Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) idle.push(await rawSocket(port));
      await eventually(() => server.pendingConnections === 3, 'three pending connections');
      await refusedAtOnce(await rawSocket(port));
      const refused = refusals[0];
      assert.ok(refused instanceof AdmissionRefusedError);
      assert.equal(refused.code, 'ERR_TOO_MANY_PENDING');
      assert.match(
        refused.message,
        /127\.0\.0\.1 refused: 3 connections already waiting to become associations \(maxPendingConnections 3\)/,
      );
      // a good requestor is refused too while the slots are taken
      await assert.rejects(dicomnetEcho(port));
      assert.equal(refusals.length, 2);

      // one pending connection becomes an association: its slot is free, though it stays open
      const becomes = idle.shift() as Socket;
      const channel = await requestAssociation(becomes, {
        callingAet: 'GOODSCU',
        calledAet: 'DICOMNET',
        contexts: [{ abstractSyntax: SopClass.Verification, transferSyntaxes: ['1.2.840.10008.1.2'] }],
      });
      assert.equal(server.pendingConnections, 2);
      await dicomnetEcho(port);

      // the idle ones go away: their slots come back
      for (const s of idle) s.destroy();
      await eventually(() => server.pendingConnections === 0, 'no pending connection left');
      // rejected requests give their slot back as well
      for (let i = 0; i < 5; i++) {
        await assert.rejects(
          connect({ host: '127.0.0.1', port, calledAet: 'NOT-ME', contexts: ECHO_CONTEXTS }),
          AssociationRejectedError,
        );
      }
      await eventually(() => server.pendingConnections === 0, 'rejections leave no pending connection');
      await Promise.all(Array.from({ length: 3 }, () => dicomnetEcho(port)));
      assert.equal(refusals.length, 2, 'nothing else was refused');
      channel.abort();
    } finally {
      for (const s of idle) s.destroy();
      await server.close();
    }
  });

  test('TLS: a connection counts from accept, through its handshake, until its request is decided', async () => {
    const pki = await makeServicePki(scratch('pending-pki'), ['GOODSCU']);
    const { server, port } = await startServer(
      {
        maxPendingConnections: 2,
        timeoutMs: 30_000,
        tls: { key: pki.server.key, cert: pki.server.cert, ca: [pki.ca] },
      },
      { secure: true },
    );
    const codes: string[] = [];
    server.on('connectionError', (err: { code?: string }) => codes.push(String(err.code)));
    const silent = await rawSocket(port);
    const handshaken = await new Promise<Socket>((resolve, reject) => {
      const t = tlsConnect(
        { port, host: '127.0.0.1', ca: [readFileSync(pki.ca, 'utf8')], servername: 'localhost' },
        () => resolve(t as unknown as Socket),
      );
      t.once('error', reject);
    });
    try {
      await eventually(() => server.pendingConnections === 2, 'both pending');
      await refusedAtOnce(await rawSocket(port));
      assert.deepEqual(codes, ['ERR_TOO_MANY_PENDING']);
      silent.destroy();
      handshaken.destroy();
      await eventually(() => server.pendingConnections === 0, 'freed');
      await dicomnetEcho(port, { tls: clientTls(pki, 'GOODSCU') });
      if (hasDcmtk()) await dcmtkTlsEcho(pki, 'GOODSCU', port);
    } finally {
      silent.destroy();
      handshaken.destroy();
      await server.close();
    }
  });
});

describe('maxPendingRequestBytes', () => {
  /** A connection that announces an A-ASSOCIATE-RQ of `length` bytes and sends only part of it. */
  async function partialRequest(port: number, length: number): Promise<Socket> {
    const s = await rawSocket(port);
    s.write(pdu(0x01, Buffer.alloc(64), length));
    return s;
  }

  test('the request that does not fit the shared budget is aborted on its header; the budget comes back when connections end', async () => {
    const { server, port } = await startServer({
      maxPendingRequestBytes: 1024 * 1024,
      hardMaxPduLength: 1024 * 1024,
      timeoutMs: 30_000,
    });
    const errors: string[] = [];
    // holders going away end their connections with errors too: keep the budget refusals
    server.on('connectionError', (err: Error) => {
      if (/maxPendingRequestBytes/.test(err.message)) errors.push(err.message);
    });
    const holders: Socket[] = [];
    try {
      holders.push(await partialRequest(port, 400 * 1024), await partialRequest(port, 400 * 1024));
      await eventually(() => server.pendingConnections === 2, 'two partial requests pending');
      // 800 KiB of 1 MiB taken: a third 400 KiB request does not fit, a small one does
      const refused = await partialRequest(port, 400 * 1024);
      const { bytes, closed } = await readUntilClosed(refused, 3000);
      assert.ok(closed, 'the request over the budget ends its connection');
      assert.equal(bytes[0], 0x07, 'with an A-ABORT');
      assert.equal(bytes[9], 6, 'reason 6 (invalid PDU parameter value)');
      await eventually(() => errors.length === 1, 'the refusal is reported');
      assert.match(
        errors[0] as string,
        /A-ASSOCIATE-RQ of 409600 bytes refused: pending connections already hold 819200 of the 1048576 bytes allowed for association requests \(maxPendingRequestBytes\)/,
      );
      await dicomnetEcho(port);

      for (const s of holders) s.destroy();
      await eventually(() => server.pendingConnections === 0, 'the partial requests are gone');
      // their bytes are back: three 300 KiB requests fit again
      holders.length = 0;
      for (let i = 0; i < 3; i++) holders.push(await partialRequest(port, 300 * 1024));
      await eventually(() => server.pendingConnections === 3, 'three new partial requests pending');
      assert.equal(errors.length, 1, 'nothing else was refused');
      if (hasDcmtk()) {
        const r = await run('echoscu', ['-aec', 'DICOMNET', '127.0.0.1', String(port)]);
        assert.equal(r.code, 0, r.stderr);
      }
    } finally {
      for (const s of holders) s.destroy();
      await server.close();
    }
  });
});
