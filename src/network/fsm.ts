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
import type { Pdv } from './channel.js';
import type { PduParseError } from './errors.js';
import type { AbortPdu, AssociateAcPdu, AssociateRjPdu, AssociateRqPdu, Pdu } from './pdu/types.js';

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

function pduOf<T extends Pdu['type']>(input: FsmInput, type: T): Extract<Pdu, { type: T }> {
  if (input.pdu?.type !== type) throw new Error(`${input.event} needs a ${type} PDU`);
  return input.pdu as Extract<Pdu, { type: T }>;
}

/** The A-ABORT diagnostic for a PDU that is invalid or unexpected in the current state. */
function providerAbort(input: FsmInput): { source: number; reason: number; message: string } {
  if (input.error) return { source: 2, reason: input.error.abortReason, message: input.error.message };
  const what = input.pdu ? input.pdu.type : EVENTS[input.event];
  return { source: 2, reason: 2, message: input.cause ?? `unexpected ${what}` };
}

function abortMessage(source: number, reason: number): string {
  return source === 2 ? `provider abort, reason ${reason}` : 'user abort';
}

export const ACTIONS: Record<ActionName, Action> = {
  'AE-1': {
    description: 'Issue TRANSPORT CONNECT request primitive to local transport service',
    next: ['Sta4'],
    run: () => 'Sta4',
  },
  'AE-2': {
    description: 'Send A-ASSOCIATE-RQ-PDU',
    next: ['Sta5'],
    run: (port, input) => {
      port.sendPdu(pduOf(input, 'A-ASSOCIATE-RQ'));
      return 'Sta5';
    },
  },
  'AE-3': {
    description: 'Issue A-ASSOCIATE confirmation (accept) primitive',
    next: ['Sta6'],
    run: (port, input) => {
      port.indicate({ kind: 'associate-ac', pdu: pduOf(input, 'A-ASSOCIATE-AC') });
      return 'Sta6';
    },
  },
  'AE-4': {
    description: 'Issue A-ASSOCIATE confirmation (reject) primitive and close transport connection',
    next: ['Sta1'],
    run: (port, input) => {
      port.indicate({ kind: 'associate-rj', pdu: pduOf(input, 'A-ASSOCIATE-RJ') });
      port.closeTransport();
      return 'Sta1';
    },
  },
  'AE-5': {
    description: 'Issue transport connection response primitive; start ARTIM timer',
    next: ['Sta2'],
    run: (port) => {
      port.startArtim();
      return 'Sta2';
    },
  },
  'AE-6': {
    description:
      'Stop ARTIM timer and if A-ASSOCIATE-RQ acceptable by service-provider: issue A-ASSOCIATE indication primitive (Sta3); otherwise issue A-ASSOCIATE-RJ-PDU and start ARTIM timer (Sta13)',
    next: ['Sta3', 'Sta13'],
    run: (port, input) => {
      port.stopArtim();
      const rq = pduOf(input, 'A-ASSOCIATE-RQ');
      const rj = port.providerCheck(rq);
      if (rj) {
        port.sendPdu(rj);
        port.indicate({ kind: 'associate-rj', pdu: rj });
        port.startArtim();
        return 'Sta13';
      }
      port.indicate({ kind: 'associate-rq', pdu: rq });
      return 'Sta3';
    },
  },
  'AE-7': {
    description: 'Send A-ASSOCIATE-AC PDU',
    next: ['Sta6'],
    run: (port, input) => {
      port.sendPdu(pduOf(input, 'A-ASSOCIATE-AC'));
      return 'Sta6';
    },
  },
  'AE-8': {
    description: 'Send A-ASSOCIATE-RJ PDU and start ARTIM timer',
    next: ['Sta13'],
    run: (port, input) => {
      port.sendPdu(pduOf(input, 'A-ASSOCIATE-RJ'));
      port.startArtim();
      return 'Sta13';
    },
  },
  'DT-1': {
    description: 'Send P-DATA-TF PDU',
    next: ['Sta6'],
    run: (port, input) => {
      port.writePdvs(input.pdvs ?? []);
      return 'Sta6';
    },
  },
  'DT-2': {
    description: 'Send P-DATA indication primitive',
    next: ['Sta6'],
    run: (port, input) => {
      port.indicate({ kind: 'p-data', pdvs: pduOf(input, 'P-DATA-TF').pdvs });
      return 'Sta6';
    },
  },
  'AR-1': {
    description: 'Send A-RELEASE-RQ PDU',
    next: ['Sta7'],
    run: (port) => {
      port.sendPdu({ type: 'A-RELEASE-RQ' });
      return 'Sta7';
    },
  },
  'AR-2': {
    description: 'Issue A-RELEASE indication primitive',
    next: ['Sta8'],
    run: (port) => {
      port.indicate({ kind: 'release-rq', collision: false });
      return 'Sta8';
    },
  },
  'AR-3': {
    description: 'Issue A-RELEASE confirmation primitive, and close transport connection',
    next: ['Sta1'],
    run: (port) => {
      port.indicate({ kind: 'release-rp' });
      port.indicate({ kind: 'released' });
      port.closeTransport();
      return 'Sta1';
    },
  },
  'AR-4': {
    description: 'Issue A-RELEASE-RP PDU and start ARTIM timer',
    next: ['Sta13'],
    run: (port) => {
      port.sendPdu({ type: 'A-RELEASE-RP' });
      port.indicate({ kind: 'released' });
      port.startArtim();
      return 'Sta13';
    },
  },
  'AR-5': {
    description: 'Stop ARTIM timer',
    next: ['Sta1'],
    run: (port) => {
      port.stopArtim();
      port.indicate({ kind: 'idle' });
      return 'Sta1';
    },
  },
  'AR-6': {
    description: 'Issue P-DATA indication',
    next: ['Sta7'],
    run: (port, input) => {
      port.indicate({ kind: 'p-data', pdvs: pduOf(input, 'P-DATA-TF').pdvs });
      return 'Sta7';
    },
  },
  'AR-7': {
    description: 'Issue P-DATA-TF PDU',
    next: ['Sta8'],
    run: (port, input) => {
      port.writePdvs(input.pdvs ?? []);
      return 'Sta8';
    },
  },
  'AR-8': {
    description:
      'Issue A-RELEASE indication (release collision): if association-requestor, next state is Sta9, if not Sta10',
    next: ['Sta9', 'Sta10'],
    run: (port) => {
      port.indicate({ kind: 'release-rq', collision: true });
      return port.isRequestor ? 'Sta9' : 'Sta10';
    },
  },
  'AR-9': {
    description: 'Send A-RELEASE-RP PDU',
    next: ['Sta11'],
    run: (port) => {
      port.sendPdu({ type: 'A-RELEASE-RP' });
      return 'Sta11';
    },
  },
  'AR-10': {
    description: 'Issue A-RELEASE confirmation primitive',
    next: ['Sta12'],
    run: (port) => {
      port.indicate({ kind: 'release-rp' });
      return 'Sta12';
    },
  },
  'AA-1': {
    description:
      'Send A-ABORT PDU (service-user source) and start (or restart if already started) ARTIM timer',
    next: ['Sta13'],
    run: (port, input) => {
      const local = input.event === 'Evt15';
      const diag = local
        ? {
            source: input.abort?.source ?? 0,
            reason: input.abort?.reason ?? 0,
            message: input.cause ?? abortMessage(input.abort?.source ?? 0, input.abort?.reason ?? 0),
          }
        : providerAbort(input);
      const abort: AbortPdu = { type: 'A-ABORT', source: diag.source, reason: diag.reason };
      port.sendPdu(abort);
      port.indicate({
        kind: 'abort',
        ...abort,
        byPeer: false,
        message: diag.message,
        timeout: input.timeout,
      });
      port.stopArtim();
      port.startArtim();
      port.closeTransport();
      return 'Sta13';
    },
  },
  'AA-2': {
    description: 'Stop ARTIM timer if running. Close transport connection',
    next: ['Sta1'],
    run: (port, input) => {
      port.stopArtim();
      if (input.event === 'Evt16') {
        const pdu = pduOf(input, 'A-ABORT');
        port.indicate({
          kind: 'abort',
          source: pdu.source,
          reason: pdu.reason,
          byPeer: true,
          message: 'peer aborted',
        });
      } else {
        // no A-ABORT is exchanged here: the transport is just closed
        port.indicate({
          kind: 'transport-closed',
          byPeer: false,
          message: input.cause ?? 'ARTIM timer expired',
          timeout: input.event === 'Evt18',
        });
      }
      port.closeTransport();
      port.indicate({ kind: 'idle' });
      return 'Sta1';
    },
  },
  'AA-3': {
    description:
      'If (service-user initiated abort): issue A-ABORT indication and close transport connection; otherwise (service-provider initiated abort): issue A-P-ABORT indication and close transport connection',
    next: ['Sta1'],
    run: (port, input) => {
      const pdu = pduOf(input, 'A-ABORT');
      port.indicate({
        kind: 'abort',
        source: pdu.source,
        reason: pdu.reason,
        byPeer: true,
        message: 'peer aborted',
      });
      port.closeTransport();
      port.indicate({ kind: 'idle' });
      return 'Sta1';
    },
  },
  'AA-4': {
    description: 'Issue A-P-ABORT indication primitive',
    next: ['Sta1'],
    run: (port, input) => {
      port.indicate({
        kind: 'transport-closed',
        byPeer: true,
        message: input.cause ?? 'transport connection closed by peer without A-RELEASE or A-ABORT',
      });
      port.closeTransport();
      port.indicate({ kind: 'idle' });
      return 'Sta1';
    },
  },
  'AA-5': {
    description: 'Stop ARTIM timer',
    next: ['Sta1'],
    run: (port, input) => {
      port.stopArtim();
      port.indicate({
        kind: 'transport-closed',
        byPeer: true,
        message: input.cause ?? 'transport connection closed before A-ASSOCIATE-RQ',
      });
      port.indicate({ kind: 'idle' });
      return 'Sta1';
    },
  },
  'AA-6': {
    description: 'Ignore PDU',
    next: ['Sta13'],
    run: () => 'Sta13',
  },
  'AA-7': {
    description: 'Send A-ABORT PDU',
    next: ['Sta13'],
    run: (port, input) => {
      const diag = providerAbort(input);
      port.sendPdu({ type: 'A-ABORT', source: diag.source, reason: diag.reason });
      return 'Sta13';
    },
  },
  'AA-8': {
    description:
      'Send A-ABORT PDU (service-provider source), issue an A-P-ABORT indication, and start ARTIM timer',
    next: ['Sta13'],
    run: (port, input) => {
      const diag = providerAbort(input);
      port.sendPdu({ type: 'A-ABORT', source: 2, reason: diag.reason });
      port.indicate({ kind: 'abort', source: 2, reason: diag.reason, byPeer: false, message: diag.message });
      port.startArtim();
      port.closeTransport();
      return 'Sta13';
    },
  },
};

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

/** The action for an (event, state) pair: Table 9-10, blank cells answered with `XX-L` / `XX-R`. */
export function transition(event: FsmEvent, state: State): Cell {
  const action = TABLE_9_10[`${event}:${state}`];
  if (action) return action;
  return LOCAL_EVENTS.has(event) ? 'XX-L' : 'XX-R';
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
