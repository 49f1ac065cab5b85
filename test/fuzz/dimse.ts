/**
 * Fuzz targets of DIMSE command-set parsing (src/dimse/command-set.ts) and
 * message reassembly from PDVs (src/dimse/reassembler.ts).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type CommandSet, decodeCommandSet, encodeCommandSet } from '../../src/dimse/command-set.js';
import { DimseMalformedCommandError, DimseProtocolError, DimseUsageError } from '../../src/dimse/errors.js';
import { MessageReassembler, type ReassembledMessage } from '../../src/dimse/reassembler.js';
import type { Pdv } from '../../src/network/channel.js';
import {
  bytesFrom,
  expectTyped,
  expectTypedAsync,
  type FuzzTarget,
  mutated,
  noteInput,
  plain,
  randomBytes,
  target,
} from './harness.js';
import { uid } from './pdu.js';

const us = fc.nat(0xffff);
const ae = fc.stringMatching(/^[A-Z0-9_][A-Z0-9_ ]{0,14}[A-Z0-9_]$/);
const known = new Set([
  0x0000, 0x0002, 0x0003, 0x0100, 0x0110, 0x0120, 0x0600, 0x0700, 0x0800, 0x0900, 0x0901, 0x0902, 0x0903,
  0x1000, 0x1001, 0x1002, 0x1005, 0x1008, 0x1020, 0x1021, 0x1022, 0x1023, 0x1030, 0x1031,
]);

/** A command set the encoder accepts and the decoder gives back unchanged. */
export const anyCommandSet: fc.Arbitrary<CommandSet> = fc
  .record(
    {
      commandField: us,
      hasDataset: fc.boolean(),
      affectedSopClassUid: uid,
      requestedSopClassUid: uid,
      messageId: us,
      messageIdBeingRespondedTo: us,
      moveDestination: ae,
      priority: us,
      status: us,
      offendingElement: fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 3 }),
      errorComment: fc.stringMatching(/^[A-Za-z0-9 .,:-]{0,63}[A-Za-z0-9.]$/),
      errorId: us,
      affectedSopInstanceUid: uid,
      requestedSopInstanceUid: uid,
      eventTypeId: us,
      attributeIdentifierList: fc.array(fc.nat({ max: 0xffffffff }), { maxLength: 3 }),
      actionTypeId: us,
      numberOfRemainingSuboperations: us,
      numberOfCompletedSuboperations: us,
      numberOfFailedSuboperations: us,
      numberOfWarningSuboperations: us,
      moveOriginatorAet: ae,
      moveOriginatorMessageId: us,
      unknownElements: fc.uniqueArray(
        fc.record({
          element: fc.integer({ min: 1, max: 0xffff }).filter((e) => !known.has(e)),
          value: fc.uint8Array({ maxLength: 16 }).map((u) => Buffer.from(u.subarray(0, u.length & ~1))),
        }),
        { minLength: 1, maxLength: 3, selector: (e) => e.element },
      ),
    },
    { requiredKeys: ['commandField', 'hasDataset'] },
  )
  .map((c) => {
    const cmd = plain(c) as CommandSet;
    cmd.unknownElements?.sort((a, b) => a.element - b.element);
    return cmd;
  });

const validCommandBytes = anyCommandSet.map(encodeCommandSet);

