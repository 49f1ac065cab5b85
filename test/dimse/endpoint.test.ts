import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { test } from 'node:test';
import {
  CommandField,
  type CommandSet,
  DimseChannelClosedError,
  DimseEndpoint,
  DimseRequestCancelled,
  DimseUsageError,
  encodeCommandSet,
  fragment,
  type IncomingMessage,
  type RequestContext,
  Status,
  statusCategory,
} from '../../src/dimse/index.js';
import { endpointPair, MemorySink, tick, until } from './endpoint-helpers.js';
import {
  createChannelPair,
  DEFLATED_STORAGE_CONTEXT,
  FIND_CONTEXT,
  GET_CONTEXT,
  REJECTED_CONTEXT,
  STORAGE_CONTEXT,
  TEST_CONTEXTS,
  VERIFICATION_CONTEXT,
} from './fake-channel.js';

const VERIFICATION = '1.2.840.10008.1.1';
const CT = '1.2.840.10008.5.1.4.1.1.2';
const FIND = '1.2.840.10008.5.1.4.1.2.2.1';
const GET = '1.2.840.10008.5.1.4.1.2.2.3';

function echo(messageId?: number): CommandSet {
  const cmd: CommandSet = {
    commandField: CommandField.C_ECHO_RQ,
    affectedSopClassUid: VERIFICATION,
    hasDataset: false,
  };
  if (messageId !== undefined) cmd.messageId = messageId;
  return cmd;
}

function reply(msg: IncomingMessage, status: number, extra: Partial<CommandSet> = {}): CommandSet {
  return {
    commandField: msg.command.commandField | 0x8000,
    messageIdBeingRespondedTo: msg.command.messageId,
    affectedSopClassUid: msg.command.affectedSopClassUid,
    status,
    hasDataset: false,
    ...extra,
  };
}

test('C-ECHO request/response, with the context syntaxes on the incoming message', async () => {
  let seen: IncomingMessage | undefined;
  const { scu } = endpointPair({
    scp: {
      onRequest: async (msg, ctx) => {
        seen = msg;
        await ctx.respond(reply(msg, Status.Success));
      },
    },
  });
  const id = scu.nextMessageId();
  const rsp = await scu.requestOne({ contextId: VERIFICATION_CONTEXT, command: echo(id) });
  assert.equal(rsp.command.commandField, CommandField.C_ECHO_RSP);
  assert.equal(rsp.command.messageIdBeingRespondedTo, id);
  assert.equal(rsp.command.status, Status.Success);
  assert.equal(rsp.abstractSyntax, VERIFICATION);
  assert.equal(rsp.transferSyntax, '1.2.840.10008.1.2');
  assert.equal(seen?.command.messageId, id);
  assert.equal(seen?.contextId, VERIFICATION_CONTEXT);
  assert.equal(scu.outstandingRequests, 0);
});

test('a request without messageId gets a fresh one', async () => {
  const { scu } = endpointPair({ scp: { onRequest: (msg, ctx) => ctx.respond(reply(msg, 0)) } });
  const req = scu.request({ contextId: VERIFICATION_CONTEXT, command: echo() });
  assert.ok(req.messageId >= 1);
  const all = [];
  for await (const rsp of req) all.push(rsp);
  assert.equal(all.length, 1);
  assert.equal(all[0]!.command.messageIdBeingRespondedTo, req.messageId);
});

test('without a handler, requests are answered 0x0211 unrecognized operation', async () => {
  const { scu } = endpointPair();
  const rsp = await scu.requestOne({ contextId: VERIFICATION_CONTEXT, command: echo(1) });
  assert.equal(rsp.command.status, Status.UnrecognizedOperation);
  assert.equal(rsp.command.commandField, CommandField.C_ECHO_RSP);
});

