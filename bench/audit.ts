// Audit trail benchmark: what an audit record costs the node. Prints µs per record for the
// append-only file (fdatasync per record, batched in the background, none), the part of it
// the hash chain takes (linking and hashing the line), and the RFC 5425 sender's throughput to an
// in-process TLS collector (mutual authentication), with the real XML of a C-STORE event.
// Run: node dist/bench/audit.js [--records N] [--messages N]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createServer } from 'node:tls';
import {
  AuditFileSink,
  type AuditMessage,
  chainedLine,
  EMPTY_HEAD,
  lineHash,
  type AuditSink,
  OctetCountedParser,
  SyslogAuditSink,
  SyslogTlsSender,
} from '../src/audit/index.js';
import { silentLogger } from '../src/log.js';
import { AuditTrail } from '../src/node/audit.js';
import { createDevelopmentPki } from '../src/tls/pki.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const SMOKE = process.env.BENCH_SMOKE === '1';
const RECORDS = arg('records', SMOKE ? 200 : 2000);
const MESSAGES = arg('messages', SMOKE ? 1000 : 20000);

/** A realistic event: a C-STORE association of 3 studies over TLS. */
function sampleMessage(): AuditMessage {
  let captured: AuditMessage | undefined;
  const sink: AuditSink = { write: (m) => (captured = m), close: async () => undefined };
  new AuditTrail(silentLogger(), 'DICOMNET', [sink]).instancesTransferred(
    'C',
    {
      callingAet: 'MODALITY',
      remoteAddress: '10.1.2.3',
      secureLink: { peerCertificate: { subject: 'CN=modality, O=Hospital' } } as never,
    },
    new Map([
      ['1.2.826.0.1.3680043.2.1125.1.111', 120],
      ['1.2.826.0.1.3680043.2.1125.1.222', 40],
      ['1.2.826.0.1.3680043.2.1125.1.333', 2],
    ]),
  );
  return captured as AuditMessage;
}

async function fileCost(fsync: 'always' | 'batch' | 'none', dir: string): Promise<number> {
  const sink = new AuditFileSink(join(dir, `audit-${fsync}.log`), { fsync });
  const m = sampleMessage();
  const start = performance.now();
  for (let i = 0; i < RECORDS; i++) sink.write(m);
  const us = ((performance.now() - start) * 1000) / RECORDS;
  await sink.close();
  return us;
}

/**
 * The hash chain's share of a record: serializing with the link and hashing the line,
 * against serializing alone, no I/O; interleaved rounds, medians (the machine's speed drifts).
 */
function chainCost(): { chained: number; plain: number } {
  const m = sampleMessage();
  let head = EMPTY_HEAD;
  let sink = 0;
  const n = RECORDS;
  const plain: number[] = [];
  const chained: number[] = [];
  for (let round = 0; round < 11; round++) {
    let start = performance.now();
    for (let i = 0; i < n; i++) sink += JSON.stringify(m).length;
    plain.push(((performance.now() - start) * 1000) / n);
    start = performance.now();
    for (let i = 0; i < n; i++) {
      const line = chainedLine(m, head);
      head = { seq: head.seq + 1, hash: lineHash(line) };
    }
    chained.push(((performance.now() - start) * 1000) / n);
  }
  if (sink < 0) console.log(sink);
  return { chained: median(chained), plain: median(plain) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function syslogThroughput(dir: string): Promise<{ perSecond: number; bytes: number }> {
  const pki = await createDevelopmentPki(join(dir, 'pki'));
  let received = 0;
  let bytes = 0;
  const server = createServer(
    {
      key: readFileSync(pki.serverKey),
      cert: readFileSync(pki.serverCertificate),
      ca: readFileSync(pki.caCertificate),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket) => {
      const parser = new OctetCountedParser();
      socket.on('data', (chunk: Buffer) => {
        for (const frame of parser.push(chunk)) {
          received++;
          bytes += frame.length;
        }
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const sender = new SyslogTlsSender({
    host: 'localhost',
    port,
    ca: pki.caCertificate,
    cert: pki.clientCertificate,
    key: pki.clientKey,
    queueLimit: MESSAGES,
  });
  const sink = new SyslogAuditSink(sender);
  sender.start();
  const m = sampleMessage();
  const start = performance.now();
  for (let i = 0; i < MESSAGES; i++) sink.write(m);
  while (received < MESSAGES) await new Promise((r) => setTimeout(r, 5));
  const ms = performance.now() - start;
  await sink.close(1000);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { perSecond: (MESSAGES / ms) * 1000, bytes: bytes / MESSAGES };
}

const dir = mkdtempSync(join(tmpdir(), 'bench-audit-'));
try {
  const always = await fileCost('always', dir);
  const batch = await fileCost('batch', dir);
  const none = await fileCost('none', dir);
  const chain = chainCost();
  const syslog = await syslogThroughput(dir);
  console.log(`audit record: ${Buffer.byteLength(JSON.stringify(sampleMessage()))} bytes JSON`);
  console.log('| destination | cost |');
  console.log('| --- | --- |');
  console.log(`| file, fsync always | ${always.toFixed(1)} µs/record |`);
  console.log(`| file, fsync batch (default) | ${batch.toFixed(1)} µs/record on the event loop |`);
  console.log(`| file, fsync none | ${none.toFixed(1)} µs/record |`);
  console.log(
    `| of which the hash chain (link + SHA-256 of the line) | ${(chain.chained - chain.plain).toFixed(1)} µs/record (JSON alone ${chain.plain.toFixed(1)} µs) |`,
  );
  console.log(
    `| syslog over TLS (RFC 5425, mutual auth) | ${Math.round(syslog.perSecond)} messages/s, ${Math.round(syslog.bytes)} bytes each |`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
