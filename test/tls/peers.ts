/** Test rig for the TLS layer: an acceptor on a real TCP port and a client connecting to it. */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  type AcceptedSecureConnection,
  createSecureAcceptor,
  type SecureAcceptor,
} from '../../src/tls/acceptor.js';
import { type SecureConnection, secureClientConnect } from '../../src/tls/client.js';
import type { TlsError } from '../../src/tls/errors.js';
import type { TlsOptions } from '../../src/tls/types.js';

/** What one `accept()` ended with. */
export type AcceptOutcome = { ok: AcceptedSecureConnection } | { err: TlsError };

/** A listening acceptor: every accepted TLS socket echoes what it receives. */
export interface TestAcceptor {
  port: number;
  acceptor: SecureAcceptor;
  /** Resolves with the outcome of the next (not yet consumed) accept. */
  nextOutcome(): Promise<AcceptOutcome>;
  close(): Promise<void>;
}

export async function startAcceptor(opts: TlsOptions, handshakeTimeoutMs = 5000): Promise<TestAcceptor> {
  const acceptor = await createSecureAcceptor(opts);
  const outcomes: AcceptOutcome[] = [];
  const waiters: ((o: AcceptOutcome) => void)[] = [];
  const sockets = new Set<Socket | TLSSocket>();
  const push = (o: AcceptOutcome) => {
    const w = waiters.shift();
    if (w) w(o);
    else outcomes.push(o);
  };
  const server: Server = createServer((raw) => {
    sockets.add(raw);
    raw.on('error', () => {});
    acceptor.accept(raw, { handshakeTimeoutMs }).then(
      (ok) => {
        sockets.add(ok.socket);
        ok.socket.on('error', () => {});
        ok.socket.on('data', (d: Buffer) => ok.socket.write(d));
        push({ ok });
      },
      (err: TlsError) => push({ err }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    acceptor,
    nextOutcome: () => {
      const o = outcomes.shift();
      if (o) return Promise.resolve(o);
      return new Promise((resolve) => waiters.push(resolve));
    },
    close: async () => {
      acceptor.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Open a TCP connection to 127.0.0.1:port. */
export function tcpConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** TCP connect then TLS handshake; `host` defaults to 127.0.0.1, session resumption off unless asked. */
export async function connectClient(
  port: number,
  opts: TlsOptions & { host?: string; handshakeTimeoutMs?: number },
): Promise<SecureConnection> {
  const socket = await tcpConnect(port);
  const result = await secureClientConnect(socket, {
    sessionResumption: false,
    ...opts,
    host: opts.host ?? '127.0.0.1',
    port,
  });
  result.socket.on('error', () => {});
  return result;
}

/** Send bytes and wait for the echo. */
export function roundTrip(socket: TLSSocket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(text);
  });
}

/** Expect a promise to reject with a TlsError of `code`; returns it. */
export async function expectTlsError(p: Promise<unknown>, code: string): Promise<TlsError> {
  try {
    await p;
  } catch (err) {
    const e = err as TlsError;
    if (e.code !== code) throw new Error(`expected ${code}, got ${e.code}: ${e.message}`, { cause: err });
    return e;
  }
  throw new Error(`expected ${code}, but it succeeded`);
}
