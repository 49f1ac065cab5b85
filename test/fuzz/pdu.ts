/**
 * Fuzz targets of the PDU codec (src/network/pdu/decode.ts, encode.ts) and the
 * framer (src/network/pdu/framer.ts).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodePdu,
  decodePduBody,
  emptyUserInformation,
  encodePdu,
  type Pdu,
  PduFramer,
  PduParseError,
  type UserInformation,
} from '../../src/network/index.js';
import {
  bytesFrom,
  expectTyped,
  type FuzzTarget,
  mutated,
  noteInput,
  plain,
  randomBytes,
  target,
} from './harness.js';

export const uid = fc.stringMatching(/^[1-9][0-9]{0,5}(\.[0-9]{1,6}){0,8}$/);
const aet = fc.stringMatching(/^[A-Z0-9_][A-Z0-9_ -]{0,14}[A-Z0-9_]$/);
const bytes = (max = 40) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

function userInfo(ac: boolean): fc.Arbitrary<UserInformation> {
  return fc
    .record(
      {
        maxLength: fc.nat({ max: 0xffffffff }),
        implementationClassUid: uid,
        implementationVersionName: fc.stringMatching(/^[A-Z0-9_]{1,16}$/),
        asyncOpsWindow: fc.record({ invoked: fc.nat(0xffff), performed: fc.nat(0xffff) }),
        roleSelections: fc.array(
          fc.record({ sopClassUid: uid, scuRole: fc.boolean(), scpRole: fc.boolean() }),
          {
            maxLength: 3,
          },
        ),
        extendedNegotiations: fc.array(fc.record({ sopClassUid: uid, applicationInfo: bytes(8) }), {
          maxLength: 2,
        }),
        commonExtendedNegotiations: ac
          ? fc.constant([])
          : fc.array(
              fc.record({
                version: fc.nat(255),
                sopClassUid: uid,
                serviceClassUid: uid,
                relatedGeneralSopClassUids: fc.array(uid, { maxLength: 3 }),
              }),
              { maxLength: 2 },
            ),
        userIdentity: ac
          ? fc.constant(undefined)
          : fc.record({
              type: fc.integer({ min: 1, max: 5 }),
              positiveResponseRequested: fc.boolean(),
              primaryField: bytes(),
              secondaryField: bytes(),
            }),
        userIdentityResponse: ac ? bytes() : fc.constant(undefined),
        unknownItems: fc.array(fc.record({ type: fc.integer({ min: 0x5a, max: 0xff }), data: bytes(10) }), {
          maxLength: 2,
        }),
      },
      {
        requiredKeys: [
          'roleSelections',
          'extendedNegotiations',
          'commonExtendedNegotiations',
          'unknownItems',
        ],
      },
    )
    .map((u) => plain({ ...emptyUserInformation(), ...u }) as UserInformation);
}

const associateRq: fc.Arbitrary<Pdu> = fc.record({
  type: fc.constant('A-ASSOCIATE-RQ' as const),
  protocolVersion: fc.nat(0xffff),
  calledAet: aet,
  callingAet: aet,
  applicationContext: uid,
  presentationContexts: fc.array(
    fc.record({
      id: fc.nat(255),
      abstractSyntax: uid,
      transferSyntaxes: fc.array(uid, { minLength: 1, maxLength: 4 }),
    }),
    { maxLength: 5 },
  ),
  userInfo: userInfo(false),
});

const associateAc: fc.Arbitrary<Pdu> = fc.record({
  type: fc.constant('A-ASSOCIATE-AC' as const),
  protocolVersion: fc.nat(0xffff),
  calledAet: aet,
  callingAet: aet,
  applicationContext: uid,
  presentationContexts: fc.array(
    fc
      .record({ id: fc.nat(255), result: fc.nat(4), transferSyntax: uid })
      .map((pc) => (pc.result === 0 ? pc : { id: pc.id, result: pc.result })),
    { maxLength: 5 },
  ),
  userInfo: userInfo(true),
});

const pdv = fc.record({
  contextId: fc.nat(255),
  command: fc.boolean(),
  last: fc.boolean(),
  data: bytes(64),
});

/** A valid PDU of each type (as the codec's plain data). */
export const pduOfType: Record<Pdu['type'], fc.Arbitrary<Pdu>> = {
  'A-ASSOCIATE-RQ': associateRq.map(plain),
  'A-ASSOCIATE-AC': associateAc.map(plain),
  'A-ASSOCIATE-RJ': fc
    .record({
      type: fc.constant('A-ASSOCIATE-RJ' as const),
      result: fc.nat(255),
      source: fc.nat(255),
      reason: fc.nat(255),
    })
    .map(plain),
  'P-DATA-TF': fc
    .record({ type: fc.constant('P-DATA-TF' as const), pdvs: fc.array(pdv, { minLength: 1, maxLength: 4 }) })
    .map(plain),
  'A-RELEASE-RQ': fc.constant({ type: 'A-RELEASE-RQ' as const }),
  'A-RELEASE-RP': fc.constant({ type: 'A-RELEASE-RP' as const }),
  'A-ABORT': fc
    .record({ type: fc.constant('A-ABORT' as const), source: fc.nat(255), reason: fc.nat(255) })
    .map(plain),
};

