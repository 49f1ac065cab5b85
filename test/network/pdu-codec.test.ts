import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type AssociateAcPdu,
  type AssociateRqPdu,
  decodePdu,
  encodePdu,
  emptyUserInformation,
  type Pdu,
  PduParseError,
  type UserInformation,
} from '../../src/network/index.js';

/** fast-check records have a null prototype; decoded PDUs are plain objects. */
function plain<T>(v: T): T {
  if (Buffer.isBuffer(v) || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(plain) as T;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = plain(x);
  return out as T;
}

/** Drop keys whose value is undefined: decoded objects leave absent fields out. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

const uid = fc.stringMatching(/^[1-9][0-9]{0,5}(\.[0-9]{1,6}){0,8}$/);
const aet = fc.stringMatching(/^[A-Z0-9_][A-Z0-9_ -]{0,14}[A-Z0-9_]$/);
const bytes = (max = 40) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const versionName = fc.stringMatching(/^[A-Z0-9_]{1,16}$/);

function userInfo(ac: boolean): fc.Arbitrary<UserInformation> {
  return fc
    .record({
      maxLength: fc.option(fc.nat({ max: 0xffffffff }), { nil: undefined }),
      implementationClassUid: fc.option(uid, { nil: undefined }),
      implementationVersionName: fc.option(versionName, { nil: undefined }),
      asyncOpsWindow: fc.option(fc.record({ invoked: fc.nat(0xffff), performed: fc.nat(0xffff) }), {
        nil: undefined,
      }),
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
        : fc.option(
            fc.record({
              type: fc.integer({ min: 1, max: 5 }),
              positiveResponseRequested: fc.boolean(),
              primaryField: bytes(),
              secondaryField: bytes(),
            }),
            { nil: undefined },
          ),
      userIdentityResponse: ac ? fc.option(bytes(), { nil: undefined }) : fc.constant(undefined),
      unknownItems: fc.array(fc.record({ type: fc.integer({ min: 0x5a, max: 0xff }), data: bytes(10) }), {
        maxLength: 2,
      }),
    })
    .map((u) => compact(u) as UserInformation);
}

const associateRq: fc.Arbitrary<AssociateRqPdu> = fc.record({
  type: fc.constant('A-ASSOCIATE-RQ' as const),
  protocolVersion: fc.nat(0xffff),
  calledAet: aet,
  callingAet: aet,
  applicationContext: uid,
  presentationContexts: fc.array(
    fc.record({
      id: fc.nat(127).map((n) => n * 2 + 1),
      abstractSyntax: uid,
      transferSyntaxes: fc.array(uid, { minLength: 1, maxLength: 4 }),
    }),
    { maxLength: 5 },
  ),
  userInfo: userInfo(false),
});

const associateAc: fc.Arbitrary<AssociateAcPdu> = fc.record({
  type: fc.constant('A-ASSOCIATE-AC' as const),
  protocolVersion: fc.nat(0xffff),
  calledAet: aet,
  callingAet: aet,
  applicationContext: uid,
  presentationContexts: fc.array(
    fc
      .record({
        id: fc.nat(127).map((n) => n * 2 + 1),
        result: fc.nat(4),
        transferSyntax: fc.option(uid, { nil: undefined }),
      })
      .map((x) => compact(x)),
    { maxLength: 5 },
  ),
  userInfo: userInfo(true),
});

const anyPdu: fc.Arbitrary<Pdu> = fc.oneof(
  associateRq,
  associateAc,
  fc.record({
    type: fc.constant('A-ASSOCIATE-RJ' as const),
    result: fc.nat(255),
    source: fc.nat(255),
    reason: fc.nat(255),
  }),
  fc.record({
    type: fc.constant('P-DATA-TF' as const),
    pdvs: fc.array(
      fc.record({ contextId: fc.nat(255), command: fc.boolean(), last: fc.boolean(), data: bytes(64) }),
      { minLength: 1, maxLength: 5 },
    ),
  }),
  fc.constant({ type: 'A-RELEASE-RQ' as const }),
  fc.constant({ type: 'A-RELEASE-RP' as const }),
  fc.record({ type: fc.constant('A-ABORT' as const), source: fc.nat(255), reason: fc.nat(255) }),
);

describe('PDU codec', () => {
  test('A-ASSOCIATE-RQ with every item round-trips and has the PS3.8 layout', () => {
    const ui = emptyUserInformation();
    ui.maxLength = 16384;
    ui.implementationClassUid = '2.25.1';
    ui.implementationVersionName = 'DICOMNET_010';
    ui.asyncOpsWindow = { invoked: 3, performed: 2 };
    ui.roleSelections = [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', scuRole: true, scpRole: true }];
    ui.extendedNegotiations = [
      { sopClassUid: '1.2.840.10008.5.1.4.1.2.2.1', applicationInfo: Buffer.from([1, 0, 1]) },
    ];
    ui.commonExtendedNegotiations = [
      {
        version: 0,
        sopClassUid: '1.2.840.10008.5.1.4.1.1.2.1',
        serviceClassUid: '1.2.840.10008.4.2',
        relatedGeneralSopClassUids: ['1.2.840.10008.5.1.4.1.1.2'],
      },
    ];
    ui.userIdentity = {
      type: 2,
      positiveResponseRequested: true,
      primaryField: Buffer.from('alice'),
      secondaryField: Buffer.from('secret'),
    };
    ui.unknownItems = [{ type: 0x77, data: Buffer.from('xyz') }];
    const rq: AssociateRqPdu = {
      type: 'A-ASSOCIATE-RQ',
      protocolVersion: 1,
      calledAet: 'ANY-SCP',
      callingAet: 'DICOMNET',
      applicationContext: '1.2.840.10008.3.1.1.1',
      presentationContexts: [
        { id: 1, abstractSyntax: '1.2.840.10008.1.1', transferSyntaxes: ['1.2.840.10008.1.2'] },
        {
          id: 3,
          abstractSyntax: '1.2.840.10008.5.1.4.1.1.2',
          transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'],
        },
      ],
      userInfo: ui,
    };
    const bytes = encodePdu(rq);
    assert.equal(bytes[0], 0x01);
    assert.equal(bytes.readUInt32BE(2), bytes.length - 6);
    assert.equal(bytes.readUInt16BE(6), 1);
    assert.equal(bytes.toString('ascii', 10, 26), 'ANY-SCP         ');
    assert.equal(bytes.toString('ascii', 26, 42), 'DICOMNET        ');
    assert.equal(bytes[74], 0x10, 'application context item follows the 32 reserved bytes');
    assert.deepEqual(decodePdu(bytes), rq);
  });

  test('A-ASSOCIATE-AC with a rejected context (empty transfer syntax sub-item) and identity response', () => {
    const ui = emptyUserInformation();
    ui.maxLength = 0;
    ui.userIdentityResponse = Buffer.from('token');
    const ac: AssociateAcPdu = {
      type: 'A-ASSOCIATE-AC',
      protocolVersion: 1,
      calledAet: 'DICOMNET',
      callingAet: 'SCU',
      applicationContext: '1.2.840.10008.3.1.1.1',
      presentationContexts: [
        { id: 1, result: 0, transferSyntax: '1.2.840.10008.1.2' },
        { id: 3, result: 3 },
      ],
      userInfo: ui,
    };
    assert.deepEqual(decodePdu(encodePdu(ac)), ac);
  });

  test('fixed-length PDUs have their exact bytes', () => {
    assert.deepEqual(
      encodePdu({ type: 'A-ABORT', source: 2, reason: 6 }),
      Buffer.from([7, 0, 0, 0, 0, 4, 0, 0, 2, 6]),
    );
    assert.deepEqual(
      encodePdu({ type: 'A-ASSOCIATE-RJ', result: 1, source: 1, reason: 7 }),
      Buffer.from([3, 0, 0, 0, 0, 4, 0, 1, 1, 7]),
    );
    assert.deepEqual(encodePdu({ type: 'A-RELEASE-RQ' }), Buffer.from([5, 0, 0, 0, 0, 4, 0, 0, 0, 0]));
    assert.deepEqual(encodePdu({ type: 'A-RELEASE-RP' }), Buffer.from([6, 0, 0, 0, 0, 4, 0, 0, 0, 0]));
  });

  test('P-DATA-TF: message control header bits and PDV data as slices of the input', () => {
    const bytes = encodePdu({
      type: 'P-DATA-TF',
      pdvs: [
        { contextId: 1, command: true, last: true, data: Buffer.from([1, 2]) },
        { contextId: 3, command: false, last: false, data: Buffer.from([3]) },
      ],
    });
    assert.deepEqual(bytes, Buffer.from([4, 0, 0, 0, 0, 15, 0, 0, 0, 4, 1, 3, 1, 2, 0, 0, 0, 3, 3, 0, 3]));
    const decoded = decodePdu(bytes);
    assert.equal(decoded.type, 'P-DATA-TF');
    if (decoded.type === 'P-DATA-TF') assert.equal(decoded.pdvs[0]?.data.buffer, bytes.buffer);
  });

  test('UIDs padded with NUL and AE titles with spaces decode to their value', () => {
    const rq = encodePdu({
      type: 'A-ASSOCIATE-RQ',
      protocolVersion: 1,
      calledAet: 'A',
      callingAet: 'B',
      applicationContext: '1.2.840.10008.3.1.1.1\0',
      presentationContexts: [],
      userInfo: emptyUserInformation(),
    });
    const decoded = decodePdu(rq);
    assert.equal(decoded.type === 'A-ASSOCIATE-RQ' && decoded.applicationContext, '1.2.840.10008.3.1.1.1');
  });

  test('named errors: truncated item, bad fixed length, unknown type, PDV length', () => {
    const rq = encodePdu({
      type: 'A-ASSOCIATE-RQ',
      protocolVersion: 1,
      calledAet: 'A',
      callingAet: 'B',
      applicationContext: '1.2.840.10008.3.1.1.1',
      presentationContexts: [],
      userInfo: emptyUserInformation(),
    });
    const truncated = Buffer.from(rq);
    truncated.writeUInt16BE(200, 74 + 2); // application context item claims 200 bytes
    assert.throws(() => decodePdu(truncated), { name: 'PduParseError', code: 'ERR_PDU_MALFORMED' });
    assert.throws(() => decodePdu(Buffer.from([7, 0, 0, 0, 0, 2, 0, 0])), {
      code: 'ERR_PDU_INVALID_PARAMETER',
      message: 'A-ABORT PDU length is 2, not 4',
    });
    assert.throws(() => decodePdu(Buffer.from([9, 0, 0, 0, 0, 0])), {
      code: 'ERR_PDU_UNKNOWN_TYPE',
      message: 'unknown PDU type 09H',
    });
    assert.throws(() => decodePdu(Buffer.from([4, 0, 0, 0, 0, 6, 0, 0, 0, 9, 1, 3])), {
      code: 'ERR_PDU_MALFORMED',
      message: 'PDV item length 9 exceeds the 2 bytes left in the P-DATA-TF',
    });
  });

  test('property: decode(encode(pdu)) deep-equals pdu for every PDU type', () => {
    fc.assert(
      fc.property(anyPdu, (pdu) => {
        assert.deepEqual(decodePdu(encodePdu(pdu)), plain(pdu));
      }),
      { numRuns: 1000 },
    );
  });

  test('property: random bytes never throw anything but PduParseError', () => {
    const header = fc
      .tuple(fc.integer({ min: 0, max: 9 }), fc.uint8Array({ maxLength: 300 }))
      .map(([type, body]) => {
        const b = Buffer.alloc(6 + body.length);
        b[0] = type;
        b.writeUInt32BE(body.length, 2);
        b.set(body, 6);
        return b;
      });
    fc.assert(
      fc.property(
        fc.oneof(
          header,
          fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
        ),
        (buf) => {
          try {
            decodePdu(buf);
          } catch (err) {
            assert.ok(err instanceof PduParseError, `unexpected ${String(err)}`);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  test('property: corrupting one byte of a valid PDU never throws anything but PduParseError', () => {
    fc.assert(
      fc.property(anyPdu, fc.nat(), fc.nat(255), (pdu, at, value) => {
        const buf = Buffer.from(encodePdu(pdu));
        buf[at % buf.length] = value;
        try {
          decodePdu(buf);
        } catch (err) {
          assert.ok(err instanceof PduParseError, `unexpected ${String(err)}`);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
