/**
 * Fuzz targets of the PS3.8 state machine (src/network/fsm.ts): random event
 * sequences from random states, and random PDU byte streams fed through the
 * framer and decoder into the machine the way the association does it.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ACTIONS,
  EVENTS,
  eventForPdu,
  type FsmEvent,
  type FsmInput,
  InvalidPrimitiveError,
  type State,
  StateMachine,
  STATES,
  type UpperLayerPort,
} from '../../src/network/fsm.js';
import { decodePduBody, encodePdu, type Pdu, PduFramer, PduParseError } from '../../src/network/index.js';
import { expectTyped, type FuzzTarget, mutated, noteInput, randomBytes, target } from './harness.js';
import { pduOfType, validPduBytes } from './pdu.js';

const STATE_NAMES = Object.keys(STATES) as State[];
const EVENT_NAMES = Object.keys(EVENTS) as FsmEvent[];
const LOCAL: ReadonlySet<FsmEvent> = new Set([
  'Evt1',
  'Evt2',
  'Evt5',
  'Evt7',
  'Evt8',
  'Evt9',
  'Evt11',
  'Evt14',
  'Evt15',
]);

/** The PDU type an event carries (received, or to send), as the association pairs them. */
const PDU_OF_EVENT: Partial<Record<FsmEvent, Pdu['type']>> = {
  Evt1: 'A-ASSOCIATE-RQ',
  Evt2: 'A-ASSOCIATE-RQ',
  Evt3: 'A-ASSOCIATE-AC',
  Evt4: 'A-ASSOCIATE-RJ',
  Evt6: 'A-ASSOCIATE-RQ',
  Evt7: 'A-ASSOCIATE-AC',
  Evt8: 'A-ASSOCIATE-RJ',
  Evt10: 'P-DATA-TF',
  Evt12: 'A-RELEASE-RQ',
  Evt13: 'A-RELEASE-RP',
  Evt16: 'A-ABORT',
};

/** A port that records what the actions do and checks what they send is encodable. */
class RecordingPort implements UpperLayerPort {
  sent: Pdu[] = [];
  closed = 0;
  artim = false;
  constructor(
    readonly isRequestor: boolean,
    private readonly reject: boolean,
  ) {}
  sendPdu(pdu: Pdu): void {
    encodePdu(pdu);
    this.sent.push(pdu);
  }
  writePdvs(): void {}
  closeTransport(): void {
    this.closed++;
  }
  startArtim(): void {
    this.artim = true;
  }
  stopArtim(): void {
    this.artim = false;
  }
  indicate(): void {}
  providerCheck(): (Pdu & { type: 'A-ASSOCIATE-RJ' }) | undefined {
    return this.reject ? { type: 'A-ASSOCIATE-RJ', result: 1, source: 2, reason: 2 } : undefined;
  }
}

const inputFor = (event: FsmEvent): fc.Arbitrary<FsmInput> => {
  const type = PDU_OF_EVENT[event];
  const pdu = type ? pduOfType[type] : fc.constant(undefined);
  return fc
    .record({
      pdu,
      abort: fc.option(fc.record({ source: fc.constantFrom(0, 2), reason: fc.nat(6) }), { nil: undefined }),
      timeout: fc.option(fc.boolean(), { nil: undefined }),
    })
    .map(({ pdu: p, abort, timeout }) => {
      const input: FsmInput = { event };
      if (p) input.pdu = p;
      if (event === 'Evt9') input.pdvs = [];
      if (event === 'Evt15' && abort) input.abort = abort;
      if (event === 'Evt19') input.error = new PduParseError('ERR_PDU_MALFORMED', 'fuzzed');
      if (timeout !== undefined) input.timeout = timeout;
      return input;
    });
};

const anyInput = fc.constantFrom(...EVENT_NAMES).chain(inputFor);

/** One dispatch with the table's promises checked. */
function step(fsm: StateMachine, port: RecordingPort, input: FsmInput): void {
  const before = fsm.state;
  const sentBefore = port.sent.length;
  let action;
  try {
    action = fsm.dispatch(input);
  } catch (err) {
    // only a local primitive may be refused, and then nothing changes
    if (!(err instanceof InvalidPrimitiveError) || !LOCAL.has(input.event)) throw err;
    assert.equal(fsm.state, before);
    assert.equal(port.sent.length, sentBefore);
    return;
  }
  if (action === 'XX-R' || action === 'XX-L') {
    assert.ok(!LOCAL.has(input.event) || action === 'XX-R', `${input.event} in ${before}: ${action}`);
    assert.equal(fsm.state, before, `${input.event} in ${before} was ignored but the state changed`);
    return;
  }
  assert.ok(ACTIONS[action].next.includes(fsm.state), `${action} led to ${fsm.state}`);
  // a PDU from the peer that is wrong here always answers with (or ends in) an abort
  if (!LOCAL.has(input.event) && fsm.state === 'Sta13' && before !== 'Sta13') {
    const abortSent = port.sent
      .slice(sentBefore)
      .some((p) => p.type === 'A-ABORT' || p.type === 'A-ASSOCIATE-RJ');
    assert.ok(
      abortSent || input.event === 'Evt12' || input.event === 'Evt13',
      `${input.event} in ${before} sent no A-ABORT`,
    );
  }
}

export const fsmTargets: FuzzTarget[] = [
  target(
    'fsm',
    'every (state, event) sequence yields a defined action or an abort, never a throw',
    2000,
    () =>
      fc.property(
        fc.constantFrom(...STATE_NAMES),
        fc.boolean(),
        fc.boolean(),
        fc.array(anyInput, { minLength: 1, maxLength: 30 }),
        (start, isRequestor, reject, inputs) => {
          noteInput(`${start} ${inputs.map((i) => i.event).join(' ')}`);
          const port = new RecordingPort(isRequestor, reject);
          const fsm = new StateMachine(port);
          fsm.state = start;
          expectTyped([], () => {
            for (const input of inputs) step(fsm, port, input);
          });
        },
      ),
  ),
  target('fsm', 'PDU byte streams from a peer drive the machine without a throw', 1000, () =>
    fc.property(
      fc.constantFrom(...STATE_NAMES),
      fc.array(fc.oneof(validPduBytes, mutated(validPduBytes), randomBytes(64)), {
        minLength: 1,
        maxLength: 6,
      }),
      (start, chunks) => {
        const stream = Buffer.concat(chunks);
        noteInput(stream);
        const port = new RecordingPort(false, false);
        const fsm = new StateMachine(port);
        fsm.state = start;
        const framer = new PduFramer({ maxPDataLength: 0, hardMaxPduLength: 64 * 1024 });
        expectTyped([], () => {
          framer.push(stream);
          for (;;) {
            let pdu: Pdu;
            try {
              const frame = framer.next();
              if (!frame) return;
              pdu = decodePduBody(frame.type, frame.body);
            } catch (err) {
              if (!(err instanceof PduParseError)) throw err;
              step(fsm, port, { event: 'Evt19', error: err });
              return;
            }
            step(fsm, port, { event: eventForPdu(pdu), pdu });
          }
        });
      },
    ),
  ),
];
