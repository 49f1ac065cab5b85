/** DicomServer association limits: in total and per remote address (A-ASSOCIATE-RJ transient, local limit exceeded). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AssociationRejectedError } from '../../src/network/errors.js';
import { type Association, connect } from '../../src/services/client.js';
import { hasDcmtk, run } from '../helpers/dcmtk.js';
import { dicomnetEcho, ECHO_CONTEXTS, eventually, startServer } from './helpers.js';

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
