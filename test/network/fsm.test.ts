import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pdv } from '../../src/network/channel.js';
import { PduParseError } from '../../src/network/errors.js';
import {
  ACTIONS,
  BLANK_CELLS,
  EVENTS,
  type FsmEvent,
  type Indication,
  answersCollisionItself,
  awaitsAssociateResponse,
  awaitsAssociateRq,
  awaitsReleaseResponse,
  awaitsReleaseRp,
  InvalidPrimitiveError,
  isBlankCell,
  isEstablished,
  isIdle,
  isPastAbort,
  isDefinedByStandard,
  STATES,
  type State,
  StateMachine,
  transition,
  type UpperLayerPort,
} from '../../src/network/fsm.js';
import { emptyUserInformation, type Pdu } from '../../src/network/pdu/types.js';

const states = Object.keys(STATES) as State[];
const events = Object.keys(EVENTS) as FsmEvent[];
/** Events that are PDUs (or garbage) arriving from the peer. */
const PDU_EVENTS: FsmEvent[] = ['Evt3', 'Evt4', 'Evt6', 'Evt10', 'Evt12', 'Evt13', 'Evt16', 'Evt19'];
/** States in which a transport connection is open and the peer can send. */
const CONNECTED: State[] = states.filter((s) => s !== 'Sta1' && s !== 'Sta4');
/** The non-abort action each PDU event may legitimately trigger (PS3.8 Table 9-10). */
const VALID: Record<string, string> = {
  'Evt3:Sta5': 'AE-3',
  'Evt4:Sta5': 'AE-4',
  'Evt6:Sta2': 'AE-6',
  'Evt10:Sta6': 'DT-2',
  'Evt10:Sta7': 'AR-6',
  'Evt12:Sta6': 'AR-2',
  'Evt12:Sta7': 'AR-8',
  'Evt13:Sta7': 'AR-3',
  'Evt13:Sta10': 'AR-10',
  'Evt13:Sta11': 'AR-3',
};

class FakePort implements UpperLayerPort {
  sent: Pdu[] = [];
  indications: Indication[] = [];
  closed = 0;
  artim: 'running' | 'stopped' = 'stopped';
  constructor(readonly isRequestor: boolean) {}
  sendPdu(pdu: Pdu): void {
    this.sent.push(pdu);
  }
  writePdvs(pdvs: Pdv[]): void {
    this.sent.push({ type: 'P-DATA-TF', pdvs });
  }
  closeTransport(): void {
    this.closed++;
  }
  startArtim(): void {
    this.artim = 'running';
  }
  stopArtim(): void {
    this.artim = 'stopped';
  }
  indicate(indication: Indication): void {
    this.indications.push(indication);
  }
  providerCheck(): undefined {
    return undefined;
  }
}

const rq: Pdu = {
  type: 'A-ASSOCIATE-RQ',
  protocolVersion: 1,
  calledAet: 'A',
  callingAet: 'B',
  applicationContext: '1.2.840.10008.3.1.1.1',
  presentationContexts: [],
  userInfo: emptyUserInformation(),
};

function machineIn(state: State, isRequestor = true): { fsm: StateMachine; port: FakePort } {
  const port = new FakePort(isRequestor);
  const fsm = new StateMachine(port);
  fsm.state = state;
  return { fsm, port };
}

