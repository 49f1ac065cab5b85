/** The vocabulary of the PS3.8 state machine: its states, events, indications, and the shape of an action. */
import type { Pdv } from './channel.js';
import type { PduParseError } from './errors.js';
import type { AssociateAcPdu, AssociateRjPdu, AssociateRqPdu, Pdu } from './pdu/types.js';

export const STATES = {
  Sta1: 'Idle',
  Sta2: 'Transport connection open (awaiting A-ASSOCIATE-RQ PDU)',
  Sta3: 'Awaiting local A-ASSOCIATE response primitive (from local user)',
  Sta4: 'Awaiting transport connection opening to complete (from local transport service)',
  Sta5: 'Awaiting A-ASSOCIATE-AC or A-ASSOCIATE-RJ PDU',
  Sta6: 'Association established and ready for data transfer',
  Sta7: 'Awaiting A-RELEASE-RP PDU',
  Sta8: 'Awaiting local A-RELEASE response primitive (from local user)',
  Sta9: 'Release collision requestor side; awaiting A-RELEASE response primitive (from local user)',
  Sta10: 'Release collision acceptor side; awaiting A-RELEASE-RP PDU',
  Sta11: 'Release collision requestor side; awaiting A-RELEASE-RP PDU',
  Sta12: 'Release collision acceptor side; awaiting A-RELEASE response primitive (from local user)',
  Sta13: 'Awaiting transport connection close indication (association no longer exists)',
} as const;

export type State = keyof typeof STATES;

export const EVENTS = {
  Evt1: 'A-ASSOCIATE request (local user)',
  Evt2: 'Transport connect confirmation (local transport service)',
  Evt3: 'A-ASSOCIATE-AC PDU (received on transport connection)',
  Evt4: 'A-ASSOCIATE-RJ PDU (received on transport connection)',
  Evt5: 'Transport connection indication (local transport service)',
  Evt6: 'A-ASSOCIATE-RQ PDU (received on transport connection)',
  Evt7: 'A-ASSOCIATE response primitive (accept)',
  Evt8: 'A-ASSOCIATE response primitive (reject)',
  Evt9: 'P-DATA request primitive',
  Evt10: 'P-DATA-TF PDU',
  Evt11: 'A-RELEASE request primitive',
  Evt12: 'A-RELEASE-RQ PDU (received on open transport connection)',
  Evt13: 'A-RELEASE-RP PDU (received on transport connection)',
  Evt14: 'A-RELEASE response primitive',
  Evt15: 'A-ABORT request primitive',
  Evt16: 'A-ABORT PDU (received on open transport connection)',
  Evt17: 'Transport connection closed indication (local transport service)',
  Evt18: 'ARTIM timer expired (association reject/release timer)',
  Evt19: 'Unrecognized or invalid PDU received',
} as const;

export type FsmEvent = keyof typeof EVENTS;

/** What the upper layer tells its user (PS3.8 indication and confirmation primitives). */
export type Indication =
  | { kind: 'associate-rq'; pdu: AssociateRqPdu }
  | { kind: 'associate-ac'; pdu: AssociateAcPdu }
  | { kind: 'associate-rj'; pdu: AssociateRjPdu }
  | { kind: 'p-data'; pdvs: Pdv[] }
  | { kind: 'release-rq'; collision: boolean }
  | { kind: 'release-rp' }
  | { kind: 'released' }
  | { kind: 'abort'; source: number; reason: number; byPeer: boolean; message: string; timeout?: boolean }
  /** The transport closed (or ARTIM expired) without an A-ABORT: A-P-ABORT with no PDU exchanged. */
  | { kind: 'transport-closed'; byPeer: boolean; message: string; timeout?: boolean }
  | { kind: 'idle' };

/** What the actions may do: implemented by the association, so the table stays free of I/O. */
export interface UpperLayerPort {
  readonly isRequestor: boolean;
  sendPdu(pdu: Pdu): void;
  /** Write P-DATA-TF PDUs carrying these PDVs, fragmented to the peer's maximum. */
  writePdvs(pdvs: Pdv[]): void;
  /** Close the transport connection (after flushing what was written). */
  closeTransport(): void;
  startArtim(): void;
  stopArtim(): void;
  indicate(indication: Indication): void;
  /** AE-6: the provider's own check of an A-ASSOCIATE-RQ (e.g. protocol version); an RJ when unacceptable. */
  providerCheck(rq: AssociateRqPdu): AssociateRjPdu | undefined;
}

/** An event and what came with it. */
export interface FsmInput {
  event: FsmEvent;
  /** The PDU received (Evt3, 4, 6, 10, 12, 13, 16) or to send (Evt1 RQ, Evt7 AC, Evt8 RJ). */
  pdu?: Pdu;
  /** Evt9: the PDVs to send. */
  pdvs?: Pdv[];
  /** Evt15: A-ABORT source/reason; Evt19: the parse error behind it. */
  abort?: { source: number; reason: number };
  error?: PduParseError;
  /** Why, for log lines and close reasons (e.g. `idle timeout`). */
  cause?: string;
  /** The event stems from a timer (idle timeout, ARTIM, response wait). */
  timeout?: boolean;
}

export type ActionName =
  | 'AE-1'
  | 'AE-2'
  | 'AE-3'
  | 'AE-4'
  | 'AE-5'
  | 'AE-6'
  | 'AE-7'
  | 'AE-8'
  | 'DT-1'
  | 'DT-2'
  | 'AR-1'
  | 'AR-2'
  | 'AR-3'
  | 'AR-4'
  | 'AR-5'
  | 'AR-6'
  | 'AR-7'
  | 'AR-8'
  | 'AR-9'
  | 'AR-10'
  | 'AA-1'
  | 'AA-2'
  | 'AA-3'
  | 'AA-4'
  | 'AA-5'
  | 'AA-6'
  | 'AA-7'
  | 'AA-8';

/** The two outcomes of a cell PS3.8 Table 9-10 leaves blank: no action runs and the state is kept. */
export type BlankCell = 'XX-L' | 'XX-R';

/** What the table answers for an (event, state) pair: an action, or a blank cell. */
export type Cell = ActionName | BlankCell;

/** Descriptions of the blank-cell outcomes (for log lines and the table test). */
export const BLANK_CELLS: Readonly<Record<BlankCell, string>> = {
  'XX-L':
    'dicomnet: local primitive not allowed in this state by PS3.8 (blank cell): refused, state unchanged',
  'XX-R':
    'dicomnet: event cannot occur in this state (no transport open or no ARTIM running; blank cell): ignored, state unchanged',
};

/** True when the cell is a blank one ({@link BLANK_CELLS}) rather than an action. */
export function isBlankCell(cell: Cell): cell is BlankCell {
  return cell === 'XX-L' || cell === 'XX-R';
}

/** One action: the standard's description, the state(s) it may lead to, and what it does. */
export interface Action {
  description: string;
  next: readonly State[];
  run: (port: UpperLayerPort, input: FsmInput) => State;
}
