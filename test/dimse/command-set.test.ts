import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  CommandField,
  type CommandSet,
  DimseMalformedCommandError,
  DimseUsageError,
  decodeCommandSet,
  encodeCommandSet,
  Priority,
} from '../../src/dimse/index.js';

const VERIFICATION = '1.2.840.10008.1.1';

// Hand-computed from PS3.7 9.3.5 / Annex E, implicit VR little endian.
const ECHO_RQ_ID_7 = Buffer.concat([
  Buffer.from('0000000004000000' + '38000000', 'hex'), // (0000,0000) UL 4: group length 56
  Buffer.from('0000020012000000', 'hex'), // (0000,0002) UI 18
  Buffer.from('1.2.840.10008.1.1\0', 'latin1'), // 17 characters + NUL pad
  Buffer.from('00000001020000003000', 'hex'), // (0000,0100) US 0x0030 C-ECHO-RQ
  Buffer.from('00001001020000000700', 'hex'), // (0000,0110) US 7
  Buffer.from('00000008020000000101', 'hex'), // (0000,0800) US 0x0101 no data set
]);

test('C-ECHO-RQ encodes to the hand-computed bytes', () => {
  const bytes = encodeCommandSet({
    commandField: CommandField.C_ECHO_RQ,
    messageId: 7,
    affectedSopClassUid: VERIFICATION,
    hasDataset: false,
  });
  assert.equal(ECHO_RQ_ID_7.length, 68);
  assert.deepEqual(bytes, ECHO_RQ_ID_7);
});

test('the golden C-ECHO-RQ decodes, the UID NUL padding stripped', () => {
  assert.deepEqual(decodeCommandSet(ECHO_RQ_ID_7), {
    commandField: 0x0030,
    messageId: 7,
    affectedSopClassUid: VERIFICATION,
    hasDataset: false,
  });
});

test('AE and LO values are padded with spaces, UIs with NUL, and unpadded on decode', () => {
  const cmd: CommandSet = {
    commandField: CommandField.C_STORE_RQ,
    messageId: 3,
    affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    affectedSopInstanceUid: '1.2.3',
    priority: Priority.High,
    moveOriginatorAet: 'ABC',
    moveOriginatorMessageId: 9,
    hasDataset: true,
  };
  const bytes = encodeCommandSet(cmd);
  assert.equal(bytes.length % 2, 0);
  assert.ok(bytes.includes(Buffer.from('1.2.3\0', 'latin1')));
  assert.ok(bytes.includes(Buffer.from('0000301004000000414243' + '20', 'hex')));
  // Command Data Set Type present = 0x0001
  assert.ok(bytes.includes(Buffer.from('00000008020000000100', 'hex')));
  assert.deepEqual(decodeCommandSet(bytes), cmd);
  const comment = encodeCommandSet({
    commandField: 0x8001,
    status: 0xa700,
    errorComment: 'disk',
    hasDataset: false,
  });
  assert.deepEqual(decodeCommandSet(comment).errorComment, 'disk');
  const odd = encodeCommandSet({
    commandField: 0x8001,
    status: 0xa700,
    errorComment: 'full',
    hasDataset: false,
  });
  assert.ok(odd.includes(Buffer.from('full', 'latin1')));
});

test('group length counts every byte after the group length element', () => {
  const bytes = encodeCommandSet({
    commandField: CommandField.C_FIND_RSP,
    messageIdBeingRespondedTo: 5,
    status: 0xff00,
    errorComment: 'x',
    hasDataset: true,
  });
  assert.equal(bytes.readUInt32LE(8), bytes.length - 12);
});

test('AT lists, N-service fields and unknown elements round-trip; unknown elements keep their bytes and place', () => {
  const cmd: CommandSet = {
    commandField: CommandField.N_GET_RQ,
    messageId: 65535,
    requestedSopClassUid: '1.2.840.10008.5.1.1.1',
    requestedSopInstanceUid: '1.2.840.10008.5.1.1.17',
    attributeIdentifierList: [0x00100010, 0x7fe00010, 0xfffee000],
    offendingElement: [0x00080018],
    eventTypeId: 2,
    actionTypeId: 1,
    errorId: 0,
    unknownElements: [
      { element: 0x0001, value: Buffer.from([1, 2, 3, 4]) },
      { element: 0x4000, value: Buffer.from('RETIRED ', 'latin1') },
    ],
    hasDataset: false,
  };
  const bytes = encodeCommandSet(cmd);
  // (0000,0001) comes right after the group length
  assert.deepEqual(bytes.subarray(12, 24), Buffer.from('000001000400000001020304', 'hex'));
  assert.deepEqual(decodeCommandSet(bytes), cmd);
});

