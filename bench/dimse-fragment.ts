/**
 * DIMSE fragmentation and reassembly throughput (MB/s), without sockets:
 * - fragment: sendMessage into a sender that drops the PDVs;
 * - reassemble: MessageReassembler fed pre-built PDVs, data set into a null sink;
 * - end-to-end: C-STORE request/response between two DimseEndpoints over the
 *   in-memory fake channels (which copy every PDV, as a socket would).
 * Run: `npm run bench -- dimse` (or `node <outDir>/bench/dimse-fragment.js [MiB]`; default 256, BENCH_SMOKE=1: 16).
 */
import { Readable, Writable } from 'node:stream';
import {
  CommandField,
  DimseEndpoint,
  encodeCommandSet,
  fragment,
  MessageReassembler,
  type PdvSender,
  sendMessage,
} from '../src/dimse/index.js';
import type { Pdv } from '../src/network/channel.js';
import { createChannelPair, STORAGE_CONTEXT } from '../test/dimse/fake-channel.js';

const MIB = 1024 * 1024;
const total = Number(process.argv[2] ?? (process.env.BENCH_SMOKE ? 16 : 256)) * MIB;
const PDV_SIZES = [4090, 16378, 65530, MIB];
const CT = '1.2.840.10008.5.1.4.1.1.2';
const command = encodeCommandSet({
  commandField: CommandField.C_STORE_RQ,
  messageId: 1,
  affectedSopClassUid: CT,
  affectedSopInstanceUid: '1.2.3.4.5.6.7.8.9',
  priority: 0,
  hasDataset: true,
});

function mbPerSecond(bytes: number, started: bigint): number {
  return bytes / 1e6 / (Number(process.hrtime.bigint() - started) / 1e9);
}

function source(bytes: number, chunk = 64 * 1024): Readable {
  const block = Buffer.alloc(chunk, 0x5a);
  let sent = 0;
  return new Readable({
    highWaterMark: chunk,
    read() {
      if (sent >= bytes) {
        this.push(null);
        return;
      }
      const n = Math.min(chunk, bytes - sent);
      sent += n;
      this.push(n === chunk ? block : block.subarray(0, n));
    },
  });
}

class NullSink extends Writable {
  override _write(_chunk: Buffer, _enc: BufferEncoding, callback: () => void): void {
    callback();
  }
}

async function fragmentOnly(max: number): Promise<number> {
  const sender: PdvSender = { maxSendPdvDataLength: max, sendPdvs: async () => undefined };
  const started = process.hrtime.bigint();
  await sendMessage(sender, STORAGE_CONTEXT, command, source(total));
  return mbPerSecond(total, started);
}

async function reassembleOnly(max: number): Promise<number> {
  const data = Buffer.alloc(16 * MIB, 0x5a);
  const rounds = Math.max(1, Math.round(total / data.length));
  const pdvs: Pdv[] = [
    ...fragment(STORAGE_CONTEXT, true, command, max),
    ...fragment(STORAGE_CONTEXT, false, data, max),
  ];
  let delivered = 0;
  const r = new MessageReassembler({
    onMessage: () => delivered++,
    flow: { pause: () => undefined, resume: () => undefined },
    isAcceptedContext: () => true,
    chooseSink: () => new NullSink({ highWaterMark: 4 * MIB }),
  });
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    for (const pdv of pdvs) r.push(pdv);
    await r.settled();
  }
  if (delivered !== rounds) throw new Error(`delivered ${delivered} of ${rounds}`);
  return mbPerSecond(rounds * data.length, started);
}

async function endToEnd(max: number, streamed: boolean): Promise<number> {
  const [a, b] = createChannelPair({ maxPdvLength: max, poison: false, highWaterBytes: 4 * MIB });
  const scu = new DimseEndpoint(a);
  new DimseEndpoint(b, {
    datasetSink: () => new NullSink({ highWaterMark: 4 * MIB }),
    onRequest: (msg, ctx) =>
      ctx.respond({
        commandField: CommandField.C_STORE_RSP,
        messageIdBeingRespondedTo: msg.command.messageId,
        status: 0,
        hasDataset: false,
      }),
  });
  const dataset = streamed ? source(total) : Buffer.alloc(total, 0x5a);
  const started = process.hrtime.bigint();
  const rsp = await scu.requestOne({
    contextId: STORAGE_CONTEXT,
    command: {
      commandField: CommandField.C_STORE_RQ,
      messageId: 1,
      affectedSopClassUid: CT,
      affectedSopInstanceUid: '1.2.3',
      hasDataset: true,
    },
    dataset,
  });
  if (rsp.command.status !== 0) throw new Error(`status ${rsp.command.status}`);
  const result = mbPerSecond(total, started);
  await a.release();
  return result;
}

const rows: Record<string, string>[] = [];
for (const max of PDV_SIZES) {
  rows.push({
    'max PDV': String(max),
    'fragment MB/s': (await fragmentOnly(max)).toFixed(0),
    'reassemble MB/s': (await reassembleOnly(max)).toFixed(0),
    'end-to-end Buffer MB/s': (await endToEnd(max, false)).toFixed(0),
    'end-to-end stream MB/s': (await endToEnd(max, true)).toFixed(0),
  });
}
console.log(`DIMSE throughput, ${total / MIB} MiB per run, node ${process.version}`);
console.table(rows);