test('a handler that throws or sends no final response gets 0x0110 processing failure sent for it', async () => {
  const { scu } = endpointPair({
    scp: {
      onRequest: (msg) => {
        if (msg.command.messageId === 1) throw new Error('database is locked');
      },
    },
  });
  const thrown = await scu.requestOne({ contextId: VERIFICATION_CONTEXT, command: echo(1) });
  assert.equal(thrown.command.status, Status.ProcessingFailure);
  assert.equal(thrown.command.errorComment, 'database is locked');
  const silent = await scu.requestOne({ contextId: VERIFICATION_CONTEXT, command: echo(2) });
  assert.equal(silent.command.status, Status.ProcessingFailure);
  assert.match(silent.command.errorComment ?? '', /no final response/);
});

test('misuse is refused with DimseUsageError before anything is sent', async () => {
  const { scu, a } = endpointPair({ record: true });
  assert.throws(
    () => scu.request({ contextId: VERIFICATION_CONTEXT, command: { ...echo(1), hasDataset: true } }),
    (err: unknown) =>
      err instanceof DimseUsageError && /hasDataset: true but no data set was given/.test(err.message),
  );
  await assert.rejects(
    scu.send({ contextId: VERIFICATION_CONTEXT, command: echo(1), dataset: Buffer.alloc(2) }),
    /hasDataset: false but a data set was given/,
  );
  assert.throws(
    () => scu.request({ contextId: REJECTED_CONTEXT, command: echo(1) }),
    (err: unknown) => err instanceof DimseUsageError && err.code === 'ERR_DIMSE_CONTEXT_NOT_ACCEPTED',
  );
  assert.throws(
    () => scu.request({ contextId: 99, command: echo(1) }),
    /presentation context 99 is not an accepted/,
  );
  await assert.rejects(
    scu.send({ contextId: VERIFICATION_CONTEXT, command: { ...echo(1), messageId: 70000 } }),
    (err: unknown) => err instanceof DimseUsageError && err.code === 'ERR_DIMSE_INVALID_COMMAND',
  );
  await tick();
  assert.equal(a.sent.length, 0);
});

test('C-FIND with 1000 pending responses streams them in order', async () => {
  const { scu } = endpointPair({
    scp: {
      onRequest: async (msg, ctx) => {
        assert.equal(msg.dataset?.toString(), 'query');
        for (let i = 0; i < 1000; i++) {
          await ctx.respond(reply(msg, Status.Pending, { hasDataset: true }), Buffer.from(`match ${i}`));
        }
        await ctx.respond(reply(msg, Status.Success));
      },
    },
  });
  const req = scu.request({
    contextId: FIND_CONTEXT,
    command: {
      commandField: CommandField.C_FIND_RQ,
      messageId: 9,
      affectedSopClassUid: FIND,
      priority: 0,
      hasDataset: true,
    },
    dataset: Buffer.from('query'),
  });
  let i = 0;
  let final: IncomingMessage | undefined;
  for await (const rsp of req) {
    if (statusCategory(rsp.command.status!) === 'pending') {
      assert.equal(rsp.dataset?.toString(), `match ${i++}`);
    } else {
      final = rsp;
    }
  }
  assert.equal(i, 1000);
  assert.equal(final?.command.status, Status.Success);
  assert.equal(final?.abstractSyntax, FIND);
});

test('asynchronous window 8: never more than 8 outstanding, out-of-order responses reach their requests', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const held: (() => Promise<void>)[] = [];
  const { scu } = endpointPair({
    maxOperationsInvoked: 8,
    maxOperationsPerformed: 8,
    scp: {
      onRequest: async (msg, ctx) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise<void>((resolve) => {
          held.push(async () => {
            inFlight--;
            await ctx.respond(
              reply(msg, Status.Success, { affectedSopInstanceUid: msg.command.affectedSopInstanceUid }),
            );
            resolve();
          });
        });
      },
    },
  });
  const requests = Array.from({ length: 40 }, (_, n) =>
    scu.requestOne({
      contextId: VERIFICATION_CONTEXT,
      command: { ...echo(), affectedSopInstanceUid: `1.2.${n}` },
    }),
  );
  let answered = 0;
  while (answered < 40) {
    await until(() => held.length === Math.min(8, 40 - answered), 'a full window');
    await tick();
    assert.equal(held.length, Math.min(8, 40 - answered), 'the SCP never sees more than the window');
    // answer in reverse order
    const batch = held.splice(0).reverse();
    for (const respond of batch) await respond();
    answered += batch.length;
  }
  const responses = await Promise.all(requests);
  for (const [n, rsp] of responses.entries()) assert.equal(rsp.command.affectedSopInstanceUid, `1.2.${n}`);
  assert.equal(maxInFlight, 8);
});