test('sub-operation counters and move destination round-trip', () => {
  const cmd: CommandSet = {
    commandField: CommandField.C_MOVE_RSP,
    affectedSopClassUid: '1.2.840.10008.5.1.4.1.2.2.2',
    messageIdBeingRespondedTo: 12,
    status: 0xff00,
    numberOfRemainingSuboperations: 10,
    numberOfCompletedSuboperations: 2,
    numberOfFailedSuboperations: 1,
    numberOfWarningSuboperations: 0,
    hasDataset: false,
  };
  assert.deepEqual(decodeCommandSet(encodeCommandSet(cmd)), cmd);
  const move = {
    commandField: CommandField.C_MOVE_RQ,
    messageId: 1,
    moveDestination: 'STORESCP',
    hasDataset: true,
  };
  assert.deepEqual(decodeCommandSet(encodeCommandSet(move)), move);
});

test('decode is lenient with padding: trailing spaces and NULs, leading spaces of AE titles', () => {
  const bytes = Buffer.concat([
    element(0x0100, us(0x0021)),
    element(0x0600, Buffer.from('  DEST  ', 'latin1')),
    element(0x0002, Buffer.from('1.2 ', 'latin1')),
    element(0x0800, us(0x0102)),
  ]);
  assert.deepEqual(decodeCommandSet(bytes), {
    commandField: 0x0021,
    moveDestination: 'DEST',
    affectedSopClassUid: '1.2',
    hasDataset: true,
  });
});

test('malformed command sets throw DimseMalformedCommandError (kind network)', () => {
  const cases: [string, Buffer, RegExp][] = [
    ['empty', Buffer.alloc(0), /Command Field/],
    ['truncated header', ECHO_RQ_ID_7.subarray(0, 62), /4 trailing byte\(s\) at offset 58 are too few/],
    [
      'value past the end',
      ECHO_RQ_ID_7.subarray(0, 66),
      /\(0000,0800\) at offset 58 claims 2 bytes, only 0 left/,
    ],
    [
      'no command field',
      Buffer.concat([element(0x0800, us(0x0101))]),
      /Command Field \(0000,0100\) is missing/,
    ],
    ['no data set type', Buffer.concat([element(0x0100, us(0x0030))]), /Command Data Set Type/],
    [
      'wrong US length',
      Buffer.concat([element(0x0100, Buffer.alloc(4)), element(0x0800, us(0x0101))]),
      /expected 2/,
    ],
    ['not group 0000', Buffer.from('0800180002000000', 'hex'), /not in command group 0000/],
    ['duplicate', Buffer.concat([element(0x0100, us(1)), element(0x0100, us(1))]), /appears twice/],
    ['AT not multiple of 4', Buffer.concat([element(0x1005, Buffer.alloc(6))]), /multiple of 4/],
    ['bad group length', Buffer.concat([element(0x0000, Buffer.alloc(2))]), /expected 4/],
    ['undefined length', Buffer.from('00000001ffffffff', 'hex'), /claims 4294967295 bytes/],
  ];
  for (const [name, bytes, message] of cases) {
    assert.throws(
      () => decodeCommandSet(bytes),
      (err: unknown) =>
        err instanceof DimseMalformedCommandError &&
        err.code === 'ERR_DIMSE_MALFORMED_COMMAND' &&
        err.kind === 'network' &&
        message.test(err.message),
      name,
    );
  }
});

test('unencodable values throw DimseUsageError naming the field', () => {
  const bad: [Partial<CommandSet>, RegExp][] = [
    [{ messageId: 70000 }, /Message ID must be an integer in 0\.\.65535/],
    [{ priority: 1.5 }, /Priority/],
    [
      { affectedSopClassUid: '1.2.abc' },
      /Affected SOP Class UID "1\.2\.abc" has characters other than digits/,
    ],
    [{ affectedSopInstanceUid: `1.${'2'.repeat(64)}` }, /at most 64/],
    [{ moveDestination: 'ABCDEFGHIJKLMNOPQ' }, /Move Destination .* at most 16/],
    [{ moveDestination: 'A\\B' }, /not allowed in an AE title/],
    [{ attributeIdentifierList: [0x1_0000_0000] }, /not a 32-bit tag/],
    [{ unknownElements: [{ element: 0x0110, value: Buffer.alloc(2) }] }, /duplicates a known field/],
    [{ unknownElements: [{ element: 0x4000, value: Buffer.alloc(3) }] }, /odd length/],
  ];
  for (const [fields, message] of bad) {
    assert.throws(
      () => encodeCommandSet({ commandField: 1, hasDataset: false, ...fields }),
      (err: unknown) =>
        err instanceof DimseUsageError &&
        err.code === 'ERR_DIMSE_INVALID_COMMAND' &&
        message.test(err.message),
      message.source,
    );
  }
});

