/** How an association is set up: its options, hooks and defaults, for requestor.ts and acceptor.ts. */
import type { Logger } from '../log.js';
import type { ByteBudget } from './byte-budget.js';
import type { Indication } from './fsm.js';
import type { AssociateRjPdu, AssociateRqPdu } from './pdu/types.js';

/** PDU size used towards a peer that announces "unlimited" (0): 1 MiB. */
export const UNLIMITED_PEER_PDU_CAP = 1024 * 1024;

/** Default ARTIM timeout (PS3.8 9.1.5): 30 s, as DCMTK's ACSE timeout. */
export const DEFAULT_ARTIM_TIMEOUT_MS = 30_000;

/** Options common to both roles. */
export interface AssociationOptions {
  isRequestor: boolean;
  logger: Logger;
  /** Largest P-DATA-TF we accept (length field); 0 = unlimited (still capped by `hardMaxPduLength`). */
  ownMaxPduLength: number;
  /** Largest PDU of any type we buffer, whatever was negotiated (default 16 MiB). */
  hardMaxPduLength?: number;
  /** ARTIM timer and the wait for A-ASSOCIATE-AC / A-RELEASE-RP (ms). */
  artimTimeoutMs?: number;
  /** Abort an established association after this long without traffic (ms; 0/undefined = never). */
  idleTimeoutMs?: number;
  /**
   * Acceptor: the budget the A-ASSOCIATE-RQ being received is taken from, shared with the other
   * pending connections of the server; its bytes are given back once the association is
   * established or the connection ends. A request that does not fit is refused (A-ABORT).
   */
  requestBudget?: ByteBudget;
  /** Negotiation-time indications (A-ASSOCIATE-RQ/AC/RJ): requestor.ts / acceptor.ts negotiate on them. */
  onNegotiation?: NegotiationListener;
  /** Called (once) when the association ends before it was established. */
  onNegotiationFailed?: (err: Error) => void;
  /** Acceptor: the provider-level acceptance check of an A-ASSOCIATE-RQ (AE-6); an RJ when unacceptable. */
  providerCheck?: (rq: AssociateRqPdu) => AssociateRjPdu | undefined;
}

/** Receives negotiation-time indications (A-ASSOCIATE-RQ/AC/RJ). */
export type NegotiationListener = (indication: Indication) => void;