test('maxOperationsPerformed limits concurrent handlers; the rest wait their turn', async () => {
  let running = 0;
  let maxRunning = 0;
  const { scu } = endpointPair({
    configure: (a, b) => {
      a.negotiated.maxOperationsInvoked = 0;
      b.negotiated.maxOperationsPerformed = 2;
    },
    scp: {
      onRequest: async (msg, ctx) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await tick();
        await tick();
        running--;
        await ctx.respond(reply(msg, Status.Success));
      },
    },
  });
  const all = await Promise.all(
    Array.from({ length: 12 }, () => scu.requestOne({ contextId: VERIFICATION_CONTEXT, command: echo() })),
  );
  assert.equal(all.length, 12);
  assert.ok(all.every((r) => r.command.status === Status.Success));
  assert.equal(maxRunning, 2);
});

test('C-CANCEL-RQ reaches the handler signal; the request ends with the Cancel response', async () => {
  let reason: unknown;
  let pendingsSent = 0;
  const { scu, a } = endpointPair({
    record: true,
    scp: {
      onRequest: async (msg, ctx) => {
        while (!ctx.signal.aborted) {
          await ctx.respond(reply(msg, Status.Pending, { hasDataset: true }), Buffer.from('m'));
          pendingsSent++;
          await tick();
        }
        reason = ctx.signal.reason;
        await ctx.respond(reply(msg, Status.Cancel));
      },
    },
  });
  const req = scu.request({
    contextId: FIND_CONTEXT,
    command: {
      commandField: CommandField.C_FIND_RQ,
      messageId: 77,
      affectedSopClassUid: FIND,
      hasDataset: true,
    },
    dataset: Buffer.from('q'),
  });
  const statuses: number[] = [];
  for await (const rsp of req) {
    statuses.push(rsp.command.status!);
    if (statuses.length === 5) {
      req.cancel();
      req.cancel(); // idempotent
    }
  }
  assert.equal(statuses.at(-1), Status.Cancel);
  assert.ok(statuses.slice(0, -1).every((s) => s === Status.Pending));
  assert.ok(reason instanceof DimseRequestCancelled);
  assert.equal(reason.messageId, 77);
  assert.ok(pendingsSent >= 5);
  const cancels = a.sent.filter(
    (p) => p.command && p.data.includes(Buffer.from('0000000102000000ff0f', 'hex')),
  );
  assert.equal(cancels.length, 1, 'exactly one C-CANCEL-RQ sent');
  req.cancel(); // after the end: no-op
  await tick();
  assert.equal(a.sent.filter((p) => p.command).length, 2);
});

test('cancel() before the request left (window full) withdraws it without touching the wire', async () => {
  const release: (() => Promise<void>)[] = [];
  const seen: number[] = [];
  const { scu } = endpointPair({
    maxOperationsInvoked: 1,
    scp: {
      onRequest: async (msg, ctx) => {
        seen.push(msg.command.messageId!);
        await new Promise<void>((resolve) => release.push(async () => resolve()));
        await ctx.respond(reply(msg, Status.Success));
      },
    },
  });
  const first = scu.requestOne({ contextId: VERIFICATION_CONTEXT, command: echo(1) });
  const second = scu.request({ contextId: VERIFICATION_CONTEXT, command: echo(2) });
  await until(() => release.length === 1, 'the first request at the SCP');
  second.cancel();
  await assert.rejects(
    (async () => {
      for await (const _ of second) assert.fail('no response expected');
    })(),
    (err: unknown) => err instanceof DimseUsageError && err.code === 'ERR_DIMSE_CANCELLED_BEFORE_SEND',
  );
  await release[0]!();
  assert.equal((await first).command.status, Status.Success);
  const third = scu.requestOne({ contextId: VERIFICATION_CONTEXT, command: echo(3) });
  await until(() => release.length === 2, 'the third request at the SCP');
  await release[1]!();
  assert.equal((await third).command.status, Status.Success);
  assert.deepEqual(seen, [1, 3]);
});

