/** Shared helpers for the upper layer tests: an in-process acceptor server and hand-made C-ECHO command sets. */
import { createServer, type Server, Socket } from 'node:net';
import {
  type AcceptorPolicy,
  type AssociationChannel,
  acceptAssociation,
  connectTcp,
  type Pdv,
  type RequestAssociationParams,
  requestAssociation,
} from '../../src/network/index.js';

export const VERIFICATION = '1.2.840.10008.1.1';
export const CT_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';

/** A TCP server on 127.0.0.1 that runs {@link acceptAssociation} on every connection. */
export interface TestAcceptor {
  port: number;
  server: Server;
  /** Resolves the next established channel. */
  nextChannel(): Promise<AssociationChannel>;
  /** Every acceptAssociation rejection, in order. */
  failures: Error[];
  nextFailure(): Promise<Error>;
  close(): Promise<void>;
}

export async function startAcceptor(policy: () => AcceptorPolicy): Promise<TestAcceptor> {
  const channels: AssociationChannel[] = [];
  const channelWaiters: ((c: AssociationChannel) => void)[] = [];
  const failures: Error[] = [];
  const failureWaiters: ((e: Error) => void)[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    acceptAssociation(socket, policy()).then(
      (c) => {
        const w = channelWaiters.shift();
        if (w) w(c);
        else channels.push(c);
      },
      (err: Error) => {
        failures.push(err);
        failureWaiters.shift()?.(err);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  let seenFailures = 0;
  return {
    port: address.port,
    server,
    failures,
    nextChannel: () => {
      const c = channels.shift();
      if (c) return Promise.resolve(c);
      return new Promise((resolve) => channelWaiters.push(resolve));
    },
    nextFailure: () => {
      const f = failures[seenFailures];
      if (f) {
        seenFailures++;
        return Promise.resolve(f);
      }
      return new Promise((resolve) =>
        failureWaiters.push((e) => {
          seenFailures++;
          resolve(e);
        }),
      );
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An acceptor policy that supports Verification and CT storage with implicit/explicit LE. */
export function basicPolicy(overrides: Partial<AcceptorPolicy> = {}): AcceptorPolicy {
  return {
    calledAets: ['DICOMNET'],
    transferSyntaxesFor: (abstractSyntax) =>
      abstractSyntax === VERIFICATION || abstractSyntax === CT_STORAGE
        ? [IMPLICIT_LE, EXPLICIT_LE]
        : undefined,
    timeoutMs: 5000,
    ...overrides,
  };
}

/** Connect to 127.0.0.1:port and request an association. */
export async function associate(
  port: number,
  overrides: Partial<RequestAssociationParams> = {},
): Promise<AssociationChannel> {
  const socket = await connectTcp({ host: '127.0.0.1', port, timeoutMs: 5000 });
  try {
    return await requestAssociation(socket, {
      callingAet: 'TESTSCU',
      calledAet: 'DICOMNET',
      contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
      timeoutMs: 5000,
      ...overrides,
    });
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** A raw TCP client: write bytes, collect what comes back until the peer closes. */
export async function rawExchange(port: number, bytes: Buffer, timeoutMs = 5000): Promise<Buffer> {
  const socket = new Socket();
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.connect(port, '127.0.0.1', () => resolve());
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(`peer did not close within ${timeoutMs} ms; got ${Buffer.concat(chunks).toString('hex')}`),
      );
    }, timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.write(bytes);
  });
}

/** Wait for the next 'pdvs' events until a PDV with `last` set arrives; returns all PDVs (data copied). */
export function collectMessagePart(channel: AssociationChannel, command: boolean): Promise<Pdv[]> {
  return new Promise((resolve) => {
    const got: Pdv[] = [];
    const onPdvs = (pdvs: Pdv[]): void => {
      for (const p of pdvs) {
        if (p.command !== command) continue;
        got.push({ ...p, data: Buffer.from(p.data) });
        if (p.last) {
          channel.off('pdvs', onPdvs);
          resolve(got);
          return;
        }
      }
    };
    channel.on('pdvs', onPdvs);
  });
}

/** Implicit VR little endian elements of group 0000, with (0000,0000) group length first. */
export function commandSet(elements: [number, Buffer][]): Buffer {
  const body = Buffer.concat(
    elements.map(([element, value]) => {
      const h = Buffer.alloc(8);
      h.writeUInt16LE(0x0000, 0);
      h.writeUInt16LE(element, 2);
      h.writeUInt32LE(value.length, 4);
      return Buffer.concat([h, value]);
    }),
  );
  const gl = Buffer.alloc(12);
  gl.writeUInt16LE(0, 0);
  gl.writeUInt16LE(0, 2);
  gl.writeUInt32LE(4, 4);
  gl.writeUInt32LE(body.length, 8);
  return Buffer.concat([gl, body]);
}

export function us(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v, 0);
  return b;
}

export function ui(uid: string): Buffer {
  const b = Buffer.from(uid, 'ascii');
  return b.length % 2 === 0 ? b : Buffer.concat([b, Buffer.from([0])]);
}

/** C-ECHO-RQ (PS3.7 9.3.5) for message ID `id`. */
export function echoRq(id: number): Buffer {
  return commandSet([
    [0x0002, ui(VERIFICATION)],
    [0x0100, us(0x0030)],
    [0x0110, us(id)],
    [0x0800, us(0x0101)],
  ]);
}

/** C-ECHO-RSP with status `status`, answering message ID `id`. */
export function echoRsp(id: number, status = 0): Buffer {
  return commandSet([
    [0x0002, ui(VERIFICATION)],
    [0x0100, us(0x8030)],
    [0x0120, us(id)],
    [0x0800, us(0x0101)],
    [0x0900, us(status)],
  ]);
}

/** Parse an implicit VR LE group 0000 command set into element → value. */
export function parseCommandSet(bytes: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let at = 0;
  while (at + 8 <= bytes.length) {
    const element = bytes.readUInt16LE(at + 2);
    const len = bytes.readUInt32LE(at + 4);
    out.set(element, bytes.subarray(at + 8, at + 8 + len));
    at += 8 + len;
  }
  return out;
}

/** Answer every C-ECHO-RQ on `channel` with a success C-ECHO-RSP; release requests are answered too. */
export function serveEcho(channel: AssociationChannel): void {
  channel.on('pdvs', (pdvs) => {
    for (const p of pdvs) {
      if (!p.command || !p.last) continue;
      const cmd = parseCommandSet(p.data);
      if (cmd.get(0x0100)?.readUInt16LE(0) !== 0x0030) continue;
      const id = cmd.get(0x0110)?.readUInt16LE(0) ?? 0;
      channel
        .sendPdvs([{ contextId: p.contextId, command: true, last: true, data: echoRsp(id) }])
        .catch(() => undefined);
    }
  });
}

/** Wait for an event with a timeout, so a hung test fails fast with a message. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}
