// Bench helper: the floor. The least a Node.js C-STORE SCU or storage SCP can do on this machine,
// with no DICOM stack around it: no state machine, no negotiation rules, no validation, no
// data set parsing beyond the file meta header, no handler API, no limits, no logging. It shows
// what Node itself reaches here, so that the dicomnet rows of bench/floor.ts can be read against
// it. It trusts its peer completely: never use it as an implementation.
// Args:
//   scu <host> <port> <window> <files...>  → "DONE <ms> 0 <cpuUs>"
//   scp <port> <receivedDir> <tempDir>     → "READY <port>"; on SIGTERM "CPU <µs>" and exit
//   sendfile <host> <port> <file>          → "DONE <ms> 0 <cpuUs>": the file's bytes, no DICOM at all
//   recvfile <port> <dir>                  → "READY <port>": writes what arrives to a file in <dir>
// BENCH_TLS_DIR (client.key/.crt or server.key/.crt, and ca.crt) runs them over TLS.
import { once } from 'node:events';
import { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync } from 'node:fs';
import { connect as netConnect, createServer as createNetServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { part10HeaderFromBytes } from '../src/data/part10.js';
import { type CommandSet, decodeCommandSet, encodeCommandSet } from '../src/dimse/command-set.js';
import { writeAllSync } from '../src/services/store-sink.js';
import { decodePdu } from '../src/network/pdu/decode.js';
import { encodePdu } from '../src/network/pdu/encode.js';
import { emptyUserInformation, type PresentationContextRqItem } from '../src/network/pdu/types.js';
import { peakRssKb } from './_peak-rss.js';

const [mode, ...args] = process.argv.slice(2);
const tlsDir = process.env.BENCH_TLS_DIR || undefined;
const MAX_PDU = 1 << 20;
const RELEASE_RQ = Buffer.from([5, 0, 0, 0, 0, 4, 0, 0, 0, 0]);
const RELEASE_RP = Buffer.from([6, 0, 0, 0, 0, 4, 0, 0, 0, 0]);

/** Whole PDUs out of a byte stream: one concatenation per PDU at most. */
class PduSplitter {
  private chunks: Buffer[] = [];
  private have = 0;
  constructor(private readonly onPdu: (type: number, pdu: Buffer) => void) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.have += chunk.length;
    for (;;) {
      if (this.have < 6) return;
      let head = this.chunks[0] as Buffer;
      if (head.length < 6) head = this.flatten();
      const total = 6 + head.readUInt32BE(2);
      if (this.have < total) return;
      if (head.length < total) head = this.flatten();
      this.chunks[0] = head.subarray(total);
      if ((this.chunks[0] as Buffer).length === 0) this.chunks.shift();
      this.have -= total;
      this.onPdu(head[0] as number, head.subarray(0, total));
    }
  }
  private flatten(): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks = [all];
    return all;
  }
}

/** The 12 bytes before one PDV: P-DATA-TF header and PDV item header. */
function pdvHeader(contextId: number, control: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(12);
  h[0] = 4;
  h[1] = 0;
  h.writeUInt32BE(6 + length, 2);
  h.writeUInt32BE(2 + length, 6);
  h[10] = contextId;
  h[11] = control;
  return h;
}

function tlsFile(name: string): Buffer {
  return readFileSync(join(tlsDir as string, name));
}

