// Bench helper: a dicomnet storage SCP in its own process, so its memory can be measured.
// Args: port [tlsDir]. Prints "READY <port>"; on SIGTERM prints "MAXRSS <kB>" and exits.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Status } from '../src/dimse/index.js';
import { DicomServer } from '../src/services/server.js';

const port = Number(process.argv[2] ?? 0);
const tlsDir = process.argv[3];
const server = new DicomServer({
  aet: 'DICOMNET',
  acceptAnyCalledAet: true,
  maxPduLength: 1 << 20,
  maxOperations: 16,
  tls: tlsDir
    ? { key: join(tlsDir, 'server.key'), cert: join(tlsDir, 'server.crt'), ca: [join(tlsDir, 'ca.crt')] }
    : undefined,
  handlers: {
    store: async ({ file }) => {
      await rm(file, { force: true });
      return Status.Success;
    },
  },
});
const { port: bound } = await server.listen({ port, host: '127.0.0.1' });
process.stdout.write(`READY ${bound}\n`);
process.on('SIGTERM', () => {
  process.stdout.write(`MAXRSS ${process.resourceUsage().maxRSS}\n`);
  void server.close().then(() => process.exit(0));
});
