import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { fragment, type PdvSender, sendMessage } from '../../src/dimse/index.js';
import type { Pdv } from '../../src/network/channel.js';

const SIZES = [4090, 16378, 1024 * 1024];

function pattern(length: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** A sender that records every sendPdvs call. */
function recorder(maxSendPdvDataLength: number): PdvSender & { calls: Pdv[][] } {
  const calls: Pdv[][] = [];
  return {
    maxSendPdvDataLength,
    calls,
    async sendPdvs(pdvs) {
      calls.push(pdvs.map((p) => ({ ...p, data: Buffer.from(p.data) })));
    },
  };
}

function checkMessage(pdvs: Pdv[], max: number, command: Buffer, dataset: Buffer | undefined): void {
  const commandPdvs = pdvs.filter((p) => p.command);
  const dataPdvs = pdvs.filter((p) => !p.command);
  // commands first, then data
  assert.deepEqual(
    pdvs.map((p) => p.command),
    [...commandPdvs.map(() => true), ...dataPdvs.map(() => false)],
  );
  for (const p of pdvs) {
    assert.ok(p.data.length <= max, `PDV of ${p.data.length} > ${max}`);
    assert.equal(p.contextId, 5);
  }
  assert.deepEqual(
    commandPdvs.map((p) => p.last),
    commandPdvs.map((_, i) => i === commandPdvs.length - 1),
  );
  assert.deepEqual(Buffer.concat(commandPdvs.map((p) => p.data)), command);
  if (dataset === undefined) {
    assert.equal(dataPdvs.length, 0);
    return;
  }
  assert.deepEqual(
    dataPdvs.map((p) => p.last),
    dataPdvs.map((_, i) => i === dataPdvs.length - 1),
  );
  assert.equal(dataPdvs.length, Math.max(1, Math.ceil(dataset.length / max)));
  // only the last data PDV may be short
  for (const p of dataPdvs.slice(0, -1)) assert.equal(p.data.length, max);
  assert.ok(Buffer.concat(dataPdvs.map((p) => p.data)).equals(dataset));
}

test('fragment: exact multiples, one over, one under, and empty input', () => {
  for (const max of SIZES) {
    for (const length of [0, 1, max - 1, max, max + 1, 3 * max, 3 * max + 7]) {
      const data = pattern(length);
      const pdvs = fragment(5, false, data, max);
      assert.equal(pdvs.length, Math.max(1, Math.ceil(length / max)), `${length}/${max}`);
      assert.ok(pdvs.every((p, i) => p.last === (i === pdvs.length - 1)));
      assert.ok(pdvs.every((p) => p.data.length <= max));
      assert.ok(Buffer.concat(pdvs.map((p) => p.data)).equals(data));
    }
  }
  assert.throws(() => fragment(1, true, Buffer.alloc(3), 0), RangeError);
});

test('sendMessage with a Buffer data set at 4090 / 16378 / 1 MiB', async () => {
  const command = pattern(90, 7);
  for (const max of SIZES) {
    for (const length of [0, 1, max, 2 * max, 2 * max + 1, 300_000]) {
      const sender = recorder(max);
      const dataset = pattern(length);
      const sent = await sendMessage(sender, 5, command, dataset);
      assert.equal(sent, length);
      checkMessage(sender.calls.flat(), max, command, dataset);
    }
  }
});

test('a command longer than the PDV limit spans several command PDVs', async () => {
  const sender = recorder(4090);
  const command = pattern(10_000);
  await sendMessage(sender, 5, command);
  const pdvs = sender.calls.flat();
  assert.equal(pdvs.length, 3);
  checkMessage(pdvs, 4090, command, undefined);
});

test('small messages go out in one sendPdvs call (one P-DATA-TF when it fits)', async () => {
  const sender = recorder(16378);
  await sendMessage(sender, 5, pattern(80), pattern(200));
  assert.equal(sender.calls.length, 1);
  assert.equal(sender.calls[0]!.length, 2);
});

test('sendMessage with a stream: odd chunk sizes, exact multiples, empty stream', async () => {
  const command = pattern(76);
  for (const max of SIZES) {
    for (const total of [0, 1, max, 4 * max, 4 * max + 3]) {
      const dataset = pattern(total, 3);
      const chunkSizes = [1, 7, 4090, 10_001, max, 3];
      const chunks: Buffer[] = [];
      for (let at = 0, i = 0; at < total; i++) {
        const size = Math.min(chunkSizes[i % chunkSizes.length]!, total - at);
        chunks.push(dataset.subarray(at, at + size));
        at += size;
      }
      const sender = recorder(max);
      const sent = await sendMessage(sender, 5, command, Readable.from(chunks));
      assert.equal(sent, total);
      checkMessage(sender.calls.flat(), max, command, dataset);
    }
  }
});

test('a stream is read only as fast as the channel accepts (bounded read-ahead)', async () => {
  const max = 16378;
  const chunk = 64 * 1024;
  let produced = 0;
  let accepted = 0;
  let maxAhead = 0;
  const source = new Readable({
    highWaterMark: chunk,
    read() {
      if (produced >= 64 * 1024 * 1024) {
        this.push(null);
        return;
      }
      produced += chunk;
      this.push(Buffer.alloc(chunk, 1));
    },
  });
  const sender: PdvSender = {
    maxSendPdvDataLength: max,
    async sendPdvs(pdvs) {
      await new Promise((resolve) => setImmediate(resolve));
      for (const p of pdvs) accepted += p.data.length;
      maxAhead = Math.max(maxAhead, produced - accepted);
    },
  };
  const sent = await sendMessage(sender, 5, pattern(80), source);
  assert.equal(sent, 64 * 1024 * 1024);
  // batch (256 KiB) + one PDV held back + the stream's buffered chunks
  assert.ok(maxAhead < 1024 * 1024, `read ${maxAhead} bytes ahead of the channel`);
});

test('a stream yielding strings is rejected', async () => {
  await assert.rejects(
    sendMessage(recorder(100), 5, pattern(10), Readable.from(['abc'])),
    /must yield bytes/,
  );
});

test('an odd PDV limit still gives even fragments (DCMTK refuses odd ones)', async () => {
  for (const dataset of [pattern(10_001), Readable.from([pattern(10_001)])]) {
    const sender = recorder(4091);
    await sendMessage(sender, 5, pattern(80), dataset);
    const data = sender.calls.flat().filter((p) => !p.command);
    assert.deepEqual(
      data.map((p) => p.data.length),
      [4090, 4090, 1821],
    );
  }
});

test('padOddDataset appends one 00H to an odd data set, from a Buffer or a stream', async () => {
  for (const [length, max] of [
    [1, 4090],
    [4089, 4090],
    [8181, 4090],
    [8180, 4090],
  ] as const) {
    for (const dataset of [pattern(length), Readable.from([pattern(length)])]) {
      const sender = recorder(max);
      const sent = await sendMessage(sender, 5, pattern(80), dataset, { padOddDataset: true });
      assert.equal(sent, length);
      const bytes = Buffer.concat(
        sender.calls
          .flat()
          .filter((p) => !p.command)
          .map((p) => p.data),
      );
      const expected = length % 2 ? Buffer.concat([pattern(length), Buffer.alloc(1)]) : pattern(length);
      assert.ok(bytes.equals(expected), `${length}`);
    }
  }
});

test('positional source: every size (empty, odd, around the slab size) arrives intact with one last PDV', async () => {
  const max = 131066;
  for (const length of [0, 1, 4095, max, max + 1, 524264, 524265, 3 * 524264 + 17, 2 * 1024 * 1024]) {
    const data = pattern(length, 7);
    let reads = 0;
    const source = {
      positional: true as const,
      length,
      read: async (into: Buffer, position: number) => {
        reads++;
        // short reads on purpose: the fragmenter must keep filling
        const n = Math.min(into.length, length - position, 300_000);
        data.copy(into, 0, position, position + n);
        return n;
      },
    };
    const sender = recorder(max);
    const command = pattern(100);
    const sent = await sendMessage(sender, 5, command, source);
    assert.equal(sent, length);
    checkMessage(sender.calls.flat(), max, command, data);
    assert.ok(length === 0 || reads >= 1);
  }
});

test('positional source: Deflated padding and a source that ends early', async () => {
  const data = pattern(1001);
  const source = {
    positional: true as const,
    length: data.length,
    read: async (into: Buffer, position: number) => data.copy(into, 0, position),
  };
  const sender = recorder(4090);
  await sendMessage(sender, 5, pattern(10), source, { padOddDataset: true });
  const dataPdvs = sender.calls.flat().filter((p) => !p.command);
  assert.deepEqual(Buffer.concat(dataPdvs.map((p) => p.data)), Buffer.concat([data, Buffer.alloc(1)]));
  const short = { ...source, length: 5000 };
  await assert.rejects(sendMessage(recorder(4090), 5, pattern(10), short), /ended after 1001 of 5000 bytes/);
});
