import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  CommandField,
  type CommandSet,
  DimseMalformedCommandError,
  DimseProtocolError,
  encodeCommandSet,
  fragment,
  MessageReassembler,
  type ReassembledMessage,
  type ReassemblerOptions,
} from '../../src/dimse/index.js';
import type { Pdv } from '../../src/network/channel.js';

const STORE: CommandSet = {
  commandField: CommandField.C_STORE_RQ,
  messageId: 4,
  affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
  affectedSopInstanceUid: '1.2.3.4',
  priority: 0,
  hasDataset: true,
};
const ECHO: CommandSet = { commandField: CommandField.C_ECHO_RQ, messageId: 1, hasDataset: false };

function setup(options: Partial<ReassemblerOptions> = {}) {
  const messages: ReassembledMessage[] = [];
  const flow = { paused: 0, resumed: 0, pause: () => flow.paused++, resume: () => flow.resumed++ };
  const r = new MessageReassembler({
    onMessage: (m) => messages.push(m),
    flow,
    isAcceptedContext: (id) => id === 1 || id === 3,
    ...options,
  });
  return { r, messages, flow };
}

/** PDVs of a message; with `max` ≥ 200 the command is one PDV. */
function message(contextId: number, command: CommandSet, dataset?: Buffer, max = 100): Pdv[] {
  const pdvs = fragment(contextId, true, encodeCommandSet(command), Math.max(max, 200));
  if (dataset) pdvs.push(...fragment(contextId, false, dataset, max));
  return pdvs;
}

test('reassembles fragmented commands and data sets, in order', async () => {
  const { r, messages } = setup();
  const data = Buffer.from('x'.repeat(1000));
  for (const pdv of [
    ...fragment(3, true, encodeCommandSet(STORE), 13),
    ...fragment(3, false, data, 37),
    ...fragment(1, true, encodeCommandSet(ECHO), 10),
    ...message(3, STORE, Buffer.alloc(0)),
  ]) {
    r.push(pdv);
  }
  await r.settled();
  assert.equal(messages.length, 3);
  assert.deepEqual(messages[0]!.command, STORE);
  assert.deepEqual(messages[0]!.dataset, data);
  assert.equal(messages[0]!.contextId, 3);
  assert.deepEqual(messages[1]!.command, ECHO);
  assert.equal(messages[1]!.dataset, undefined);
  assert.deepEqual(messages[2]!.dataset, Buffer.alloc(0));
});

test('keeps its own copy of PDV bytes (the channel may reuse its buffer)', async () => {
  const { r, messages } = setup();
  for (const pdv of message(3, STORE, Buffer.from('abcdef'), 4)) {
    r.push(pdv);
    pdv.data.fill(0);
  }
  await r.settled();
  assert.equal(messages[0]!.dataset!.toString(), 'abcdef');
});

const violations: [string, Pdv[], string, RegExp][] = [
  [
    'data before any command',
    [{ contextId: 1, command: false, last: true, data: Buffer.alloc(4) }],
    'ERR_DIMSE_PDV_SEQUENCE',
    /data set fragment on context 1 without a command/,
  ],
  [
    'data before the command is complete',
    [
      fragment(3, true, encodeCommandSet(STORE), 20)[0]!,
      { contextId: 3, command: false, last: true, data: Buffer.alloc(4) },
    ],
    'ERR_DIMSE_PDV_SEQUENCE',
    /data set fragment before the command on context 3 was complete/,
  ],
  [
    'context changes mid-command',
    [fragment(3, true, encodeCommandSet(STORE), 20)[0]!, ...message(1, ECHO)],
    'ERR_DIMSE_PDV_SEQUENCE',
    /command fragment on context 1 while the command on context 3 is incomplete/,
  ],
  [
    'data on another context',
    [...message(3, STORE), { contextId: 1, command: false, last: true, data: Buffer.alloc(2) }],
    'ERR_DIMSE_PDV_SEQUENCE',
    /data set fragment on context 1, but C-STORE-RQ \(message 4\) is on context 3/,
  ],
  [
    'a new command before the data set ended',
    [
      ...message(3, STORE),
      { contextId: 3, command: false, last: false, data: Buffer.alloc(2) },
      ...message(3, ECHO),
    ],
    'ERR_DIMSE_PDV_SEQUENCE',
    /command fragment before the data set of C-STORE-RQ \(message 4\) was complete/,
  ],
  [
    'a data set the command did not announce',
    [...message(1, ECHO), { contextId: 1, command: false, last: true, data: Buffer.alloc(2) }],
    'ERR_DIMSE_PDV_SEQUENCE',
    /without a command announcing a data set/,
  ],
  [
    'an unaccepted context',
    message(5, ECHO),
    'ERR_DIMSE_UNKNOWN_CONTEXT',
    /context 5, which is not an accepted context/,
  ],
];