/** Any valid PDU. */
export const anyPdu: fc.Arbitrary<Pdu> = fc.oneof(...Object.values(pduOfType));

/** Encodings of valid PDUs. */
export const validPduBytes: fc.Arbitrary<Buffer> = anyPdu.map(encodePdu);

/** Header + body with a consistent length field: the body is what is fuzzed. */
const typedBody = fc.tuple(fc.integer({ min: 1, max: 7 }), randomBytes(256)).map(([type, body]) => {
  const h = Buffer.alloc(6);
  h[0] = type;
  h.writeUInt32BE(body.length, 2);
  return Buffer.concat([h, body]);
});

/** decode → encode → decode is stable for whatever the decoder accepts. */
function checkAccepted(pdu: Pdu): void {
  const again = encodePdu(pdu);
  assert.deepEqual(plain(decodePdu(again)), plain(pdu));
}

export const pduTargets: FuzzTarget[] = [
  target('pdu', 'valid PDUs round-trip byte for byte: encode(decode(x)) == x', 300, () =>
    fc.property(anyPdu, (pdu) => {
      const bytesIn = encodePdu(pdu);
      noteInput(bytesIn);
      const back = decodePdu(bytesIn);
      assert.deepEqual(plain(back), pdu);
      assert.ok(encodePdu(back).equals(bytesIn), 'encode(decode(x)) differs from x');
    }),
  ),
  target('pdu', 'mutated, spliced and random PDUs decode or fail with PduParseError', 2000, () =>
    fc.property(fc.oneof(bytesFrom(validPduBytes), typedBody), (input) => {
      noteInput(input);
      const pdu = expectTyped([PduParseError], () => decodePdu(input));
      if (pdu) checkAccepted(pdu);
    }),
  ),
  target(
    'pdu',
    'the framer splits any chunking of a PDU stream like one buffer, within its limits',
    500,
    () =>
      fc.property(
        fc.array(
          fc.oneof({ arbitrary: validPduBytes, weight: 4 }, { arbitrary: mutated(validPduBytes), weight: 1 }),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom(0, 64, 4096),
        (pdus, cuts, maxPDataLength) => {
          const stream = Buffer.concat(pdus);
          noteInput(stream);
          const limits = { maxPDataLength, hardMaxPduLength: 1024 };
          const whole = runFramer([stream], limits);
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
          const pieces: Buffer[] = [];
          let from = 0;
          for (const p of points) {
            pieces.push(stream.subarray(from, p));
            from = p;
          }
          pieces.push(stream.subarray(from));
          assert.deepEqual(runFramer(pieces, limits), whole);
        },
      ),
  ),
];

/** Frame and decode a stream; the outcome as comparable data (PDUs, then the error code if any). */
function runFramer(
  pieces: Buffer[],
  limits: { maxPDataLength: number; hardMaxPduLength: number },
): unknown[] {
  const framer = new PduFramer(limits);
  const out: unknown[] = [];
  const failed = expectTyped([PduParseError], () => {
    for (const piece of pieces) {
      framer.push(piece);
      for (let f = framer.next(); f; f = framer.next()) {
        // nothing is buffered beyond what arrived, and nothing beyond the limit is handed out
        assert.ok(f.body.length <= limits.hardMaxPduLength);
        out.push(plain(decodePduBody(f.type, f.body)));
      }
    }
    return true;
  });
  if (!failed) {
    // the first error ends the stream (the association aborts): note where it happened
    out.push('error');
  }
  return out;
}
