// Bench helper: dicomnet as SCU in its own process. Args: mode host port [args...]
//   store <host> <port> <window> <files...>          → "DONE <ms> <maxRssKb>" (+ "LINK <protocol> <cipher>" over TLS)
//   echo-assocs <host> <port> <count>                → "DONE <ms> <maxRssKb>" (one association per C-ECHO)
//   rawtls <host> <port> <bytes> <chunkBytes>         → "DONE <ms> <maxRssKb>" (plain Node TLS socket, same bytes)
// Environment: BENCH_TLS_DIR (client.key, client.crt, ca.crt) secures store/echo-assocs;
// BENCH_NO_RESUME=1 turns TLS session resumption off; BENCH_CIPHER / BENCH_TLS_VERSION pin rawtls.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { connect } from '../src/services/client.js';
import { storageContextsFor } from '../src/services/presentation.js';
import { SopClass } from '../src/services/sop-classes.js';
import { storableHeader } from '../src/services/store-scu.js';
import type { SecureLinkInfo, TlsOptions } from '../src/tls/types.js';
import { peakRssKb } from './_peak-rss.js';

const [mode, host = '127.0.0.1', portText = '0', ...rest] = process.argv.slice(2);
const port = Number(portText);
const tlsDir = process.env.BENCH_TLS_DIR;

function tlsFrom(dir: string | undefined): TlsOptions | undefined {
  return dir
    ? {
        key: join(dir, 'client.key'),
        cert: join(dir, 'client.crt'),
        ca: [join(dir, 'ca.crt')],
        sessionResumption: process.env.BENCH_NO_RESUME !== '1',
      }
    : undefined;
}

function printLink(link: SecureLinkInfo | undefined): void {
  if (link) process.stdout.write(`LINK ${link.protocol} ${link.cipherSuite} resumed=${link.resumed}\n`);
}

// from after start-up (module loading), which the DCMTK tools' wall times include
let started = performance.now();
const startCpu = process.cpuUsage();
if (mode === 'store') {
  const window = Number(rest[0] ?? 1);
  const files = rest.slice(1);
  // like storescu, which checks every file before it associates, the time includes reading the headers
  const headers = await Promise.all(files.map((f) => storableHeader(f)));
  const assoc = await connect({
    host,
    port,
    calledAet: 'ANY-SCP',
    maxPduLength: 1 << 20,
    contexts: storageContextsFor(headers),
    asyncOps: window > 1 ? { invoked: window, performed: 1 } : undefined,
    tls: tlsFrom(tlsDir),
  });
  printLink(assoc.secureLink);
  let next = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < files.length) {
        const i = next++;
        await assoc.store(files[i] as string, { header: headers[i] });
      }
    }),
  );
  await assoc.release();
} else if (mode === 'echo-assocs') {
  const count = Number(rest[0] ?? 1);
  const tls = tlsFrom(tlsDir);
  let resumed = 0;
  for (let i = 0; i < count; i++) {
    const assoc = await connect({
      host,
      port,
      calledAet: 'ANY-SCP',
      contexts: [{ abstractSyntax: SopClass.Verification, transferSyntaxes: ['1.2.840.10008.1.2'] }],
      tls,
    });
    if (assoc.secureLink?.resumed) resumed++;
    if (i === count - 1) printLink(assoc.secureLink);
    await assoc.echo();
    await assoc.release();
  }
  if (tls) process.stdout.write(`RESUMED ${resumed}/${count}\n`);
} else if (mode === 'rawtls') {
  if (!tlsDir) throw new Error('rawtls needs BENCH_TLS_DIR');
  const total = Number(rest[0] ?? 0);
  const chunk = Buffer.alloc(Number(rest[1] ?? 1 << 20), 0x5a);
  const version = (process.env.BENCH_TLS_VERSION ?? 'TLSv1.3') as 'TLSv1.3' | 'TLSv1.2';
  const cipher = process.env.BENCH_CIPHER;
  started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const socket = tlsConnect({
      host,
      port,
      ca: readFileSync(join(tlsDir, 'ca.crt')),
      servername: 'localhost',
      minVersion: version,
      maxVersion: version,
      ...(cipher ? (version === 'TLSv1.3' ? { ciphersuites: cipher } : { ciphers: cipher }) : {}),
    });
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.once('data', () => {
      socket.destroy();
      resolve();
    });
    socket.once('secureConnect', () => {
      process.stdout.write(`LINK ${socket.getProtocol()} ${socket.getCipher().standardName}\n`);
      let sent = 0;
      const pump = (): void => {
        while (sent < total) {
          const n = Math.min(chunk.length, total - sent);
          sent += n;
          if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
            socket.once('drain', pump);
            return;
          }
        }
        socket.end();
      };
      pump();
    });
  });
} else {
  throw new Error(`unknown mode ${mode}`);
}
const cpu = process.cpuUsage(startCpu);
// DONE <ms> <maxRssKb> <cpuUs>: CPU (user + system) over the same span as <ms>
process.stdout.write(
  `DONE ${(performance.now() - started).toFixed(1)} ${peakRssKb()} ${cpu.user + cpu.system}\n`,
);
