/**
 * The slow-peer timer of an established association: a PDU that has begun must be complete
 * within the ARTIM time, but never because of back-pressure of our own (paused channel).
 */
import assert from 'node:assert/strict';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { acceptAssociation } from '../../src/network/acceptor.js';
import type { AssociationChannel, ChannelCloseReason } from '../../src/network/channel.js';
import { requestAssociation } from '../../src/network/requestor.js';
import { pdu } from './helpers.js';

const VERIFICATION = '1.2.840.10008.1.1';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const ARTIM_MS = 400;

/** A P-DATA-TF with one PDV of `n` data bytes on context 1. */
function pData(n: number): Buffer {
  const pdv = Buffer.alloc(4 + 2 + n);
  pdv.writeUInt32BE(2 + n, 0);
  pdv[4] = 1;
  pdv[5] = 0x00; // data set fragment, not last
  return pdu(0x04, pdv);
}

describe('slow peers inside an association', () => {
  let listener: Server;
  let accepted: ((channel: AssociationChannel) => void) | undefined;

  before(async () => {
    listener = createServer((socket) => {
      acceptAssociation(socket, {
        transferSyntaxesFor: () => [EXPLICIT_LE],
        timeoutMs: ARTIM_MS,
        idleTimeoutMs: 60_000,
      }).then(
        (channel) => accepted?.(channel),
        () => undefined,
      );
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  });

  after(async () => {
    await new Promise<void>((r) => listener.close(() => r()));
  });

  async function associate(): Promise<{ socket: Socket; server: AssociationChannel }> {
    const address = listener.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const socket = await new Promise<Socket>((resolve) => {
      const s = netConnect({ port, host: '127.0.0.1' }, () => resolve(s));
    });
    socket.on('error', () => undefined);
    const server = new Promise<AssociationChannel>((resolve) => {
      accepted = resolve;
    });
    await requestAssociation(socket, {
      callingAet: 'SLOW',
      calledAet: 'ANY',
      contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [EXPLICIT_LE] }],
      timeoutMs: 10_000,
    });
    return { socket, server: await server };
  }

  function closeReason(channel: AssociationChannel): Promise<ChannelCloseReason> {
    return new Promise((resolve) => channel.once('closed', resolve));
  }

  test('a PDU still incomplete after the ARTIM time aborts the association, naming the slow peer', async () => {
    const { socket, server } = await associate();
    const closed = closeReason(server);
    const bytes = pData(1000);
    socket.write(bytes.subarray(0, 500));
    const reason = await closed;
    assert.equal(reason.kind, 'aborted');
    assert.match(
      (reason as { message: string }).message,
      /slow peer: a PDU was not complete 400 ms after it began/,
    );
    socket.destroy();
  });

  test('PDUs arriving in pieces, each within the ARTIM time, are fine however long the association lasts', async () => {
    const { socket, server } = await associate();
    let closed = false;
    server.once('closed', () => {
      closed = true;
    });
    for (let i = 0; i < 6; i++) {
      const bytes = pData(1000);
      socket.write(bytes.subarray(0, 300));
      await new Promise((r) => setTimeout(r, ARTIM_MS / 4));
      socket.write(bytes.subarray(300));
      await new Promise((r) => setTimeout(r, ARTIM_MS / 2));
    }
    assert.equal(closed, false, 'still established after 6 × 300 ms');
    socket.destroy();
  });

  test('our own back-pressure (a paused channel) does not count against the peer', async () => {
    const { socket, server } = await associate();
    let closed = false;
    server.once('closed', () => {
      closed = true;
    });
    const bytes = pData(1000);
    socket.write(bytes.subarray(0, 500));
    await new Promise((r) => setTimeout(r, ARTIM_MS / 4));
    server.pause();
    await new Promise((r) => setTimeout(r, ARTIM_MS * 3));
    assert.equal(closed, false, 'not aborted while we held the reading back');
    server.resume();
    socket.write(bytes.subarray(500));
    await new Promise((r) => setTimeout(r, ARTIM_MS * 2));
    assert.equal(closed, false, 'the completed PDU went through');
    socket.destroy();
  });
});