test('C-GET: C-STORE sub-operations from the SCP are performed while the C-GET is outstanding', async () => {
  const sinks = new Map<number, MemorySink>();
  const stored: string[] = [];
  const instances = Array.from({ length: 5 }, (_, i) => Buffer.alloc(30_000 + i, i + 1));
  let scpEndpoint: DimseEndpoint | undefined;
  const pair = endpointPair({
    maxPdvLength: 4090,
    scu: {
      datasetSink: (command) => {
        if (command.commandField !== CommandField.C_STORE_RQ) return undefined;
        const sink = new MemorySink();
        sinks.set(command.messageId!, sink);
        return sink;
      },
      onRequest: async (msg, ctx) => {
        assert.equal(msg.command.commandField, CommandField.C_STORE_RQ);
        assert.equal(msg.dataset, undefined);
        const sink = sinks.get(msg.command.messageId!)!;
        assert.equal(msg.datasetBytes, sink.bytes.length);
        stored.push(`${msg.command.affectedSopInstanceUid}:${sink.bytes.length}:${sink.bytes[0]}`);
        await ctx.respond(
          reply(msg, Status.Success, { affectedSopInstanceUid: msg.command.affectedSopInstanceUid }),
        );
      },
    },
    scp: {
      onRequest: async (msg, ctx) => {
        assert.equal(msg.command.commandField, CommandField.C_GET_RQ);
        const counts = { remaining: instances.length, completed: 0, failed: 0, warning: 0 };
        for (const [i, data] of instances.entries()) {
          const sub = await scpEndpoint!.requestOne({
            contextId: STORAGE_CONTEXT,
            command: {
              commandField: CommandField.C_STORE_RQ,
              messageId: scpEndpoint!.nextMessageId(),
              affectedSopClassUid: CT,
              affectedSopInstanceUid: `1.2.3.${i}`,
              priority: 0,
              hasDataset: true,
            },
            dataset: i % 2 ? data : Readable.from([data.subarray(0, 1000), data.subarray(1000)]),
          });
          counts.remaining--;
          if (sub.command.status === Status.Success) counts.completed++;
          else counts.failed++;
          const progress = {
            numberOfRemainingSuboperations: counts.remaining,
            numberOfCompletedSuboperations: counts.completed,
            numberOfFailedSuboperations: counts.failed,
            numberOfWarningSuboperations: counts.warning,
          };
          await ctx.respond(reply(msg, counts.remaining > 0 ? Status.Pending : Status.Success, progress));
        }
      },
    },
  });
  scpEndpoint = pair.scp;
  const req = pair.scu.request({
    contextId: GET_CONTEXT,
    command: {
      commandField: CommandField.C_GET_RQ,
      messageId: 5,
      affectedSopClassUid: GET,
      hasDataset: true,
    },
    dataset: Buffer.from('identifier'),
  });
  const progress: number[] = [];
  let last: CommandSet | undefined;
  for await (const rsp of req) {
    progress.push(rsp.command.numberOfCompletedSuboperations!);
    last = rsp.command;
  }
  assert.deepEqual(progress, [1, 2, 3, 4, 5]);
  assert.equal(last?.status, Status.Success);
  assert.deepEqual(
    stored,
    instances.map((d, i) => `1.2.3.${i}:${d.length}:${i + 1}`),
  );
});

