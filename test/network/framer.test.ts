import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodePDataParts,
  decodePduBody,
  encodePdu,
  type Pdu,
  PduFramer,
  PduParseError,
  type Pdv,
} from '../../src/network/index.js';

const limits = { maxPDataLength: 0, hardMaxPduLength: 16 * 1024 * 1024 };

function frames(framer: PduFramer): Pdu[] {
  const out: Pdu[] = [];
  for (let f = framer.next(); f; f = framer.next()) out.push(decodePduBody(f.type, f.body));
  return out;
}

describe('PDU framer', () => {
  test('a header announcing 4 GiB is refused before anything is buffered', () => {
    const framer = new PduFramer(limits);
    const before = process.memoryUsage().arrayBuffers;
    framer.push(Buffer.from([0x04, 0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
    assert.throws(() => framer.next(), {
      name: 'PduParseError',
      code: 'ERR_PDU_TOO_LONG',
      message: 'PDU length 4294967295 exceeds max 16 MiB',
    });
    assert.ok(process.memoryUsage().arrayBuffers - before < 1024 * 1024, 'no large allocation');
  });

  test('P-DATA-TF over the negotiated max is refused with both numbers', () => {
    const framer = new PduFramer({ ...limits, maxPDataLength: 4096 });
    framer.push(Buffer.from([0x04, 0, 0, 0, 0x10, 0x01]));
    assert.throws(() => framer.next(), { message: 'P-DATA-TF length 4097 exceeds the negotiated max 4096' });
  });

  test('unknown PDU type is refused from its header', () => {
    const framer = new PduFramer(limits);
    framer.push(Buffer.from([0x0a, 0, 0, 0, 0, 0]));
    assert.throws(() => framer.next(), { code: 'ERR_PDU_UNKNOWN_TYPE', message: 'unknown PDU type 0AH' });
  });

  test('a PDU arriving in one chunk is handed out as a slice (no copy)', () => {
    const bytes = encodePdu({
      type: 'P-DATA-TF',
      pdvs: [{ contextId: 1, command: false, last: true, data: Buffer.alloc(1000, 7) }],
    });
    const chunk = Buffer.concat([bytes, Buffer.from([5, 0])]);
    const framer = new PduFramer(limits);
    framer.push(chunk);
    const f = framer.next();
    assert.ok(f);
    assert.equal(f.body.buffer, chunk.buffer);
    assert.equal(framer.next(), undefined);
    assert.equal(framer.pendingBytes, 2);
  });

  test('property: any chunking of a PDU stream yields the same PDUs', () => {
    const pdus: Pdu[] = [
      { type: 'A-RELEASE-RQ' },
      { type: 'P-DATA-TF', pdvs: [{ contextId: 1, command: true, last: true, data: Buffer.alloc(300, 1) }] },
      { type: 'A-ABORT', source: 0, reason: 0 },
    ];
    const stream = Buffer.concat(pdus.map(encodePdu));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 20 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const framer = new PduFramer(limits);
        const out: Pdu[] = [];
        let at = 0;
        for (const p of [...points, stream.length]) {
          framer.push(stream.subarray(at, p));
          at = p;
          out.push(...frames(framer));
        }
        assert.deepEqual(out, pdus);
      }),
    );
  });

  test('P-DATA-TF spanning chunks: PDVs are slices of the chunks, pieces rejoin to the same PDVs', () => {
    const pdvs: Pdv[] = [
      { contextId: 1, command: true, last: true, data: Buffer.alloc(50, 1) },
      { contextId: 3, command: false, last: false, data: Buffer.alloc(0) },
      {
        contextId: 3,
        command: false,
        last: true,
        data: Buffer.from(Array.from({ length: 700 }, (_, i) => i)),
      },
    ];
    const stream = encodePdu({ type: 'P-DATA-TF', pdvs });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let at = 0;
        for (const p of [...points, stream.length]) {
          chunks.push(Buffer.from(stream.subarray(at, p)));
          at = p;
        }
        const framer = new PduFramer(limits);
        for (const c of chunks) framer.push(c);
        const f = framer.next();
        assert.ok(f);
        const pdu = f.parts ? decodePDataParts(f.parts) : decodePduBody(f.type, f.body);
        assert.equal(pdu.type, 'P-DATA-TF');
        const pieces = pdu.type === 'P-DATA-TF' ? pdu.pdvs : [];
        for (const piece of pieces) {
          if (piece.data.length > 0)
            assert.ok(
              chunks.some((c) => c.buffer === piece.data.buffer),
              'no copy',
            );
        }
        // rejoin the pieces of each PDV: the same PDVs as sent
        const joined: Pdv[] = [];
        let open: Pdv | undefined;
        for (const piece of pieces) {
          if (open && open.contextId === piece.contextId && !open.last && piece.data.length > 0) {
            open.data = Buffer.concat([open.data, piece.data]);
            open.last = piece.last;
          } else {
            open = { ...piece, data: Buffer.from(piece.data) };
            joined.push(open);
          }
          if (piece.last || piece.data.length === 0) open = undefined;
        }
        assert.deepEqual(joined, pdvs);
      }),
    );
  });

  test('P-DATA-TF spanning chunks with a bad PDV length: the same error as in one chunk', () => {
    const bytes = encodePdu({
      type: 'P-DATA-TF',
      pdvs: [{ contextId: 1, command: true, last: true, data: Buffer.alloc(100, 1) }],
    });
    bytes.writeUInt32BE(5000, 6);
    const framer = new PduFramer(limits);
    framer.push(bytes.subarray(0, 40));
    framer.push(bytes.subarray(40));
    const f = framer.next();
    assert.ok(f?.parts);
    assert.throws(() => decodePDataParts(f.parts ?? []), {
      code: 'ERR_PDU_MALFORMED',
      message: /PDV item length 5000 exceeds the 102 bytes left in the P-DATA-TF/,
    });
  });

  test('property: random bytes only ever raise PduParseError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (a) => {
        const framer = new PduFramer({ maxPDataLength: 100, hardMaxPduLength: 150 });
        framer.push(Buffer.from(a));
        try {
          frames(framer);
        } catch (err) {
          assert.ok(err instanceof PduParseError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
