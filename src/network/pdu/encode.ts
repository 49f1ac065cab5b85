/**
 * Messages → bytes (PS3.8 9.3, PS3.7 D.3.3): one writer, one function per PDU
 * and item. No I/O.
 */
import { UsageError } from '../../errors.js';
import type { Pdv } from '../channel.js';
import {
  type AssociateAcPdu,
  type AssociateRqPdu,
  ItemType,
  type Pdu,
  PduType,
  type UserInformation,
} from './types.js';

/** A growable big-endian byte writer with back-patched length fields. */
class Writer {
  private buf = Buffer.allocUnsafe(256);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf.writeUInt8(v, this.pos);
    this.pos += 1;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  zeros(n: number): void {
    this.ensure(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  /** A 16-byte AE title field, space padded (PS3.8 9.3.2). */
  aeTitle(value: string, field: string): void {
    const b = Buffer.from(value, 'ascii');
    if (b.length > 16)
      throw new UsageError('ERR_AE_TITLE_TOO_LONG', `${field} "${value}" is longer than 16 characters`);
    this.bytes(b);
    this.ensure(16 - b.length);
    this.buf.fill(0x20, this.pos, this.pos + 16 - b.length);
    this.pos += 16 - b.length;
  }

  /** Write `body` preceded by its length in a `width`-byte field. */
  withLength(width: 2 | 4, what: string, body: () => void): void {
    const at = this.pos;
    this.ensure(width);
    this.pos += width;
    body();
    const len = this.pos - at - width;
    if (width === 2) {
      if (len > 0xffff)
        throw new UsageError('ERR_PDU_FIELD_TOO_LONG', `${what} of ${len} bytes exceeds 65535`);
      this.buf.writeUInt16BE(len, at);
    } else {
      this.buf.writeUInt32BE(len, at);
    }
  }

  /** Item header (type, reserved byte, 2-byte length) and body. */
  item(type: number, what: string, body: () => void, reserved = 0): void {
    this.u8(type);
    this.u8(reserved);
    this.withLength(2, what, body);
  }

  /** A field preceded by a 2-byte length (UIDs inside sub-items, user identity fields). */
  field16(what: string, value: Uint8Array): void {
    this.withLength(2, what, () => this.bytes(value));
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

function ascii(s: string): Buffer {
  return Buffer.from(s, 'ascii');
}

function writeUserInformation(w: Writer, ui: UserInformation, ac: boolean): void {
  w.item(ItemType.UserInformation, 'user information item', () => {
    if (ui.maxLength !== undefined) {
      w.item(ItemType.MaximumLength, 'maximum length sub-item', () => w.u32(ui.maxLength ?? 0));
    }
    if (ui.implementationClassUid !== undefined) {
      const uid = ascii(ui.implementationClassUid);
      w.item(ItemType.ImplementationClassUid, 'implementation class UID', () => w.bytes(uid));
    }
    if (ui.asyncOpsWindow) {
      const { invoked, performed } = ui.asyncOpsWindow;
      w.item(ItemType.AsyncOperationsWindow, 'asynchronous operations window', () => {
        w.u16(invoked);
        w.u16(performed);
      });
    }
    for (const r of ui.roleSelections) {
      w.item(ItemType.RoleSelection, 'role selection sub-item', () => {
        w.field16('role selection SOP class UID', ascii(r.sopClassUid));
        w.u8(r.scuRole ? 1 : 0);
        w.u8(r.scpRole ? 1 : 0);
      });
    }
    if (ui.implementationVersionName !== undefined) {
      const name = ascii(ui.implementationVersionName);
      w.item(ItemType.ImplementationVersionName, 'implementation version name', () => w.bytes(name));
    }
    for (const e of ui.extendedNegotiations) {
      w.item(ItemType.SopClassExtendedNegotiation, 'SOP class extended negotiation', () => {
        w.field16('extended negotiation SOP class UID', ascii(e.sopClassUid));
        w.bytes(e.applicationInfo);
      });
    }
    if (!ac) {
      for (const c of ui.commonExtendedNegotiations) {
        w.item(
          ItemType.SopClassCommonExtendedNegotiation,
          'SOP class common extended negotiation',
          () => {
            w.field16('common extended negotiation SOP class UID', ascii(c.sopClassUid));
            w.field16('service class UID', ascii(c.serviceClassUid));
            w.withLength(2, 'related general SOP class identification', () => {
              for (const uid of c.relatedGeneralSopClassUids)
                w.field16('related general SOP class UID', ascii(uid));
            });
          },
          c.version,
        );
      }
      if (ui.userIdentity) {
        const id = ui.userIdentity;
        w.item(ItemType.UserIdentityRq, 'user identity sub-item', () => {
          w.u8(id.type);
          w.u8(id.positiveResponseRequested ? 1 : 0);
          w.field16('user identity primary field', id.primaryField);
          w.field16('user identity secondary field', id.secondaryField);
        });
      }
    } else if (ui.userIdentityResponse) {
      const response = ui.userIdentityResponse;
      w.item(ItemType.UserIdentityAc, 'user identity response', () => {
        w.field16('user identity server response', response);
      });
    }
    for (const u of ui.unknownItems)
      w.item(u.type, `user information sub-item ${u.type}`, () => w.bytes(u.data));
  });
}

function writeAssociate(w: Writer, pdu: AssociateRqPdu | AssociateAcPdu): void {
  const ac = pdu.type === 'A-ASSOCIATE-AC';
  w.u8(ac ? PduType.AssociateAc : PduType.AssociateRq);
  w.u8(0);
  w.withLength(4, 'A-ASSOCIATE PDU', () => {
    w.u16(pdu.protocolVersion);
    w.zeros(2);
    w.aeTitle(pdu.calledAet, 'called AE title');
    w.aeTitle(pdu.callingAet, 'calling AE title');
    w.zeros(32);
    const appContext = ascii(pdu.applicationContext);
    w.item(ItemType.ApplicationContext, 'application context name', () => w.bytes(appContext));
    if (pdu.type === 'A-ASSOCIATE-RQ') {
      for (const pc of pdu.presentationContexts) {
        w.item(ItemType.PresentationContextRq, 'presentation context item', () => {
          w.u8(pc.id);
          w.zeros(3);
          const abstract = ascii(pc.abstractSyntax);
          w.item(ItemType.AbstractSyntax, 'abstract syntax', () => w.bytes(abstract));
          for (const ts of pc.transferSyntaxes) {
            const b = ascii(ts);
            w.item(ItemType.TransferSyntax, 'transfer syntax', () => w.bytes(b));
          }
        });
      }
    } else {
      for (const pc of pdu.presentationContexts) {
        w.item(ItemType.PresentationContextAc, 'presentation context item', () => {
          w.u8(pc.id);
          w.u8(0);
          w.u8(pc.result);
          w.u8(0);
          const ts = ascii(pc.transferSyntax ?? '');
          w.item(ItemType.TransferSyntax, 'transfer syntax', () => w.bytes(ts));
        });
      }
    }
    writeUserInformation(w, pdu.userInfo, ac);
  });
}

function fixedPdu(type: number, b3: number, b4: number): Buffer {
  return Buffer.from([type, 0, 0, 0, 0, 4, 0, 0, b3, b4]);
}

/** Header bytes of one PDV item (length, context ID, message control header). */
function pdvHeader(pdv: Pdv): Buffer {
  const h = Buffer.allocUnsafe(6);
  h.writeUInt32BE(pdv.data.length + 2, 0);
  h.writeUInt8(pdv.contextId, 4);
  h.writeUInt8((pdv.command ? 1 : 0) | (pdv.last ? 2 : 0), 5);
  return h;
}

/** The PDU length field of a P-DATA-TF carrying these PDVs. */
export function pDataTfLength(pdvs: readonly Pdv[]): number {
  let len = 0;
  for (const p of pdvs) len += 6 + p.data.length;
  return len;
}

/**
 * A P-DATA-TF as a list of buffers whose concatenation is the PDU. PDV data
 * are passed through, not copied: the transport writes them as they are.
 */
export function encodePDataTfParts(pdvs: readonly Pdv[]): Buffer[] {
  const header = Buffer.allocUnsafe(6);
  header.writeUInt8(PduType.PDataTf, 0);
  header.writeUInt8(0, 1);
  header.writeUInt32BE(pDataTfLength(pdvs), 2);
  const parts: Buffer[] = [header];
  for (const p of pdvs) parts.push(pdvHeader(p), p.data);
  return parts;
}

/** Encode any PDU to one buffer. */
export function encodePdu(pdu: Pdu): Buffer {
  switch (pdu.type) {
    case 'A-ASSOCIATE-RQ':
    case 'A-ASSOCIATE-AC': {
      const w = new Writer();
      writeAssociate(w, pdu);
      return w.result();
    }
    case 'A-ASSOCIATE-RJ': {
      const b = fixedPdu(PduType.AssociateRj, pdu.source, pdu.reason);
      b.writeUInt8(pdu.result, 7);
      return b;
    }
    case 'P-DATA-TF':
      return Buffer.concat(encodePDataTfParts(pdu.pdvs));
    case 'A-RELEASE-RQ':
      return fixedPdu(PduType.ReleaseRq, 0, 0);
    case 'A-RELEASE-RP':
      return fixedPdu(PduType.ReleaseRp, 0, 0);
    case 'A-ABORT':
      return fixedPdu(PduType.Abort, pdu.source, pdu.reason);
  }
}
