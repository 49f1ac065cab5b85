import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Pdv } from '../../src/network/channel.js';
import { decodePdu } from '../../src/network/pdu/decode.js';
import { PduFramer } from '../../src/network/pdu/framer.js';
import { writePData } from '../../src/network/pdu/pdata-writer.js';

/** Everything written to the stream, framed back into P-DATA-TF PDUs. */
async function written(pdvs: Pdv[], maxData: number): Promise<Pdv[][]> {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  writePData(stream, pdvs, maxData);
  await new Promise((r) => setImmediate(r));
  const framer = new PduFramer({ maxPDataLength: 0, hardMaxPduLength: 1 << 24 });
  framer.push(Buffer.concat(chunks));
  const pdus: Pdv[][] = [];
  for (let f = framer.next(); f; f = framer.next()) {
    const header = Buffer.alloc(6);
    header.writeUInt8(f.type, 0);
    header.writeUInt32BE(f.body.length, 2);
    const pdu = decodePdu(Buffer.concat([header, f.body]));
    assert.equal(pdu.type, 'P-DATA-TF');
    if (pdu.type === 'P-DATA-TF') pdus.push(pdu.pdvs);
  }
  return pdus;
}

test('PDVs sized by DIMSE go out as they are, packed into PDUs of the peer maximum', async () => {
  const pdv = (n: number, last = false): Pdv => ({
    contextId: 1,
    command: false,
    last,
    data: Buffer.alloc(n, n),
  });
  const pdus = await written([pdv(10), pdv(100), pdv(100), pdv(94, true)], 100);
  // 106 bytes of PDV items fit in one PDU: 10+6 and 100+6 do not share one
  assert.deepEqual(
    pdus.map((p) => p.map((x) => x.data.length)),
    [[10], [100], [100], [94]],
  );
  assert.equal(pdus.flat().filter((p) => p.last).length, 1);
});

test('a PDV larger than the peer maximum is split, keeping last on its final piece only', async () => {
  const data = Buffer.from(Array.from({ length: 250 }, (_, i) => i));
  const pdus = await written([{ contextId: 3, command: true, last: true, data }], 100);
  const pieces = pdus.flat();
  assert.deepEqual(
    pieces.map((p) => p.data.length),
    [100, 100, 50],
  );
  assert.deepEqual(
    pieces.map((p) => p.last),
    [false, false, true],
  );
  assert.ok(pieces.every((p) => p.command && p.contextId === 3));
  assert.ok(Buffer.concat(pieces.map((p) => p.data)).equals(data));
});
