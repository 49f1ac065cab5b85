// A raw TCP peer for tests that speak (or garble) the upper layer by hand.
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';

/** Connect a raw TCP socket to 127.0.0.1, from `localAddress` (any 127.x.y.z works on Linux) when given. */
export function rawSocket(port: number, localAddress?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) }, () =>
      resolve(s),
    );
    s.once('error', reject);
  });
}

/** A PDU: type, reserved byte, 4-byte big-endian length, body. */
export function pdu(type: number, body: Buffer, length = body.length): Buffer {
  const h = Buffer.alloc(6);
  h.writeUInt8(type, 0);
  h.writeUInt32BE(length >>> 0, 2);
  return Buffer.concat([h, body]);
}

/** Wait until `check` holds (polling), or fail naming `what`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