test('error comments are cut to 64 characters and made ASCII instead of failing the response', () => {
  const cmd = decodeCommandSet(
    encodeCommandSet({
      commandField: 0x8001,
      status: 0x0110,
      errorComment: `é${'x'.repeat(100)}`,
      hasDataset: false,
    }),
  );
  assert.equal(cmd.errorComment, `?${'x'.repeat(63)}`);
});

const uid = fc
  .array(fc.integer({ min: 0, max: 99999 }), { minLength: 1, maxLength: 10 })
  .map((parts) => parts.join('.'))
  .filter((s) => s.length <= 64);
const ae = fc
  .string({
    unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_- '.split('')),
    minLength: 1,
    maxLength: 16,
  })
  .map((s) => s.trim())
  .filter((s) => s.length > 0);
const lo = fc
  .string({ unit: fc.constantFrom(...'abc XYZ:/.0123456789'.split('')), maxLength: 64 })
  .map((s) => s.trimEnd());
const u16 = fc.integer({ min: 0, max: 0xffff });
const tag = fc.integer({ min: 0, max: 0xffffffff });

const commandSetArb: fc.Arbitrary<CommandSet> = fc.record(
  {
    commandField: u16,
    hasDataset: fc.boolean(),
    affectedSopClassUid: uid,
    requestedSopClassUid: uid,
    messageId: u16,
    messageIdBeingRespondedTo: u16,
    moveDestination: ae,
    priority: u16,
    status: u16,
    offendingElement: fc.array(tag, { maxLength: 4 }),
    errorComment: lo,
    errorId: u16,
    affectedSopInstanceUid: uid,
    requestedSopInstanceUid: uid,
    eventTypeId: u16,
    attributeIdentifierList: fc.array(tag, { maxLength: 8 }),
    actionTypeId: u16,
    numberOfRemainingSuboperations: u16,
    numberOfCompletedSuboperations: u16,
    numberOfFailedSuboperations: u16,
    numberOfWarningSuboperations: u16,
    moveOriginatorAet: ae,
    moveOriginatorMessageId: u16,
    unknownElements: fc
      .uniqueArray(
        fc.record({
          element: fc.constantFrom(0x0001, 0x0200, 0x0300, 0x4000, 0x4010, 0x5010, 0x5020, 0x5110, 0xfffe),
          value: fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a.length % 2 ? a.subarray(1) : a)),
        }),
        { selector: (e) => e.element, maxLength: 4 },
      )
      .map((list) =>
        list.map((e) => ({ element: e.element, value: e.value })).sort((a, b) => a.element - b.element),
      ),
  },
  { requiredKeys: ['commandField', 'hasDataset'] },
);

test('property: decode(encode(command)) is the command', () => {
  fc.assert(
    fc.property(commandSetArb, (cmd) => {
      const clean: CommandSet = { ...cmd };
      if (clean.unknownElements?.length === 0) delete clean.unknownElements;
      assert.deepEqual(decodeCommandSet(encodeCommandSet(clean)), clean);
    }),
    { numRuns: 500 },
  );
});

test('property: random bytes never throw anything but DimseMalformedCommandError', () => {
  const onlyTyped = (bytes: Uint8Array) => {
    try {
      decodeCommandSet(Buffer.from(bytes));
    } catch (err) {
      if (!(err instanceof DimseMalformedCommandError)) throw err;
    }
  };
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), onlyTyped), { numRuns: 2000 });
});

test('property: corrupted valid encodings never throw anything but DimseMalformedCommandError', () => {
  fc.assert(
    fc.property(
      commandSetArb,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.nat(),
      (cmd, flips, cut) => {
        const bytes = Buffer.from(encodeCommandSet(cmd));
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        try {
          decodeCommandSet(bytes.subarray(0, bytes.length - (cut % 8)));
        } catch (err) {
          if (!(err instanceof DimseMalformedCommandError)) throw err;
        }
      },
    ),
    { numRuns: 1000 },
  );
});

function us(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value);
  return b;
}

function element(el: number, value: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(0, 0);
  head.writeUInt16LE(el, 2);
  head.writeUInt32LE(value.length, 4);
  return Buffer.concat([head, value]);
}
