/**
 * The DICOM upper layer protocol state machine, PS3.8 section 9.2.
 *
 * Provenance: states from PS3.8 Tables 9-1 to 9-5 and action definitions from
 * Tables 9-6 to 9-9 (read in PS3.8 2019a, section 9.2.2); the (event, state) →
 * action mapping is PS3.8 Table 9-10 as transcribed in pynetdicom's `fsm.py`
 * (`TRANSITION_TABLE`, whose one-mapping layout this follows), compared entry
 * by entry: the same 123 non-blank cells. Cells the standard leaves blank get
 * one of two named outcomes, which are not actions ({@link BLANK_CELLS}:
 * `XX-L` a local primitive refused, `XX-R` an event that cannot occur,
 * ignored), so that every (event, state) pair has exactly one answer;
 * test/network/fsm.test.ts checks both. Every decision the association makes
 * on the current state is one of the named predicates at the end of this file.
 *
 * Further deviations, all deliberate:
 * - AA-1 answers an invalid PDU in Sta2 with service-provider source and the
 *   diagnostic (e.g. reason 2 unexpected PDU); a local abort (Evt15) keeps
 *   the source it was given (0, service user; 2 for our idle timeout).
 * - AA-1 and AA-8 also half-close the transport after the A-ABORT is flushed,
 *   so the peer's close (Evt17) ends Sta13 quickly; ARTIM still bounds the wait.
 * - AE-1 does not open the transport: dicomnet is handed an already connected
 *   stream (TCP or TLS), so Evt2 follows Evt1 at once.
 */
import { ACTIONS } from './fsm-actions.js';
import { transition } from './fsm-table.js';
import {
  EVENTS,
  type FsmEvent,
  type FsmInput,
  type Cell,
  type State,
  STATES,
  type UpperLayerPort,
} from './fsm-types.js';

export * from './fsm-types.js';
export { ACTIONS } from './fsm-actions.js';
export { eventForPdu, isDefinedByStandard, transition } from './fsm-table.js';

/** A local primitive issued in a state where PS3.8 does not allow it. */
export class InvalidPrimitiveError extends Error {
  constructor(
    readonly event: FsmEvent,
    readonly state: State,
  ) {
    super(`${EVENTS[event]} (${event}) is not allowed in ${state}: ${STATES[state]}`);
    this.name = 'InvalidPrimitiveError';
  }
}

/** Runs the table: one current state, one event at a time. */
export class StateMachine {
  state: State = 'Sta1';

  constructor(private readonly port: UpperLayerPort) {}

  /**
   * Process one event; returns the action taken. A local primitive refused by
   * the table throws {@link InvalidPrimitiveError} with the state unchanged.
   */
  dispatch(input: FsmInput): Cell {
    const name = transition(input.event, this.state);
    if (name === 'XX-L') throw new InvalidPrimitiveError(input.event, this.state);
    if (name === 'XX-R') return name;
    this.state = ACTIONS[name].run(this.port, input);
    return name;
  }
}

// ---- decisions on the current state, named: the association asks, the table's states answer ----

const ESTABLISHED: ReadonlySet<State> = new Set<State>([
  'Sta6',
  'Sta7',
  'Sta8',
  'Sta9',
  'Sta10',
  'Sta11',
  'Sta12',
]);

/** Sta6–Sta12: established; P-DATA may still flow while a release is under way (PS3.8 AR-6, AR-7). */
export function isEstablished(state: State): boolean {
  return ESTABLISHED.has(state);
}

/**
 * Sta7, Sta10, Sta11: this side sent A-RELEASE-RQ and waits for the A-RELEASE-RP. PS3.8 runs no
 * timer here, so the association bounds the wait itself.
 */
export function awaitsReleaseRp(state: State): boolean {
  return state === 'Sta7' || state === 'Sta10' || state === 'Sta11';
}

/** Sta8, Sta9, Sta12: the peer's A-RELEASE-RQ waits for our A-RELEASE response primitive (Evt14). */
export function awaitsReleaseResponse(state: State): boolean {
  return state === 'Sta8' || state === 'Sta9' || state === 'Sta12';
}

/**
 * Sta9 (requestor side, answered at once: AR-9) and Sta12 (acceptor side, answered once our own
 * A-RELEASE-RQ was confirmed: AR-4): a release collision in which the A-RELEASE response is the
 * provider's to give, not the user's.
 */
export function answersCollisionItself(state: State): boolean {
  return state === 'Sta9' || state === 'Sta12';
}

/** Sta1: no transport connection and no association: nothing is read or sent any more. */
export function isIdle(state: State): boolean {
  return state === 'Sta1';
}

/** Sta3: the peer's A-ASSOCIATE-RQ waits for our answer (Evt7 accept or Evt8 reject). */
export function awaitsAssociateResponse(state: State): boolean {
  return state === 'Sta3';
}

/** Sta1, Sta13: nothing left to abort (idle, or only waiting for the transport to close). */
export function isPastAbort(state: State): boolean {
  return state === 'Sta1' || state === 'Sta13';
}

/**
 * Sta2: a transport is open but no A-ASSOCIATE-RQ has come, so there is no association to send an
 * A-ABORT on: a local abort just drops the transport.
 */
export function awaitsAssociateRq(state: State): boolean {
  return state === 'Sta2';
}
