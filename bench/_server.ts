// Bench helper: a server in its own process, so its memory can be measured.
// Args: mode port [tlsDir]
//   dicom  — a dicomnet storage SCP (TLS when tlsDir is given); stores into a temp file, then moves it
//            into BENCH_RECEIVED_DIR (as storescp -od keeps its files) or, without it, deletes it
//   rawtls — a plain Node TLS server that reads and drops every byte (the TLS ceiling); answers one
//            byte when the client ends its side
// Prints "READY <port>"; on SIGTERM prints "MAXRSS <kB>" and "CPU <µs since READY>" and exits.
import { readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { Status } from '../src/dimse/index.js';
import { DicomServer } from '../src/services/server.js';
import { peakRssKb } from './_peak-rss.js';

const [mode = 'dicom', portText = '0', tlsDir] = process.argv.slice(2);
const port = Number(portText);
/** Where received files are kept (BENCH_RECEIVED_DIR, as storescp -od); unset = deleted. */
const receivedDir = process.env.BENCH_RECEIVED_DIR || undefined;

async function dicom(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = new DicomServer({
    aet: 'DICOMNET',
    acceptAnyCalledAet: true,
    maxPduLength: Number(process.env.BENCH_MAX_PDU || 1 << 20),
    maxOperations: 16,
    tempDir: process.env.BENCH_TEMP_DIR || undefined,
    tls: tlsDir
      ? { key: join(tlsDir, 'server.key'), cert: join(tlsDir, 'server.crt'), ca: [join(tlsDir, 'ca.crt')] }
      : undefined,
    handlers: {
      // blocking rename, as dicomnet serve's storage commits (src/node/storage.ts): a thread-pool
      // round trip costs more than the rename itself
      store: ({ file, sopInstanceUid }) => {
        if (receivedDir) renameSync(file, join(receivedDir, `${sopInstanceUid}.dcm`));
        else unlinkSync(file);
        return Status.Success;
      },
    },
  });
  const bound = await server.listen({ port, host: '127.0.0.1' });
  return { port: bound.port, close: () => server.close() };
}

async function rawTls(): Promise<{ port: number; close: () => Promise<void> }> {
  if (!tlsDir) throw new Error('rawtls needs a tlsDir');
  const server = createTlsServer(
    {
      key: readFileSync(join(tlsDir, 'server.key')),
      cert: readFileSync(join(tlsDir, 'server.crt')),
    },
    (socket) => {
      socket.on('data', () => undefined);
      socket.on('end', () => socket.end(Buffer.from([1])));
      socket.on('error', () => undefined);
    },
  );
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const running = mode === 'rawtls' ? await rawTls() : await dicom();
const readyCpu = process.cpuUsage();
process.stdout.write(`READY ${running.port}\n`);
process.on('SIGTERM', () => {
  const cpu = process.cpuUsage(readyCpu);
  process.stdout.write(
    `MAXRSS ${peakRssKb()}\nCPU ${cpu.user + cpu.system} user ${cpu.user} system ${cpu.system}\n`,
  );
  void running.close().then(() => process.exit(0));
});
