/**
 * The PDU reader: transport bytes in, checked PDUs out. It frames and decodes, takes a received
 * A-ASSOCIATE-RQ from the shared request budget, and once established refuses a PDV on a
 * presentation context that was not accepted (the one place this is checked on the way in).
 */
import { BudgetHold, type ByteBudget } from '../byte-budget.js';
import { PduParseError } from '../errors.js';
import { decodePDataParts, decodePduBody } from './decode.js';
import { DEFAULT_HARD_MAX_PDU_LENGTH, PduFramer } from './framer.js';
import { type Pdu, PduType } from './types.js';

export class PduReader {
  private readonly framer: PduFramer;
  /** One byte per presentation context ID: 1 when accepted (filled by {@link established}). */
  private readonly acceptedContexts = new Uint8Array(256);
  private isEstablished = false;

  /** What this connection holds of the request budget. */
  private readonly hold: BudgetHold | undefined;

  constructor(
    /** Largest PDU of any type buffered, whatever was negotiated (default 16 MiB). */
    hardMaxPduLength = DEFAULT_HARD_MAX_PDU_LENGTH,
    /** The budget a received A-ASSOCIATE-RQ is taken from (shared with the server's other pending connections). */
    private readonly budget?: ByteBudget,
  ) {
    this.framer = new PduFramer({ maxPDataLength: 0, hardMaxPduLength });
    if (budget) {
      this.hold = new BudgetHold(budget);
      this.framer.admitHeader = (type, length) => this.takeRequestBudget(type, length);
    }
  }

  /** Give back what this connection holds of the request budget (established, or the connection ended). */
  releaseBudget(): void {
    this.hold?.release();
  }

  /** Bytes of a PDU that has begun arriving and is not complete. */
  get pendingBytes(): number {
    return this.framer.pendingBytes;
  }

  push(chunk: Buffer): void {
    this.framer.push(chunk);
  }

  /**
   * The next complete PDU, or undefined. Throws {@link PduParseError} for a PDU that is invalid,
   * or (when `checkContexts`) a P-DATA-TF with a PDV on a context that was not accepted
   * (an invalid PDU parameter value: A-ABORT reason 6).
   */
  next(checkContexts: boolean): Pdu | undefined {
    const frame = this.framer.next();
    if (!frame) return undefined;
    const pdu = frame.parts ? decodePDataParts(frame.parts) : decodePduBody(frame.type, frame.body);
    if (checkContexts && this.isEstablished && pdu.type === 'P-DATA-TF') {
      for (const pdv of pdu.pdvs) {
        if (this.acceptedContexts[pdv.contextId] !== 1) {
          throw new PduParseError(
            'ERR_PDU_INVALID_PARAMETER',
            `PDV on presentation context ${pdv.contextId}, which was not accepted`,
          );
        }
      }
    }
    return pdu;
  }

  /** Negotiation settled: P-DATA-TF up to our own maximum, PDVs on these contexts only. */
  established(ownMaxPduLength: number, acceptedContextIds: Iterable<number>): void {
    for (const id of acceptedContextIds) this.acceptedContexts[id & 0xff] = 1;
    this.isEstablished = true;
    this.releaseBudget();
    this.framer.limits = { ...this.framer.limits, maxPDataLength: ownMaxPduLength };
  }

  private takeRequestBudget(type: number, length: number): void {
    const { budget, hold } = this;
    if (!budget || !hold || type !== PduType.AssociateRq || this.isEstablished) return;
    if (!hold.tryTake(length)) {
      throw new PduParseError(
        'ERR_PDU_TOO_LONG',
        `A-ASSOCIATE-RQ of ${length} bytes refused: pending connections already hold ${budget.used} of the ${budget.max} bytes allowed for association requests (maxPendingRequestBytes)`,
      );
    }
  }
}