for (const [how, close, pattern] of [
  ['peer abort', (p: EndpointPairLike) => p.b.abort(), /aborted by the peer \(A-ABORT source 0, reason 0\)/],
  ['release', (p: EndpointPairLike) => p.b.respondRelease(), /the association was released/],
  [
    'transport failure',
    (p: EndpointPairLike) => p.a.fail(new Error('read ECONNRESET')),
    /connection failed: read ECONNRESET/,
  ],
] as const) {
  test(`outstanding requests reject with a network error naming the close (${how})`, async () => {
    const pair = endpointPair({ scp: { onRequest: () => new Promise<void>(() => undefined) } });
    const pending = pair.scu.requestOne({ contextId: VERIFICATION_CONTEXT, command: echo(4) });
    await until(() => pair.b.sent.length === 0 && pair.scu.outstandingRequests === 1, 'the request');
    await tick();
    close(pair);
    await assert.rejects(
      pending,
      (err: unknown) =>
        err instanceof DimseChannelClosedError &&
        err.kind === 'network' &&
        err.code === 'ERR_DIMSE_CHANNEL_CLOSED' &&
        /^C-ECHO-RQ \(message 4\) did not complete: /.test(err.message) &&
        pattern.test(err.message),
    );
    assert.ok(pair.scu.closed);
    await assert.rejects(pair.scu.send({ contextId: VERIFICATION_CONTEXT, command: echo(5) }), pattern);
    await assert.rejects(pair.scu.requestOne({ contextId: VERIFICATION_CONTEXT, command: echo(6) }), pattern);
  });
}

type EndpointPairLike = ReturnType<typeof endpointPair>;

test('the SCP handler signal aborts when the association closes', async () => {
  let signal: AbortSignal | undefined;
  const pair = endpointPair({
    scp: {
      onRequest: async (_msg, ctx) => {
        signal = ctx.signal;
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      },
    },
  });
  void pair.scu.requestOne({ contextId: VERIFICATION_CONTEXT, command: echo(1) }).catch(() => undefined);
  await until(() => signal !== undefined, 'the handler');
  pair.a.abort();
  await until(() => signal!.aborted, 'the abort');
  assert.ok(signal!.reason instanceof DimseChannelClosedError);
});

test('a protocol violation by the peer aborts the association and fails outstanding requests', async () => {
  const pair = endpointPair({ scp: { onRequest: () => new Promise<void>(() => undefined) } });
  const pending = pair.scu.requestOne({ contextId: VERIFICATION_CONTEXT, command: echo(1) });
  await tick();
  pair.a.inject([{ contextId: VERIFICATION_CONTEXT, command: false, last: true, data: Buffer.alloc(8) }]);
  await assert.rejects(
    pending,
    (err: unknown) =>
      err instanceof DimseChannelClosedError &&
      /protocol violation: DIMSE message sequence violated: data set fragment on context 1 without a command/.test(
        err.message,
      ),
  );
  assert.equal(pair.a.aborts, 1);
});

test('a response without Status and a malformed command are violations too', async () => {
  for (const data of [
    encodeCommandSet({
      commandField: CommandField.C_ECHO_RSP,
      messageIdBeingRespondedTo: 1,
      hasDataset: false,
    }),
    Buffer.from('000000010200', 'hex'),
  ]) {
    const pair = endpointPair();
    pair.a.inject([{ contextId: VERIFICATION_CONTEXT, command: true, last: true, data }]);
    await until(() => pair.scu.closed, 'the abort');
    assert.equal(pair.a.aborts, 1);
  }
});

test('responses to no outstanding request are dropped, not fatal', async () => {
  const pair = endpointPair({ scp: { onRequest: (msg, ctx) => ctx.respond(reply(msg, 0)) } });
  await pair.scp.send({
    contextId: VERIFICATION_CONTEXT,
    command: {
      commandField: CommandField.C_ECHO_RSP,
      messageIdBeingRespondedTo: 999,
      status: 0,
      hasDataset: false,
    },
  });
  const rsp = await pair.scu.requestOne({ contextId: VERIFICATION_CONTEXT, command: echo(1) });
  assert.equal(rsp.command.status, 0);
  assert.equal(pair.a.aborts, 0);
});

