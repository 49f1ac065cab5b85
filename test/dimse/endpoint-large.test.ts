import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { test } from 'node:test';
import { CommandField, type IncomingMessage, Status } from '../../src/dimse/index.js';
import { endpointPair } from './endpoint-helpers.js';
import { STORAGE_CONTEXT } from './fake-channel.js';

const GIB = 1024 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** 1 GiB of bytes, chunk n filled with n % 16, from 16 preallocated chunks (nothing allocated per read). */
function gigabyteSource(): Readable {
  const chunks = Array.from({ length: 16 }, (_, i) => Buffer.alloc(CHUNK, i));
  let n = 0;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (n * CHUNK >= GIB) {
        this.push(null);
        return;
      }
      this.push(chunks[n % 16]);
      n++;
    },
  });
}

/** Checks the first and last byte of every piece against the generator's pattern; completes some writes late. */
class CheckingSink extends Writable {
  position = 0;
  mismatches = 0;
  private writes = 0;
  constructor() {
    super({ highWaterMark: 1024 * 1024 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    const first = Math.floor(this.position / CHUNK) % 16;
    const last = Math.floor((this.position + chunk.length - 1) / CHUNK) % 16;
    if (chunk[0] !== first || chunk[chunk.length - 1] !== last) this.mismatches++;
    this.position += chunk.length;
    if (++this.writes % 64 === 0) setImmediate(callback);
    else callback();
  }
}

test('a 1 GiB data set streams through the fake channels into a sink with bounded memory', async () => {
  const sink = new CheckingSink();
  let received: IncomingMessage | undefined;
  const pair = endpointPair({
    maxPdvLength: 16378,
    scp: {
      datasetSink: () => sink,
      onRequest: async (msg, ctx) => {
        received = msg;
        await ctx.respond({
          commandField: CommandField.C_STORE_RSP,
          messageIdBeingRespondedTo: msg.command.messageId,
          status: Status.Success,
          hasDataset: false,
        });
      },
    },
  });
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const started = process.hrtime.bigint();
  try {
    const rsp = await pair.scu.requestOne({
      contextId: STORAGE_CONTEXT,
      command: {
        commandField: CommandField.C_STORE_RQ,
        messageId: 1,
        affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
        affectedSopInstanceUid: '1.2.3',
        priority: 0,
        hasDataset: true,
      },
      dataset: gigabyteSource(),
    });
    assert.equal(rsp.command.status, Status.Success);
  } finally {
    clearInterval(sampler);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const growth = (peak - baseline) / (1024 * 1024);
  console.log(
    `1 GiB in ${seconds.toFixed(2)} s (${(1024 / seconds).toFixed(0)} MiB/s), RSS growth ${growth.toFixed(1)} MiB`,
  );
  assert.equal(received?.datasetBytes, GIB);
  assert.equal(sink.position, GIB);
  assert.equal(sink.mismatches, 0);
  assert.ok(growth < 100, `RSS grew by ${growth.toFixed(1)} MiB`);
  assert.ok(pair.b.maxInboxBytes < 2 * 1024 * 1024, `receiver queued ${pair.b.maxInboxBytes} bytes`);
});
