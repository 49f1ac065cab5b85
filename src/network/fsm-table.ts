/**
 * PS3.8 Table 9-10: which action (or blank cell) answers each (event, state) pair. Transcription
 * and its check: see fsm.ts.
 */
import { type ActionName, type Cell, EVENTS, type FsmEvent, type State, STATES } from './fsm-types.js';
import type { Pdu } from './pdu/types.js';

/** Events that are local primitives (from the user or the local transport service), as opposed to the peer. */
const LOCAL_EVENTS: ReadonlySet<FsmEvent> = new Set<FsmEvent>([
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

/** PS3.8 Table 9-10, non-blank cells: `Evt:Sta` → action. */
const TABLE_9_10: Readonly<Record<string, ActionName>> = {
  'Evt1:Sta1': 'AE-1',

  'Evt2:Sta4': 'AE-2',

  'Evt3:Sta2': 'AA-1',
  'Evt3:Sta3': 'AA-8',
  'Evt3:Sta5': 'AE-3',
  'Evt3:Sta6': 'AA-8',
  'Evt3:Sta7': 'AA-8',
  'Evt3:Sta8': 'AA-8',
  'Evt3:Sta9': 'AA-8',
  'Evt3:Sta10': 'AA-8',
  'Evt3:Sta11': 'AA-8',
  'Evt3:Sta12': 'AA-8',
  'Evt3:Sta13': 'AA-6',

  'Evt4:Sta2': 'AA-1',
  'Evt4:Sta3': 'AA-8',
  'Evt4:Sta5': 'AE-4',
  'Evt4:Sta6': 'AA-8',
  'Evt4:Sta7': 'AA-8',
  'Evt4:Sta8': 'AA-8',
  'Evt4:Sta9': 'AA-8',
  'Evt4:Sta10': 'AA-8',
  'Evt4:Sta11': 'AA-8',
  'Evt4:Sta12': 'AA-8',
  'Evt4:Sta13': 'AA-6',

  'Evt5:Sta1': 'AE-5',

  'Evt6:Sta2': 'AE-6',
  'Evt6:Sta3': 'AA-8',
  'Evt6:Sta5': 'AA-8',
  'Evt6:Sta6': 'AA-8',
  'Evt6:Sta7': 'AA-8',
  'Evt6:Sta8': 'AA-8',
  'Evt6:Sta9': 'AA-8',
  'Evt6:Sta10': 'AA-8',
  'Evt6:Sta11': 'AA-8',
  'Evt6:Sta12': 'AA-8',
  'Evt6:Sta13': 'AA-7',

  'Evt7:Sta3': 'AE-7',

  'Evt8:Sta3': 'AE-8',

  'Evt9:Sta6': 'DT-1',
  'Evt9:Sta8': 'AR-7',

  'Evt10:Sta2': 'AA-1',
  'Evt10:Sta3': 'AA-8',
  'Evt10:Sta5': 'AA-8',
  'Evt10:Sta6': 'DT-2',
  'Evt10:Sta7': 'AR-6',
  'Evt10:Sta8': 'AA-8',
  'Evt10:Sta9': 'AA-8',
  'Evt10:Sta10': 'AA-8',
  'Evt10:Sta11': 'AA-8',
  'Evt10:Sta12': 'AA-8',
  'Evt10:Sta13': 'AA-6',

  'Evt11:Sta6': 'AR-1',

  'Evt12:Sta2': 'AA-1',
  'Evt12:Sta3': 'AA-8',
  'Evt12:Sta5': 'AA-8',
  'Evt12:Sta6': 'AR-2',
  'Evt12:Sta7': 'AR-8',
  'Evt12:Sta8': 'AA-8',
  'Evt12:Sta9': 'AA-8',
  'Evt12:Sta10': 'AA-8',
  'Evt12:Sta11': 'AA-8',
  'Evt12:Sta12': 'AA-8',
  'Evt12:Sta13': 'AA-6',

  'Evt13:Sta2': 'AA-1',
  'Evt13:Sta3': 'AA-8',
  'Evt13:Sta5': 'AA-8',
  'Evt13:Sta6': 'AA-8',
  'Evt13:Sta7': 'AR-3',
  'Evt13:Sta8': 'AA-8',
  'Evt13:Sta9': 'AA-8',
  'Evt13:Sta10': 'AR-10',
  'Evt13:Sta11': 'AR-3',
  'Evt13:Sta12': 'AA-8',
  'Evt13:Sta13': 'AA-6',

  'Evt14:Sta8': 'AR-4',
  'Evt14:Sta9': 'AR-9',
  'Evt14:Sta12': 'AR-4',

  'Evt15:Sta3': 'AA-1',
  'Evt15:Sta4': 'AA-2',
  'Evt15:Sta5': 'AA-1',
  'Evt15:Sta6': 'AA-1',
  'Evt15:Sta7': 'AA-1',
  'Evt15:Sta8': 'AA-1',
  'Evt15:Sta9': 'AA-1',
  'Evt15:Sta10': 'AA-1',
  'Evt15:Sta11': 'AA-1',
  'Evt15:Sta12': 'AA-1',

  'Evt16:Sta2': 'AA-2',
  'Evt16:Sta3': 'AA-3',
  'Evt16:Sta5': 'AA-3',
  'Evt16:Sta6': 'AA-3',
  'Evt16:Sta7': 'AA-3',
  'Evt16:Sta8': 'AA-3',
  'Evt16:Sta9': 'AA-3',
  'Evt16:Sta10': 'AA-3',
  'Evt16:Sta11': 'AA-3',
  'Evt16:Sta12': 'AA-3',
  'Evt16:Sta13': 'AA-2',

  'Evt17:Sta2': 'AA-5',
  'Evt17:Sta3': 'AA-4',
  'Evt17:Sta4': 'AA-4',
  'Evt17:Sta5': 'AA-4',
  'Evt17:Sta6': 'AA-4',
  'Evt17:Sta7': 'AA-4',
  'Evt17:Sta8': 'AA-4',
  'Evt17:Sta9': 'AA-4',
  'Evt17:Sta10': 'AA-4',
  'Evt17:Sta11': 'AA-4',
  'Evt17:Sta12': 'AA-4',
  'Evt17:Sta13': 'AR-5',

  'Evt18:Sta2': 'AA-2',
  'Evt18:Sta13': 'AA-2',

  'Evt19:Sta2': 'AA-1',
  'Evt19:Sta3': 'AA-8',
  'Evt19:Sta5': 'AA-8',
  'Evt19:Sta6': 'AA-8',
  'Evt19:Sta7': 'AA-8',
  'Evt19:Sta8': 'AA-8',
  'Evt19:Sta9': 'AA-8',
  'Evt19:Sta10': 'AA-8',
  'Evt19:Sta11': 'AA-8',
  'Evt19:Sta12': 'AA-8',
  'Evt19:Sta13': 'AA-7',
};

/**
 * The whole table, blank cells included, by state then event: looked up once per PDU sent or
 * received, so it is built once rather than keyed by a string made per lookup.
 */
const CELLS: Readonly<Record<State, Readonly<Record<FsmEvent, Cell>>>> = (() => {
  const byState = {} as Record<State, Record<FsmEvent, Cell>>;
  for (const state of Object.keys(STATES) as State[]) {
    const row = {} as Record<FsmEvent, Cell>;
    for (const event of Object.keys(EVENTS) as FsmEvent[]) {
      row[event] = TABLE_9_10[`${event}:${state}`] ?? (LOCAL_EVENTS.has(event) ? 'XX-L' : 'XX-R');
    }
    byState[state] = row;
  }
  return byState;
})();

/** The action for an (event, state) pair: Table 9-10, blank cells answered with `XX-L` / `XX-R`. */
export function transition(event: FsmEvent, state: State): Cell {
  return CELLS[state][event];
}

/** The event a received PDU is to the state machine (PS3.8 Table 9-10: Evt3, 4, 6, 10, 12, 13, 16). */
export function eventForPdu(pdu: Pdu): FsmEvent {
  switch (pdu.type) {
    case 'A-ASSOCIATE-AC':
      return 'Evt3';
    case 'A-ASSOCIATE-RJ':
      return 'Evt4';
    case 'A-ASSOCIATE-RQ':
      return 'Evt6';
    case 'P-DATA-TF':
      return 'Evt10';
    case 'A-RELEASE-RQ':
      return 'Evt12';
    case 'A-RELEASE-RP':
      return 'Evt13';
    case 'A-ABORT':
      return 'Evt16';
  }
}

/** True when PS3.8 Table 9-10 has a non-blank cell for this pair. */
export function isDefinedByStandard(event: FsmEvent, state: State): boolean {
  return TABLE_9_10[`${event}:${state}`] !== undefined;
}