async function scu(): Promise<void> {
  const [host = '127.0.0.1', portText = '0', windowText = '1', ...files] = args;
  const window = Math.max(1, Number(windowText));
  const started = performance.now();
  const startCpu = process.cpuUsage();
  const headers = files.map((file) => {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const probe = Buffer.allocUnsafe(16384);
      const n = readSync(fd, probe, 0, probe.length, 0);
      return { ...part10HeaderFromBytes(probe.subarray(0, n), size), size };
    } finally {
      closeSync(fd);
    }
  });
  const syntaxes = new Map<string, Set<string>>();
  for (const h of headers) {
    const set = syntaxes.get(h.sopClassUid ?? '') ?? new Set<string>();
    set.add(h.transferSyntaxUid);
    syntaxes.set(h.sopClassUid ?? '', set);
  }
  const contexts: PresentationContextRqItem[] = [...syntaxes].map(([abstractSyntax, ts], i) => ({
    id: 2 * i + 1,
    abstractSyntax,
    transferSyntaxes: [...ts],
  }));
  const contextOf = new Map(contexts.map((c) => [c.abstractSyntax, c.id]));
  const socket = connectTo(host, Number(portText));
  // one read buffer per message that can be in flight: slot i % (window + 1) is free again once
  // at most `window` messages after it were sent
  const pool = Array.from({ length: window + 1 }, () => Buffer.allocUnsafe(MAX_PDU));
  let peerMaxPdu = 16384;
  let next = 0;
  let inFlight = 0;
  let answered = 0;
  let messageId = 1;
  let sending = Promise.resolve();
  const finished = new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    const splitter = new PduSplitter((type, pdu) => {
      if (type === 2) {
        const ac = decodePdu(pdu);
        if (ac.type === 'A-ASSOCIATE-AC') peerMaxPdu = ac.userInfo.maxLength || MAX_PDU;
        pump();
      } else if (type === 4) {
        if (((pdu[11] as number) & 3) === 3) {
          answered++;
          inFlight--;
          pump();
        }
      } else if (type === 6) {
        socket.end();
        resolve();
      } else {
        reject(new Error(`floor SCU: unexpected PDU type ${type}`));
      }
    });
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
  });
  const send = async (i: number): Promise<void> => {
    const h = headers[i] as (typeof headers)[number];
    const contextId = contextOf.get(h.sopClassUid ?? '') as number;
    const command = encodeCommandSet({
      commandField: 1,
      messageId: messageId++,
      affectedSopClassUid: h.sopClassUid,
      affectedSopInstanceUid: h.sopInstanceUid,
      priority: 0,
      hasDataset: true,
    });
    const chunk = Math.min(peerMaxPdu, MAX_PDU) - 6;
    const fd = openSync(files[i] as string, 'r');
    try {
      const length = h.size - h.datasetOffset;
      if (h.size <= MAX_PDU) {
        const buf = pool[i % pool.length] as Buffer;
        readSync(fd, buf, 0, h.size, 0);
        socket.cork();
        socket.write(pdvHeader(contextId, 3, command.length));
        socket.write(command);
        for (let at = 0; at < length; at += chunk) {
          const part = buf.subarray(h.datasetOffset + at, h.datasetOffset + Math.min(length, at + chunk));
          socket.write(pdvHeader(contextId, at + chunk >= length ? 2 : 0, part.length));
          socket.write(part);
        }
        socket.uncork();
        return;
      }
      socket.write(pdvHeader(contextId, 3, command.length));
      socket.write(command);
      for (let at = 0; at < length; at += chunk) {
        const part = Buffer.allocUnsafe(Math.min(chunk, length - at));
        readSync(fd, part, 0, part.length, h.datasetOffset + at);
        socket.write(pdvHeader(contextId, at + chunk >= length ? 2 : 0, part.length));
        if (!socket.write(part)) await once(socket, 'drain');
      }
    } finally {
      closeSync(fd);
    }
  };
  const pump = () => {
    while (inFlight < window && next < files.length) {
      const i = next++;
      inFlight++;
      sending = sending.then(() => send(i));
    }
    if (answered === files.length) void sending.then(() => socket.write(RELEASE_RQ));
  };
  socket.once(tlsDir ? 'secureConnect' : 'connect', () => {
    socket.write(
      encodePdu({
        type: 'A-ASSOCIATE-RQ',
        protocolVersion: 1,
        calledAet: 'ANY-SCP',
        callingAet: 'FLOOR',
        applicationContext: '1.2.840.10008.3.1.1.1',
        presentationContexts: contexts,
        userInfo: {
          ...emptyUserInformation(),
          maxLength: MAX_PDU,
          implementationClassUid: '1.2.826.0.1.3680043.10.1',
          ...(window > 1 ? { asyncOpsWindow: { invoked: window, performed: 1 } } : {}),
        },
      }),
    );
  });
  await finished;
  const cpu = process.cpuUsage(startCpu);
  process.stdout.write(`DONE ${(performance.now() - started).toFixed(1)} 0 ${cpu.user + cpu.system}\n`);
}

function serveConnection(socket: Socket, receivedDir: string, tempDir: string, counter: { n: number }): void {
  socket.setNoDelay(true);
  let commandParts: Buffer[] = [];
  let command: CommandSet | undefined;
  let fd = -1;
  let tempPath = '';
  const splitter = new PduSplitter((type, pdu) => {
    if (type === 1) {
      const rq = decodePdu(pdu);
      if (rq.type !== 'A-ASSOCIATE-RQ') return;
      socket.write(
        encodePdu({
          type: 'A-ASSOCIATE-AC',
          protocolVersion: 1,
          calledAet: rq.calledAet,
          callingAet: rq.callingAet,
          applicationContext: rq.applicationContext,
          presentationContexts: rq.presentationContexts.map((p) => ({
            id: p.id,
            result: 0,
            transferSyntax: p.transferSyntaxes[0],
          })),
          userInfo: {
            ...emptyUserInformation(),
            maxLength: MAX_PDU,
            implementationClassUid: '1.2.826.0.1.3680043.10.1',
            ...(rq.userInfo.asyncOpsWindow ? { asyncOpsWindow: rq.userInfo.asyncOpsWindow } : {}),
          },
        }),
      );
    } else if (type === 4) {
      for (let at = 6; at < pdu.length;) {
        const length = pdu.readUInt32BE(at);
        const contextId = pdu[at + 4] as number;
        const control = pdu[at + 5] as number;
        const value = pdu.subarray(at + 6, at + 4 + length);
        at += 4 + length;
        if (control & 1) {
          commandParts.push(value);
          if (control & 2) {
            command = decodeCommandSet(commandParts.length === 1 ? value : Buffer.concat(commandParts));
            commandParts = [];
            tempPath = join(tempDir, `${process.pid}-${counter.n++}.part`);
            fd = openSync(tempPath, 'w');
          }
          continue;
        }
        writeAllSync(fd, [value]);
        if (!(control & 2) || !command) continue;
        closeSync(fd);
        renameSync(tempPath, join(receivedDir, `${command.affectedSopInstanceUid}.dcm`));
        const rsp = encodeCommandSet({
          commandField: 0x8001,
          messageIdBeingRespondedTo: command.messageId,
          affectedSopClassUid: command.affectedSopClassUid,
          affectedSopInstanceUid: command.affectedSopInstanceUid,
          status: 0,
          hasDataset: false,
        });
        socket.cork();
        socket.write(pdvHeader(contextId, 3, rsp.length));
        socket.write(rsp);
        socket.uncork();
      }
    } else if (type === 5) {
      socket.end(RELEASE_RP);
    } else {
      socket.destroy();
    }
  });
  socket.on('data', (chunk: Buffer) => splitter.push(chunk));
  socket.on('error', () => undefined);
}