for (const [name, pdvs, code, pattern] of violations) {
  test(`violation: ${name}`, async () => {
    const { r, messages } = setup();
    let thrown: unknown;
    for (const pdv of pdvs) {
      try {
        r.push(pdv);
      } catch (err) {
        thrown = err;
        break;
      }
    }
    assert.ok(thrown instanceof DimseProtocolError, `expected a DimseProtocolError, got ${String(thrown)}`);
    assert.equal(thrown.code, code);
    assert.equal(thrown.kind, 'network');
    assert.match(thrown.message, pattern);
    // ignores everything afterwards
    for (const pdv of message(1, ECHO)) r.push(pdv);
    await r.settled();
    assert.ok(messages.every((m) => m.command.commandField !== CommandField.C_ECHO_RQ || pdvs.length > 1));
  });
}

test('violation: a malformed command set', () => {
  const { r } = setup();
  assert.throws(
    () => r.push({ contextId: 1, command: true, last: true, data: Buffer.from('0000000102000000', 'hex') }),
    DimseMalformedCommandError,
  );
});

test('a buffered data set over the limit is refused', () => {
  const { r } = setup({ maxBufferedDatasetBytes: 1000 });
  const pdvs = message(3, STORE, Buffer.alloc(1001), 100);
  assert.throws(
    () => {
      for (const pdv of pdvs) r.push(pdv);
    },
    (err: unknown) =>
      err instanceof DimseProtocolError &&
      err.code === 'ERR_DIMSE_DATASET_TOO_LARGE' &&
      /exceeds the in-memory limit of 1000 bytes/.test(err.message),
  );
});

test('an oversized command is refused before it is buffered', () => {
  const { r } = setup({ maxCommandBytes: 64 });
  assert.throws(
    () => {
      for (const pdv of fragment(3, true, encodeCommandSet(STORE), 40)) r.push(pdv);
    },
    (err: unknown) => err instanceof DimseProtocolError && err.code === 'ERR_DIMSE_COMMAND_TOO_LARGE',
  );
});