describe('PS3.8 state machine table', () => {
  test('every (event, state) pair has exactly one action, and it exists', () => {
    for (const e of events) {
      for (const s of states) {
        const name = transition(e, s);
        assert.ok(isBlankCell(name) ? BLANK_CELLS[name] : ACTIONS[name], `${e}:${s} → ${name}`);
        // a blank cell is exactly a pair the standard leaves blank
        assert.equal(isBlankCell(name), !isDefinedByStandard(e, s), `${e}:${s} → ${name}`);
      }
    }
    const defined = events.flatMap((e) => states.filter((s) => isDefinedByStandard(e, s))).length;
    assert.equal(defined, 123, 'non-blank cells of Table 9-10');
  });

  test('every action names only states it may go to, with the standard description', () => {
    for (const [name, action] of Object.entries(ACTIONS)) {
      assert.ok(action.description.length >= 10, name);
      for (const s of action.next) assert.ok(s in STATES, `${name} → ${s}`);
    }
  });

  test('every PDU that is not valid in a connected state leads to an abort action', () => {
    for (const e of PDU_EVENTS) {
      for (const s of CONNECTED) {
        const action = transition(e, s);
        const valid = VALID[`${e}:${s}`];
        if (valid) assert.equal(action, valid, `${e}:${s}`);
        else if (e === 'Evt16') assert.ok(['AA-2', 'AA-3'].includes(action), `${e}:${s} → ${action}`);
        else assert.ok(['AA-1', 'AA-6', 'AA-7', 'AA-8'].includes(action), `${e}:${s} → ${action}`);
      }
    }
  });

  test('executing each abort-leading pair sends A-ABORT or ignores, never throws', () => {
    for (const e of PDU_EVENTS) {
      for (const s of CONNECTED) {
        if (VALID[`${e}:${s}`]) continue;
        const { fsm, port } = machineIn(s);
        const pdu: Pdu | undefined =
          e === 'Evt16'
            ? { type: 'A-ABORT', source: 0, reason: 0 }
            : e === 'Evt19'
              ? undefined
              : e === 'Evt6'
                ? rq
                : e === 'Evt3'
                  ? { ...rq, type: 'A-ASSOCIATE-AC', presentationContexts: [] }
                  : e === 'Evt4'
                    ? { type: 'A-ASSOCIATE-RJ', result: 1, source: 1, reason: 1 }
                    : e === 'Evt10'
                      ? { type: 'P-DATA-TF', pdvs: [] }
                      : e === 'Evt12'
                        ? { type: 'A-RELEASE-RQ' }
                        : { type: 'A-RELEASE-RP' };
        const error = e === 'Evt19' ? new PduParseError('ERR_PDU_MALFORMED', 'bad') : undefined;
        fsm.dispatch({ event: e, pdu, error });
        assert.ok(fsm.state === 'Sta13' || fsm.state === 'Sta1', `${e}:${s} ends in ${fsm.state}`);
        if (['AA-1', 'AA-7', 'AA-8'].includes(transition(e, s))) {
          const abort = port.sent.find((p) => p.type === 'A-ABORT');
          assert.ok(
            abort && abort.type === 'A-ABORT' && abort.source === 2,
            `${e}:${s} sends a provider A-ABORT`,
          );
        }
      }
    }
  });

  test('P-DATA before association (Sta2): A-ABORT source 2 reason 2 (unexpected PDU)', () => {
    const { fsm, port } = machineIn('Sta2', false);
    fsm.dispatch({ event: 'Evt10', pdu: { type: 'P-DATA-TF', pdvs: [] } });
    assert.deepEqual(port.sent, [{ type: 'A-ABORT', source: 2, reason: 2 }]);
    assert.equal(fsm.state, 'Sta13');
    assert.equal(port.artim, 'running');
  });

  test('invalid PDU in Sta6: AA-8 with the parse error diagnostic', () => {
    const { fsm, port } = machineIn('Sta6');
    fsm.dispatch({
      event: 'Evt19',
      error: new PduParseError('ERR_PDU_UNKNOWN_TYPE', 'unknown PDU type 09H'),
    });
    assert.deepEqual(port.sent, [{ type: 'A-ABORT', source: 2, reason: 1 }]);
    const ind = port.indications.find((i) => i.kind === 'abort');
    assert.equal(ind?.kind === 'abort' && ind.message, 'unknown PDU type 09H');
  });

  test('a local primitive not allowed in a state is refused and the state is kept', () => {
    const { fsm } = machineIn('Sta5');
    assert.throws(() => fsm.dispatch({ event: 'Evt9', pdvs: [] }), InvalidPrimitiveError);
    assert.equal(fsm.state, 'Sta5');
  });

  test('requestor path: Evt1, Evt2, Evt3, Evt11, Evt13 → Sta1 with release confirmation', () => {
    const { fsm, port } = machineIn('Sta1');
    fsm.dispatch({ event: 'Evt1', pdu: rq });
    assert.equal(fsm.state, 'Sta4');
    fsm.dispatch({ event: 'Evt2', pdu: rq });
    assert.equal(fsm.state, 'Sta5');
    fsm.dispatch({ event: 'Evt3', pdu: { ...rq, type: 'A-ASSOCIATE-AC', presentationContexts: [] } });
    assert.equal(fsm.state, 'Sta6');
    fsm.dispatch({ event: 'Evt11' });
    assert.equal(fsm.state, 'Sta7');
    fsm.dispatch({ event: 'Evt13', pdu: { type: 'A-RELEASE-RP' } });
    assert.equal(fsm.state, 'Sta1');
    assert.deepEqual(
      port.sent.map((p) => p.type),
      ['A-ASSOCIATE-RQ', 'A-RELEASE-RQ'],
    );
    assert.equal(port.closed, 1);
  });

  test('release collision, requestor side: Sta7 → Sta9 → Sta11 → Sta1', () => {
    const { fsm, port } = machineIn('Sta7', true);
    fsm.dispatch({ event: 'Evt12', pdu: { type: 'A-RELEASE-RQ' } });
    assert.equal(fsm.state, 'Sta9');
    fsm.dispatch({ event: 'Evt14' });
    assert.equal(fsm.state, 'Sta11');
    fsm.dispatch({ event: 'Evt13', pdu: { type: 'A-RELEASE-RP' } });
    assert.equal(fsm.state, 'Sta1');
    assert.deepEqual(
      port.sent.map((p) => p.type),
      ['A-RELEASE-RP'],
    );
  });

  test('release collision, acceptor side: Sta7 → Sta10 → Sta12 → Sta13', () => {
    const { fsm, port } = machineIn('Sta7', false);
    fsm.dispatch({ event: 'Evt12', pdu: { type: 'A-RELEASE-RQ' } });
    assert.equal(fsm.state, 'Sta10');
    fsm.dispatch({ event: 'Evt13', pdu: { type: 'A-RELEASE-RP' } });
    assert.equal(fsm.state, 'Sta12');
    fsm.dispatch({ event: 'Evt14' });
    assert.equal(fsm.state, 'Sta13');
    assert.deepEqual(
      port.sent.map((p) => p.type),
      ['A-RELEASE-RP'],
    );
  });

  test('ARTIM expiry in Sta2 and Sta13 closes the transport (AA-2)', () => {
    for (const s of ['Sta2', 'Sta13'] as State[]) {
      const { fsm, port } = machineIn(s, false);
      port.artim = 'running';
      fsm.dispatch({ event: 'Evt18' });
      assert.equal(fsm.state, 'Sta1');
      assert.equal(port.closed, 1);
      assert.equal(port.artim, 'stopped');
    }
  });

  test('the named state predicates agree with the table', () => {
    const where = (p: (s: State) => boolean): State[] => states.filter(p);
    // established: P-DATA may be sent or received (DT-1/DT-2, AR-6/AR-7) or a release is under way
    assert.deepEqual(where(isEstablished), ['Sta6', 'Sta7', 'Sta8', 'Sta9', 'Sta10', 'Sta11', 'Sta12']);
    // awaiting A-RELEASE-RP: exactly the states where Evt13 is not an abort
    assert.deepEqual(
      where(awaitsReleaseRp),
      states.filter((s) => ['AR-3', 'AR-10'].includes(transition('Evt13', s))),
    );
    // awaiting our A-RELEASE response: exactly the states where Evt14 is allowed
    assert.deepEqual(
      where(awaitsReleaseResponse),
      states.filter((s) => isDefinedByStandard('Evt14', s)),
    );
    assert.deepEqual(where(answersCollisionItself), ['Sta9', 'Sta12']);
    assert.deepEqual(where(isPastAbort), ['Sta1', 'Sta13']);
    assert.deepEqual(where(awaitsAssociateRq), ['Sta2']);
    assert.deepEqual(where(isIdle), ['Sta1']);
    // awaiting our A-ASSOCIATE response: exactly the states where Evt7 and Evt8 are allowed
    assert.deepEqual(
      where(awaitsAssociateResponse),
      states.filter((s) => isDefinedByStandard('Evt7', s)),
    );
    assert.deepEqual(
      where(awaitsAssociateResponse),
      states.filter((s) => isDefinedByStandard('Evt8', s)),
    );
  });

  test('a transport closed without A-ABORT is a transport-closed indication, not an abort', () => {
    for (const [s, event, byPeer] of [
      ['Sta6', 'Evt17', true],
      ['Sta2', 'Evt17', true],
      ['Sta2', 'Evt18', false],
    ] as [State, FsmEvent, boolean][]) {
      const { fsm, port } = machineIn(s, false);
      fsm.dispatch({ event });
      assert.equal(fsm.state, 'Sta1');
      assert.equal(port.indications[0]?.kind, 'transport-closed', `${event}:${s}`);
      const ind = port.indications[0];
      assert.equal(ind?.kind === 'transport-closed' && ind.byPeer, byPeer, `${event}:${s}`);
      assert.ok(!port.indications.some((i) => i.kind === 'abort'), `${event}:${s}`);
    }
  });
});
