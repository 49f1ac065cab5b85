// Bench helper: dicomnet as SCU in its own process. Args: mode host port [args...]
//   store <host> <port> <window> <files...>   → "DONE <ms> <maxRssKb>"
//   echo-assocs <host> <port> <count> [tlsDir] → "DONE <ms> <maxRssKb>"
import { join } from 'node:path';
import { connect } from '../src/services/client.js';
import { storageContextsFor } from '../src/services/presentation.js';
import { storableHeader } from '../src/services/store-scu.js';
import { SopClass } from '../src/services/sop-classes.js';
import type { TlsOptions } from '../src/tls/types.js';

const [mode, host = '127.0.0.1', portText = '0', ...rest] = process.argv.slice(2);
const port = Number(portText);

function tlsFrom(dir: string | undefined): TlsOptions | undefined {
  return dir
    ? { key: join(dir, 'client.key'), cert: join(dir, 'client.crt'), ca: [join(dir, 'ca.crt')] }
    : undefined;
}

const started = performance.now();
if (mode === 'store') {
  const window = Number(rest[0] ?? 1);
  const tlsDir = process.env.BENCH_TLS_DIR;
  const files = rest.slice(1);
  const headers = await Promise.all(files.map((f) => storableHeader(f)));
  const assoc = await connect({
    host,
    port,
    calledAet: 'ANY-SCP',
    maxPduLength: 1 << 20,
    contexts: storageContextsFor(headers),
    asyncOps: { invoked: window, performed: 1 },
    tls: tlsFrom(tlsDir),
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < files.length) await assoc.store(files[next++] as string);
    }),
  );
  await assoc.release();
} else if (mode === 'echo-assocs') {
  const count = Number(rest[0] ?? 1);
  const tls = tlsFrom(rest[1]);
  for (let i = 0; i < count; i++) {
    const assoc = await connect({
      host,
      port,
      calledAet: 'ANY-SCP',
      contexts: [{ abstractSyntax: SopClass.Verification, transferSyntaxes: ['1.2.840.10008.1.2'] }],
      tls,
    });
    await assoc.echo();
    await assoc.release();
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
process.stdout.write(`DONE ${(performance.now() - started).toFixed(1)} ${process.resourceUsage().maxRSS}\n`);