/** A Writable that completes each write only when told to. */
class SlowSink extends Writable {
  received: Buffer[] = [];
  private pending: (() => void)[] = [];
  constructor() {
    super({ highWaterMark: 64 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.received.push(chunk);
    this.pending.push(() => callback());
  }
  flush(): void {
    for (const cb of this.pending.splice(0)) cb();
  }
}

test('a sink: chosen after the command, paused when full, resumed on drain, message after finish', async () => {
  const sink = new SlowSink();
  const chosen: CommandSet[] = [];
  const { r, messages, flow } = setup({
    chooseSink: (command, contextId) => {
      chosen.push(command);
      assert.equal(contextId, 3);
      return sink;
    },
  });
  const data = Buffer.from('y'.repeat(500));
  const pdvs = message(3, STORE, data, 100);
  r.push(pdvs[0]!);
  assert.equal(chosen.length, 1);
  for (const pdv of pdvs.slice(1)) r.push(pdv);
  assert.equal(flow.paused, 1, 'the channel was paused when write() returned false');
  assert.equal(flow.resumed, 0);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(messages.length, 0, 'not announced before the sink finished');
  while (!sink.writableFinished) {
    sink.flush();
    await new Promise((resolve) => setImmediate(resolve));
  }
  await r.settled();
  assert.equal(flow.resumed, 1);
  assert.equal(messages.length, 1);
  assert.equal(messages[0]!.dataset, undefined);
  assert.equal(messages[0]!.datasetBytes, 500);
  assert.deepEqual(Buffer.concat(sink.received), data);
});

test('a failing sink: remaining bytes dropped, the message still delivered with datasetError', async () => {
  const sink = new Writable({
    write(_chunk, _enc, callback) {
      callback(new Error('disk full'));
    },
  });
  sink.on('error', () => undefined);
  const { r, messages, flow } = setup({ chooseSink: () => sink });
  const pdvs = message(3, STORE, Buffer.alloc(400), 100);
  r.push(pdvs[0]!);
  r.push(pdvs[1]!);
  await new Promise((resolve) => sink.on('close', resolve));
  for (const pdv of pdvs.slice(2)) r.push(pdv);
  await r.settled();
  assert.equal(messages.length, 1);
  assert.equal(messages[0]!.datasetBytes, 400);
  assert.match(String(messages[0]!.datasetError), /disk full/);
  assert.equal(flow.paused, flow.resumed);
});

test('close() destroys a sink that is still being written', async () => {
  const sink = new SlowSink();
  const { r, messages } = setup({ chooseSink: () => sink });
  const pdvs = message(3, STORE, Buffer.alloc(400), 100);
  for (const pdv of pdvs.slice(0, -1)) r.push(pdv);
  r.close(new Error('association aborted'));
  assert.ok(sink.destroyed);
  r.push(pdvs.at(-1)!);
  await r.settled();
  assert.equal(messages.length, 0);
});

test('property: any sequence of fragmented messages reassembles to the same messages', async () => {
  const msg = fc.record({
    contextId: fc.constantFrom(1, 3),
    messageId: fc.integer({ min: 0, max: 0xffff }),
    dataset: fc.option(fc.uint8Array({ maxLength: 3000 }), { nil: undefined }),
  });
  await fc.assert(
    fc.asyncProperty(
      fc.array(msg, { maxLength: 8 }),
      fc.integer({ min: 2, max: 1200 }),
      async (list, max) => {
        const { r, messages } = setup();
        for (const m of list) {
          const command: CommandSet = {
            commandField: 0x0020,
            messageId: m.messageId,
            hasDataset: m.dataset !== undefined,
          };
          const pdvs = fragment(m.contextId, true, encodeCommandSet(command), max);
          if (m.dataset) pdvs.push(...fragment(m.contextId, false, Buffer.from(m.dataset), max));
          for (const pdv of pdvs) r.push(pdv);
        }
        await r.settled();
        assert.equal(messages.length, list.length);
        list.forEach((m, i) => {
          assert.equal(messages[i]!.contextId, m.contextId);
          assert.equal(messages[i]!.command.messageId, m.messageId);
          assert.deepEqual(messages[i]!.dataset, m.dataset ? Buffer.from(m.dataset) : undefined);
        });
      },
    ),
    { numRuns: 200 },
  );
});

test('property: arbitrary PDV sequences only ever raise the typed DIMSE errors', async () => {
  const valid = encodeCommandSet(STORE);
  const pdv = fc.record({
    contextId: fc.constantFrom(1, 3, 5),
    command: fc.boolean(),
    last: fc.boolean(),
    data: fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
      fc.constant(valid),
      fc.integer({ min: 0, max: valid.length }).map((n) => valid.subarray(0, n)),
    ),
  });
  fc.assert(
    fc.property(fc.array(pdv, { maxLength: 12 }), (pdvs) => {
      const { r } = setup({ maxBufferedDatasetBytes: 100 });
      for (const p of pdvs) {
        try {
          r.push(p);
        } catch (err) {
          if (!(err instanceof DimseProtocolError || err instanceof DimseMalformedCommandError)) throw err;
          return;
        }
      }
    }),
    { numRuns: 1000 },
  );
});

test("'discard' counts the data set bytes and keeps none; a throwing chooser discards with datasetError", async () => {
  for (const [chooser, error] of [
    [() => 'discard' as const, undefined],
    [
      () => {
        throw new Error('no space for a temp file');
      },
      /no space for a temp file/,
    ],
  ] as const) {
    const { r, messages, flow } = setup({ chooseSink: chooser, maxBufferedDatasetBytes: 10 });
    for (const pdv of message(3, STORE, Buffer.alloc(5000), 100)) r.push(pdv);
    for (const pdv of message(1, ECHO)) r.push(pdv);
    await r.settled();
    assert.equal(messages.length, 2);
    assert.equal(messages[0]!.dataset, undefined);
    assert.equal(messages[0]!.datasetBytes, 5000);
    if (error) assert.match(String(messages[0]!.datasetError), error);
    else assert.equal(messages[0]!.datasetError, undefined);
    assert.equal(flow.paused, 0);
  }
});

test('a sink that is already destroyed does not stall delivery', async () => {
  const sink = new SlowSink();
  sink.destroy();
  const { r, messages } = setup({ chooseSink: () => sink });
  for (const pdv of message(3, STORE, Buffer.alloc(300), 100)) r.push(pdv);
  for (const pdv of message(1, ECHO)) r.push(pdv);
  await r.settled();
  assert.equal(messages.length, 2);
  assert.match(String(messages[0]!.datasetError), /closed before it finished/);
});
