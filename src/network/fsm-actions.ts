/**
 * The actions of the PS3.8 state machine (Tables 9-6 to 9-9): each a small named function with the
 * standard's description and the states it may lead to. See fsm.ts for the deviations.
 */
import type { Action, ActionName, FsmInput } from './fsm-types.js';
import type { AbortPdu, Pdu } from './pdu/types.js';
import { EVENTS } from './fsm-types.js';

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