test('nextMessageId wraps after 65535 and skips IDs still outstanding', async () => {
  const pair = endpointPair({
    maxOperationsInvoked: 2,
    scp: { onRequest: () => new Promise<void>(() => undefined) },
  });
  const r1 = pair.scu.request({ contextId: VERIFICATION_CONTEXT, command: echo(pair.scu.nextMessageId()) });
  const r2 = pair.scu.request({ contextId: VERIFICATION_CONTEXT, command: echo(pair.scu.nextMessageId()) });
  assert.deepEqual([r1.messageId, r2.messageId], [1, 2]);
  assert.throws(
    () => pair.scu.request({ contextId: VERIFICATION_CONTEXT, command: echo(2) }),
    (err: unknown) => err instanceof DimseUsageError && err.code === 'ERR_DIMSE_MESSAGE_ID_IN_USE',
  );
  let id = 0;
  for (let i = 3; i <= 65535; i++) id = pair.scu.nextMessageId();
  assert.equal(id, 65535);
  assert.equal(pair.scu.nextMessageId(), 3);
  pair.a.abort();
});

test('a duplicate invocation of a Message ID being performed is answered 0x0210', async () => {
  const pair = endpointPair({
    maxOperationsInvoked: 0,
    maxOperationsPerformed: 0,
    scp: { onRequest: () => new Promise<void>(() => undefined) },
  });
  const first = pair.scu.requestOne({ contextId: VERIFICATION_CONTEXT, command: echo(8) });
  await tick();
  await pair.scu.send({ contextId: VERIFICATION_CONTEXT, command: echo(8) });
  const rsp = await first;
  assert.equal(rsp.command.status, Status.DuplicateInvocation);
  pair.a.abort();
});

test('respond() after the final response is refused', async () => {
  let second: Promise<void> | undefined;
  const pair = endpointPair({
    scp: {
      onRequest: async (msg, ctx: RequestContext) => {
        await ctx.respond(reply(msg, Status.Success));
        second = ctx.respond(reply(msg, Status.Success));
        await second.catch(() => undefined);
      },
    },
  });
  await pair.scu.requestOne({ contextId: VERIFICATION_CONTEXT, command: echo(1) });
  await until(() => second !== undefined, 'the second respond');
  await assert.rejects(second!, /final response to message 1 was already sent/);
});

test('backpressure: a slow sink pauses the channel; the data set arrives intact', async () => {
  const size = 8 * 1024 * 1024;
  const source = Buffer.alloc(size);
  for (let i = 0; i < size; i += 4) source.writeUInt32LE((i * 2654435761) >>> 0, i);
  const hash = createHash('sha256');
  let written = 0;
  const slow = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, callback) {
      hash.update(chunk);
      written += chunk.length;
      setTimeout(callback, 0);
    },
  });
  let received: IncomingMessage | undefined;
  const pair = endpointPair({
    scp: {
      datasetSink: () => slow,
      onRequest: async (msg, ctx) => {
        received = msg;
        await ctx.respond(reply(msg, Status.Success));
      },
    },
  });
  const rsp = await pair.scu.requestOne({
    contextId: STORAGE_CONTEXT,
    command: {
      commandField: CommandField.C_STORE_RQ,
      messageId: 1,
      affectedSopClassUid: CT,
      hasDataset: true,
    },
    dataset: source,
  });
  assert.equal(rsp.command.status, Status.Success);
  assert.equal(received?.datasetBytes, size);
  assert.equal(written, size);
  assert.equal(hash.digest('hex'), createHash('sha256').update(source).digest('hex'));
  assert.ok(pair.b.pauseCount > 0, 'the channel was paused');
  assert.equal(pair.b.pauseCount, pair.b.resumeCount);
  assert.ok(pair.b.maxInboxBytes < 2 * 1024 * 1024, `receiver queued ${pair.b.maxInboxBytes} bytes`);
});

test('every accepted test context resolves its syntaxes', () => {
  assert.ok(TEST_CONTEXTS.filter((c) => c.result === 0).every((c) => c.transferSyntax));
});

