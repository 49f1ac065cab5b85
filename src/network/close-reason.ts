/**
 * How the end of an association is told to its user: the {@link ChannelCloseReason} of an abort
 * or of a transport that closed, and the error pending operations fail with.
 */
import { type ChannelCloseReason, TRANSPORT_CLOSED_SOURCE } from './channel.js';
import { AssociationAbortedError, NetworkError } from './errors.js';
import type { Indication } from './fsm.js';
import { describeAbortReason, describeAbortSource } from './pdu/reasons.js';

type AbortIndication = Extract<Indication, { kind: 'abort' }>;
type TransportClosedIndication = Extract<Indication, { kind: 'transport-closed' }>;

/** An A-ABORT sent or received; `level` is the log level it deserves (a peer's user abort is routine). */
export function abortCloseReason(ind: AbortIndication): {
  reason: ChannelCloseReason & { kind: 'aborted' };
  level: 'info' | 'warn';
} {
  const detail = `(${describeAbortSource(ind.source)}, ${describeAbortReason(ind.source, ind.reason)})`;
  const message = ind.byPeer
    ? `association aborted by peer ${detail}`
    : `association aborted by us: ${ind.message} ${detail}`;
  const reason: ChannelCloseReason & { kind: 'aborted' } = {
    kind: 'aborted',
    source: ind.source,
    reason: ind.reason,
    byPeer: ind.byPeer,
    message,
  };
  if (ind.timeout) reason.timeout = true;
  return { reason, level: ind.byPeer && ind.source === 0 ? 'info' : 'warn' };
}

/** The transport closed without an A-ABORT: a transport error when one was seen, else source -1. */
export function transportClosedReason(
  ind: TransportClosedIndication,
  transportError: Error | undefined,
): ChannelCloseReason {
  if (transportError) return { kind: 'transport-error', error: transportError };
  const reason: ChannelCloseReason = {
    kind: 'aborted',
    source: TRANSPORT_CLOSED_SOURCE,
    reason: 0,
    byPeer: ind.byPeer,
    message: ind.message,
  };
  if (ind.timeout) reason.timeout = true;
  return reason;
}

/** The error a send or release fails with when the association is not in a state for it. */
export function notOpen(state: string): NetworkError {
  return new NetworkError(
    'ERR_ASSOCIATION_NOT_OPEN',
    `association is not open for data transfer (state ${state})`,
  );
}

/** The error a pending operation fails with when the association ends this way. */
export function closeError(reason: ChannelCloseReason): Error | undefined {
  switch (reason.kind) {
    case 'released':
      return undefined;
    case 'aborted':
      if (reason.source === TRANSPORT_CLOSED_SOURCE) {
        return new NetworkError(
          reason.timeout ? 'ERR_ASSOCIATION_TIMEOUT' : 'ERR_CONNECTION_CLOSED',
          reason.message,
        );
      }
      return new AssociationAbortedError(reason.source, reason.reason, reason.byPeer, reason.message);
    case 'transport-error':
      return new NetworkError('ERR_CONNECTION_RESET', `transport error: ${reason.error.message}`, {
        cause: reason.error,
      });
  }
}