async function scp(): Promise<void> {
  const [portText = '0', receivedDir = '.', tempDir = '.'] = args;
  const counter = { n: 0 };
  await listen(portText, (socket) => serveConnection(socket, receivedDir, tempDir, counter));
}

/** A file's bytes over the socket in 1 MiB reads, each buffer reused once its write completed. */
async function sendFile(): Promise<void> {
  const [host = '127.0.0.1', portText = '0', file = ''] = args;
  const started = performance.now();
  const startCpu = process.cpuUsage();
  const socket = connectTo(host, Number(portText));
  await once(socket, tlsDir ? 'secureConnect' : 'connect');
  const reply = once(socket, 'data');
  const fd = openSync(file, 'r');
  const size = fstatSync(fd).size;
  const ring = Array.from({ length: 8 }, () => ({
    buf: Buffer.allocUnsafe(MAX_PDU),
    written: Promise.resolve(),
  }));
  for (let at = 0, k = 0; at < size; k++) {
    const slot = ring[k % ring.length] as (typeof ring)[number];
    await slot.written;
    const n = readSync(fd, slot.buf, 0, Math.min(MAX_PDU, size - at), at);
    at += n;
    const view = slot.buf.subarray(0, n);
    slot.written = new Promise((resolve) => socket.write(view, () => resolve()));
  }
  closeSync(fd);
  socket.end();
  await reply;
  socket.destroy();
  const cpu = process.cpuUsage(startCpu);
  process.stdout.write(`DONE ${(performance.now() - started).toFixed(1)} 0 ${cpu.user + cpu.system}\n`);
}

/** Every byte that arrives goes into a temp file, renamed when the sender ends its side. */
async function receiveFiles(): Promise<void> {
  const [portText = '0', dir = '.'] = args;
  let n = 0;
  await listen(portText, (socket) => {
    const temp = join(dir, `${process.pid}-${n++}.part`);
    const fd = openSync(temp, 'w');
    // TLS hands over one record (≤ 16 KB) at a time: gathered into 1 MiB writes
    let held: Buffer[] = [];
    let heldBytes = 0;
    const flush = () => {
      writeAllSync(fd, held);
      held = [];
      heldBytes = 0;
    };
    socket.on('data', (chunk: Buffer) => {
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes >= MAX_PDU) flush();
    });
    socket.on('end', () => {
      flush();
      closeSync(fd);
      renameSync(temp, `${temp.slice(0, -5)}.bin`);
      socket.end(Buffer.from([1]));
    });
    socket.on('error', () => undefined);
  });
}

function connectTo(host: string, port: number): Socket {
  const socket: Socket = tlsDir
    ? tlsConnect({
        host,
        port,
        key: tlsFile('client.key'),
        cert: tlsFile('client.crt'),
        ca: tlsFile('ca.crt'),
      })
    : netConnect({ host, port });
  socket.setNoDelay(true);
  return socket;
}

/** Listen on 127.0.0.1, print READY, and on SIGTERM print the CPU time since then and exit. */
async function listen(portText: string, onConnection: (socket: Socket) => void): Promise<void> {
  const server: Server = tlsDir
    ? createTlsServer({ key: tlsFile('server.key'), cert: tlsFile('server.crt') }, onConnection)
    : createNetServer(onConnection);
  await new Promise<void>((resolve) => server.listen(Number(portText), '127.0.0.1', resolve));
  const address = server.address();
  const readyCpu = process.cpuUsage();
  process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
  process.on('SIGTERM', () => {
    const cpu = process.cpuUsage(readyCpu);
    process.stdout.write(`MAXRSS ${peakRssKb()}\nCPU ${cpu.user + cpu.system}\n`);
    process.exit(0);
  });
}

const modes: Record<string, () => Promise<void>> = { scu, scp, sendfile: sendFile, recvfile: receiveFiles };
const run = modes[mode ?? ''];
if (!run)
  throw new Error(
    `usage: _floor (scu host port window files... | scp port receivedDir tempDir | sendfile host port file | recvfile port dir)`,
  );
await run();
