/**
 * A syslog-over-TLS collector for tests: a node:tls server that verifies client
 * certificates against a CA (when given), splits the RFC 5425 octet-counted stream and
 * parses each RFC 5424 message.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { OctetCountedParser, type ParsedSyslogMessage, parseSyslogMessage } from '../../src/audit/index.js';

export interface ReceivedMessage extends ParsedSyslogMessage {
  /** Subject CN of the client certificate, when one was sent. */
  clientCn?: string;
}

export interface SyslogReceiver {
  port: number;
  messages: ReceivedMessage[];
  /** Framing or parse errors (there should be none). */
  errors: Error[];
  /** TLS connections accepted. */
  connections: number;
  /** Wait until `count` messages satisfy `pred` (throws after `timeoutMs`). */
  waitFor(
    pred: (m: ReceivedMessage) => boolean,
    count?: number,
    timeoutMs?: number,
  ): Promise<ReceivedMessage[]>;
  close(): Promise<void>;
}

export async function startSyslogReceiver(options: {
  key: string;
  cert: string;
  /** Require and verify a client certificate issued by this CA. */
  ca?: string;
  port?: number;
}): Promise<SyslogReceiver> {
  const messages: ReceivedMessage[] = [];
  const errors: Error[] = [];
  const sockets = new Set<TLSSocket>();
  let connections = 0;
  const server: Server = createServer(
    {
      key: readFileSync(options.key),
      cert: readFileSync(options.cert),
      ...(options.ca ? { ca: readFileSync(options.ca), requestCert: true, rejectUnauthorized: true } : {}),
    },
    (socket) => {
      connections++;
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      const cn = socket.getPeerCertificate()?.subject?.CN;
      const parser = new OctetCountedParser();
      socket.on('data', (chunk: Buffer) => {
        try {
          for (const frame of parser.push(chunk)) {
            const m: ReceivedMessage = parseSyslogMessage(frame);
            if (typeof cn === 'string') m.clientCn = cn;
            messages.push(m);
          }
        } catch (err) {
          errors.push(err as Error);
          socket.destroy();
        }
      });
      socket.on('error', () => undefined);
    },
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    messages,
    errors,
    get connections() {
      return connections;
    },
    async waitFor(pred, count = 1, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.filter(pred);
        if (found.length >= count) return found;
        if (Date.now() > deadline)
          throw new Error(
            `syslog receiver: ${found.length}/${count} matching messages after ${timeoutMs} ms (${messages.length} received)`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The csd-code of the EventID element of a DICOM audit message XML. */
export function eventIdOf(xml: string): string | undefined {
  return /<EventID csd-code="(\d+)"/.exec(xml)?.[1];
}

/** Minimal well-formedness check for the XML subset the audit messages use (tags, attributes, text). */
export function assertWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml version="1\.0" encoding="UTF-8"\?>/, '');
  const token =
    /<\/([A-Za-z][\w-]*)>|<([A-Za-z][\w-]*)((?:\s+[A-Za-z][\w-]*="[^"<&]*(?:&(?:amp|lt|gt|quot|apos|#\d+);[^"<&]*)*")*)\s*(\/?)>|([^<&]+|&(?:amp|lt|gt|quot|apos|#\d+);)/gy;
  const stack: string[] = [];
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = token.exec(body)) !== null) {
    if (m[1]) {
      if (stack.pop() !== m[1]) throw new Error(`XML: unbalanced </${m[1]}> at ${m.index}`);
    } else if (m[2] && m[4] !== '/') stack.push(m[2]);
    last = token.lastIndex;
    if (last === body.length) break;
  }
  if (last !== body.length)
    throw new Error(`XML: not well-formed at ${last}: ${body.slice(last, last + 60)}`);
  if (stack.length > 0) throw new Error(`XML: unclosed <${stack.join('>, <')}>`);
}