test('leaving a for-await early cancels the request; a handler that throws on cancel answers Cancel', async () => {
  let handlerDone = false;
  const pair = endpointPair({
    record: true,
    scp: {
      onRequest: async (msg, ctx) => {
        try {
          for (;;) {
            ctx.signal.throwIfAborted();
            await ctx.respond(reply(msg, Status.Pending, { hasDataset: true }), Buffer.from('m'));
            await tick();
          }
        } finally {
          handlerDone = true;
        }
      },
    },
  });
  const req = pair.scu.request({
    contextId: FIND_CONTEXT,
    command: {
      commandField: CommandField.C_FIND_RQ,
      messageId: 3,
      affectedSopClassUid: FIND,
      hasDataset: true,
    },
    dataset: Buffer.from('q'),
  });
  let n = 0;
  for await (const _ of req) if (++n === 3) break;
  await until(() => handlerDone && pair.scu.outstandingRequests === 0, 'the final Cancel response');
  const finals = pair.b.sent.filter(
    (p) => p.command && p.data.includes(Buffer.from('0000000902000000' + '00fe', 'hex')),
  );
  assert.equal(finals.length, 1, 'the SCP answered with status Cancel');
});

test('closing while a sink never finishes still fails the outstanding requests', async () => {
  const stuck = new Writable({
    write() {
      // never calls back
    },
  });
  const pair = endpointPair({ scp: { datasetSink: () => stuck, onRequest: () => undefined } });
  const pending = pair.scu.requestOne({
    contextId: STORAGE_CONTEXT,
    command: {
      commandField: CommandField.C_STORE_RQ,
      messageId: 1,
      affectedSopClassUid: CT,
      hasDataset: true,
    },
    dataset: Buffer.alloc(1000),
  });
  await until(() => stuck.writableLength > 0, 'the sink to receive bytes');
  await tick();
  pair.b.abort();
  await assert.rejects(pending, DimseChannelClosedError);
  await until(() => stuck.destroyed, 'the sink to be destroyed');
});

test('a Deflated data set of odd length is padded to even on the wire (PS3.5 A.5)', async () => {
  const lengths: number[] = [];
  const pair = endpointPair({
    scp: {
      onRequest: async (msg, ctx) => {
        lengths.push(msg.dataset!.length);
        await ctx.respond(reply(msg, Status.Success));
      },
    },
  });
  for (const [contextId, size] of [
    [DEFLATED_STORAGE_CONTEXT, 445],
    [STORAGE_CONTEXT, 445],
    [DEFLATED_STORAGE_CONTEXT, 446],
  ] as const) {
    await pair.scu.requestOne({
      contextId,
      command: { commandField: CommandField.C_STORE_RQ, affectedSopClassUid: CT, hasDataset: true },
      dataset: Buffer.alloc(size, 1),
    });
  }
  assert.deepEqual(lengths, [446, 445, 446]);
});

test('an early final response does not end the request before its data set is sent', async () => {
  const [a, b] = createChannelPair();
  b.on('pdvs', () => undefined);
  const scu = new DimseEndpoint(a);
  let produced = 0;
  let release: (() => void) | undefined;
  const body = new Readable({
    read() {
      if (produced === 3) {
        this.push(null);
        return;
      }
      produced++;
      if (produced === 2) release = () => this.push(Buffer.alloc(100_000, 2));
      else this.push(Buffer.alloc(100_000, 1));
    },
  });
  let resolved = false;
  const pending = scu
    .requestOne({
      contextId: STORAGE_CONTEXT,
      command: {
        commandField: CommandField.C_STORE_RQ,
        messageId: 1,
        affectedSopClassUid: CT,
        hasDataset: true,
      },
      dataset: body,
    })
    .then((rsp) => {
      resolved = true;
      return rsp;
    });
  await until(() => release !== undefined, 'the stream to stall');
  a.inject(
    fragment(
      STORAGE_CONTEXT,
      true,
      encodeCommandSet({
        commandField: CommandField.C_STORE_RSP,
        messageIdBeingRespondedTo: 1,
        status: Status.OutOfResources,
        hasDataset: false,
      }),
      1000,
    ),
  );
  for (let i = 0; i < 20; i++) await tick();
  assert.equal(resolved, false, 'resolved while the data set was still being read');
  release!();
  const rsp = await pending;
  assert.equal(rsp.command.status, Status.OutOfResources);
  assert.equal(produced, 3);
  assert.equal(a.aborts, 0);
});