export const dimseTargets: FuzzTarget[] = [
  target('command-set', 'valid command sets round-trip byte for byte', 500, () =>
    fc.property(anyCommandSet, (cmd) => {
      const bytes = encodeCommandSet(cmd);
      noteInput(bytes);
      const back = decodeCommandSet(bytes);
      assert.deepEqual(plain(back), cmd);
      assert.ok(encodeCommandSet(back).equals(bytes), 'encode(decode(x)) differs from x');
    }),
  ),
  target(
    'command-set',
    'mutated and random command sets decode or fail with DimseMalformedCommandError',
    2000,
    () =>
      fc.property(bytesFrom(validCommandBytes, 256), (input) => {
        noteInput(input);
        const cmd = expectTyped([DimseMalformedCommandError], () => decodeCommandSet(input));
        if (!cmd) return;
        // what was accepted re-encodes (or is refused as unencodable) and decodes the same
        const again = expectTyped([DimseUsageError], () => encodeCommandSet(cmd));
        // (elements out of tag order are accepted, the encoder writes them sorted; an error
        // comment is sent as printable ASCII)
        cmd.unknownElements?.sort((a, b) => a.element - b.element);
        if (cmd.errorComment !== undefined)
          cmd.errorComment = cmd.errorComment
            .replace(/[^\x20-\x7e]/g, '?')
            .slice(0, 64)
            .replace(/ +$/, '');
        if (again) assert.deepEqual(plain(decodeCommandSet(again)), plain(cmd));
      }),
  ),
  target('reassembler', 'valid messages in random fragments are reassembled exactly', 300, () =>
    fc.asyncProperty(
      fc.array(message, { minLength: 1, maxLength: 4 }),
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }),
      async (messages, sizes) => {
        const pdvs: Pdv[] = [];
        for (const m of messages) pdvs.push(...fragment(m, sizes));
        noteInput(Buffer.concat(pdvs.map((p) => p.data)));
        const got = await reassemble(pdvs);
        assert.equal(got.error, undefined);
        assert.deepEqual(
          got.messages.map((m) => ({
            contextId: m.contextId,
            command: plain(m.command),
            dataset: m.dataset,
          })),
          messages.map((m) => ({
            contextId: m.contextId,
            command: m.command,
            dataset: m.command.hasDataset ? m.dataset : undefined,
          })),
        );
      },
    ),
  ),
  target(
    'reassembler',
    'random and corrupted PDV sequences fail only with DIMSE errors, within the limits',
    1000,
    () =>
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            message.chain((m) => fc.constant(fragment(m, [7, 13]))),
            fc.array(randomPdv, { minLength: 1, maxLength: 3 }),
            message.chain((m) =>
              mutated(fc.constant(encodeCommandSet(m.command))).map((data) => [
                { contextId: m.contextId, command: true, last: true, data },
              ]),
            ),
          ),
          { minLength: 1, maxLength: 5 },
        ),
        async (groups) => {
          const pdvs = groups.flat();
          noteInput(
            Buffer.concat(
              pdvs.map((p) =>
                Buffer.concat([Buffer.from([p.contextId, (p.command ? 1 : 0) | (p.last ? 2 : 0)]), p.data]),
              ),
            ),
          );
          const got = await reassemble(pdvs);
          for (const m of got.messages) assert.ok((m.dataset?.length ?? 0) <= MAX_DATASET);
        },
      ),
  ),
];

interface Message {
  contextId: number;
  command: CommandSet;
  dataset: Buffer;
}

const ACCEPTED = [1, 3, 5];
const MAX_COMMAND = 512;
const MAX_DATASET = 2048;

const message: fc.Arbitrary<Message> = fc.record({
  contextId: fc.constantFrom(...ACCEPTED),
  command: anyCommandSet.filter((c) => encodeCommandSet(c).length <= MAX_COMMAND),
  dataset: fc.uint8Array({ minLength: 0, maxLength: 300 }).map((u) => Buffer.from(u)),
});

const randomPdv: fc.Arbitrary<Pdv> = fc.record({
  contextId: fc.oneof(fc.constantFrom(...ACCEPTED), fc.nat(255)),
  command: fc.boolean(),
  last: fc.boolean(),
  data: randomBytes(128),
});

/** A message as PDVs: command then data set fragments of the given sizes, cycling. */
function fragment(m: Message, sizes: number[]): Pdv[] {
  const out: Pdv[] = [];
  const split = (data: Buffer, command: boolean) => {
    let at = 0;
    let i = 0;
    do {
      const n = sizes[i++ % sizes.length]!;
      const piece = data.subarray(at, at + n);
      at += piece.length;
      out.push({ contextId: m.contextId, command, last: at >= data.length, data: piece });
    } while (at < data.length);
  };
  split(encodeCommandSet(m.command), true);
  if (m.command.hasDataset) split(m.dataset, false);
  return out;
}

async function reassemble(pdvs: Pdv[]): Promise<{ messages: ReassembledMessage[]; error?: Error }> {
  const messages: ReassembledMessage[] = [];
  const r = new MessageReassembler({
    onMessage: (m) => messages.push(m),
    flow: { pause() {}, resume() {} },
    isAcceptedContext: (id) => ACCEPTED.includes(id),
    maxCommandBytes: MAX_COMMAND,
    maxBufferedDatasetBytes: MAX_DATASET,
  });
  let error: Error | undefined;
  await expectTypedAsync([], async () => {
    for (const p of pdvs) {
      try {
        r.push(p);
      } catch (err) {
        if (!(err instanceof DimseProtocolError || err instanceof DimseMalformedCommandError)) throw err;
        error = err;
        break;
      }
    }
    await r.settled();
  });
  return error ? { messages, error } : { messages };
}
