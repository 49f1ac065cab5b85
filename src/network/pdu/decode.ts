/**
 * Bytes → messages (PS3.8 9.3, PS3.7 D.3.3): one bounded reader, one switch
 * on the PDU type. Every failure is a {@link PduParseError}; nothing is
 * allocated from a length before that length is checked against the bytes at
 * hand. P-DATA-TF PDV data are slices of the input, not copies.
 */
import type { Pdv } from '../channel.js';
import { PduParseError, type PduParseErrorCode } from '../errors.js';
import {
  type AssociateAcPdu,
  type AssociateRqPdu,
  emptyUserInformation,
  ItemType,
  type Pdu,
  PduType,
  type PresentationContextAcItem,
  type PresentationContextRqItem,
  type UserInformation,
} from './types.js';

/** Bytes of the common PDU header: type, reserved, 4-byte length. */
export const PDU_HEADER_LENGTH = 6;

/** A bounded big-endian reader over one PDU, item or sub-item. */
class Reader {
  constructor(
    readonly buf: Buffer,
    readonly what: string,
    private pos = 0,
    private readonly end = buf.length,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  get offset(): number {
    return this.pos;
  }

  private need(n: number, field: string): void {
    if (n > this.remaining) {
      throw new PduParseError(
        'ERR_PDU_MALFORMED',
        `${this.what}: ${field} needs ${n} bytes at offset ${this.pos}, only ${this.remaining} left`,
      );
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.buf.readUInt8(this.pos++);
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  bytes(n: number, field: string): Buffer {
    this.need(n, field);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  skip(n: number, field: string): void {
    this.need(n, field);
    this.pos += n;
  }

  /** A sub-reader over the next `n` bytes (the body of an item). */
  sub(n: number, what: string): Reader {
    this.need(n, `${what} of length ${n}`);
    const r = new Reader(this.buf, what, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  /** Bytes preceded by a 2-byte length. */
  field16(field: string): Buffer {
    const n = this.u16(`${field} length`);
    return this.bytes(n, field);
  }

  rest(): Buffer {
    return this.bytes(this.remaining, 'rest');
  }
}

function fail(code: PduParseErrorCode, message: string): never {
  throw new PduParseError(code, message);
}

/** UIDs and names in items: trailing NUL or space padding is not significant (PS3.8 Annex F). */
function uidString(b: Buffer): string {
  let end = b.length;
  while (end > 0 && (b[end - 1] === 0 || b[end - 1] === 0x20)) end--;
  return b.toString('latin1', 0, end);
}

/** AE titles: leading and trailing spaces are not significant (PS3.5 AE VR). */
function aeTitle(b: Buffer): string {
  return uidString(b).trim();
}

function decodePresentationContextRq(r: Reader): PresentationContextRqItem {
  const id = r.u8('presentation context ID');
  r.skip(3, 'reserved');
  let abstractSyntax: string | undefined;
  const transferSyntaxes: string[] = [];
  while (r.remaining > 0) {
    const type = r.u8('sub-item type');
    r.skip(1, 'reserved');
    const body = r.sub(r.u16('sub-item length'), `presentation context ${id} sub-item ${hex(type)}`);
    if (type === ItemType.AbstractSyntax) {
      if (abstractSyntax !== undefined) {
        fail('ERR_PDU_UNEXPECTED_PARAMETER', `presentation context ${id} has more than one abstract syntax`);
      }
      abstractSyntax = uidString(body.rest());
    } else if (type === ItemType.TransferSyntax) {
      transferSyntaxes.push(uidString(body.rest()));
    } else {
      fail('ERR_PDU_UNRECOGNIZED_PARAMETER', `presentation context ${id} has unknown sub-item ${hex(type)}`);
    }
  }
  if (abstractSyntax === undefined) {
    fail('ERR_PDU_INVALID_PARAMETER', `presentation context ${id} has no abstract syntax sub-item`);
  }
  if (transferSyntaxes.length === 0) {
    fail('ERR_PDU_INVALID_PARAMETER', `presentation context ${id} has no transfer syntax sub-item`);
  }
  return { id, abstractSyntax, transferSyntaxes };
}

function decodePresentationContextAc(r: Reader): PresentationContextAcItem {
  const id = r.u8('presentation context ID');
  r.skip(1, 'reserved');
  const result = r.u8('result/reason');
  r.skip(1, 'reserved');
  if (result > 4)
    fail('ERR_PDU_INVALID_PARAMETER', `presentation context ${id} has result ${result} (0..4 defined)`);
  let transferSyntax: string | undefined;
  while (r.remaining > 0) {
    const type = r.u8('sub-item type');
    r.skip(1, 'reserved');
    const body = r.sub(r.u16('sub-item length'), `presentation context ${id} sub-item ${hex(type)}`);
    if (type !== ItemType.TransferSyntax) {
      fail('ERR_PDU_UNEXPECTED_PARAMETER', `accepted presentation context ${id} has sub-item ${hex(type)}`);
    }
    const uid = uidString(body.rest());
    if (uid !== '') transferSyntax = uid;
  }
  const item: PresentationContextAcItem = { id, result };
  if (transferSyntax !== undefined) item.transferSyntax = transferSyntax;
  return item;
}

function decodeUserInformation(r: Reader, ac: boolean): UserInformation {
  const ui = emptyUserInformation();
  while (r.remaining > 0) {
    const type = r.u8('user information sub-item type');
    const reserved = r.u8('reserved');
    const body = r.sub(r.u16('sub-item length'), `user information sub-item ${hex(type)}`);
    switch (type) {
      case ItemType.MaximumLength:
        if (body.remaining !== 4)
          fail('ERR_PDU_INVALID_PARAMETER', `maximum length sub-item has length ${body.remaining}, not 4`);
        ui.maxLength = body.u32('maximum length');
        break;
      case ItemType.ImplementationClassUid:
        ui.implementationClassUid = uidString(body.rest());
        break;
      case ItemType.AsyncOperationsWindow:
        if (body.remaining !== 4)
          fail(
            'ERR_PDU_INVALID_PARAMETER',
            `asynchronous operations window sub-item has length ${body.remaining}, not 4`,
          );
        ui.asyncOpsWindow = {
          invoked: body.u16('operations invoked'),
          performed: body.u16('operations performed'),
        };
        break;
      case ItemType.RoleSelection: {
        const sopClassUid = uidString(body.field16('SOP class UID'));
        const scuRole = body.u8('SCU role') !== 0;
        const scpRole = body.u8('SCP role') !== 0;
        ui.roleSelections.push({ sopClassUid, scuRole, scpRole });
        break;
      }
      case ItemType.ImplementationVersionName:
        ui.implementationVersionName = uidString(body.rest());
        break;
      case ItemType.SopClassExtendedNegotiation: {
        const sopClassUid = uidString(body.field16('SOP class UID'));
        ui.extendedNegotiations.push({ sopClassUid, applicationInfo: body.rest() });
        break;
      }
      case ItemType.SopClassCommonExtendedNegotiation: {
        if (ac) {
          ui.unknownItems.push({ type, data: body.rest() });
          break;
        }
        const sopClassUid = uidString(body.field16('SOP class UID'));
        const serviceClassUid = uidString(body.field16('service class UID'));
        const related = body.sub(
          body.u16('related general SOP class identification length'),
          'related general SOP classes',
        );
        const relatedGeneralSopClassUids: string[] = [];
        while (related.remaining > 0)
          relatedGeneralSopClassUids.push(uidString(related.field16('related SOP class UID')));
        ui.commonExtendedNegotiations.push({
          version: reserved,
          sopClassUid,
          serviceClassUid,
          relatedGeneralSopClassUids,
        });
        break;
      }
      case ItemType.UserIdentityRq: {
        if (ac) {
          ui.unknownItems.push({ type, data: body.rest() });
          break;
        }
        const idType = body.u8('user identity type');
        const positiveResponseRequested = body.u8('positive response requested') === 1;
        const primaryField = body.field16('primary field');
        const secondaryField = body.field16('secondary field');
        ui.userIdentity = { type: idType, positiveResponseRequested, primaryField, secondaryField };
        break;
      }
      case ItemType.UserIdentityAc:
        if (!ac) {
          ui.unknownItems.push({ type, data: body.rest() });
          break;
        }
        ui.userIdentityResponse = body.field16('server response');
        break;
      default:
        // PS3.7 D.3.3: unrecognised user information sub-items are ignored; kept here for the caller to see.
        ui.unknownItems.push({ type, data: body.rest() });
    }
  }
  return ui;
}

function decodeAssociate(r: Reader, ac: boolean): AssociateRqPdu | AssociateAcPdu {
  const name = ac ? 'A-ASSOCIATE-AC' : 'A-ASSOCIATE-RQ';
  const protocolVersion = r.u16('protocol version');
  r.skip(2, 'reserved');
  const calledAet = aeTitle(r.bytes(16, 'called AE title'));
  const callingAet = aeTitle(r.bytes(16, 'calling AE title'));
  r.skip(32, 'reserved');
  let applicationContext: string | undefined;
  let userInfo: UserInformation | undefined;
  const rqContexts: PresentationContextRqItem[] = [];
  const acContexts: PresentationContextAcItem[] = [];
  while (r.remaining > 0) {
    const type = r.u8('item type');
    r.skip(1, 'reserved');
    const itemName = ITEM_NAMES[type];
    const body = r.sub(r.u16('item length'), `${name} item ${hex(type)}${itemName ? ` (${itemName})` : ''}`);
    switch (type) {
      case ItemType.ApplicationContext:
        if (applicationContext !== undefined)
          fail('ERR_PDU_UNEXPECTED_PARAMETER', `${name} has two application context items`);
        applicationContext = uidString(body.rest());
        break;
      case ItemType.PresentationContextRq:
        if (ac) fail('ERR_PDU_UNEXPECTED_PARAMETER', `${name} has a presentation context item of type 20H`);
        rqContexts.push(decodePresentationContextRq(body));
        break;
      case ItemType.PresentationContextAc:
        if (!ac) fail('ERR_PDU_UNEXPECTED_PARAMETER', `${name} has a presentation context item of type 21H`);
        acContexts.push(decodePresentationContextAc(body));
        break;
      case ItemType.UserInformation:
        if (userInfo !== undefined)
          fail('ERR_PDU_UNEXPECTED_PARAMETER', `${name} has two user information items`);
        userInfo = decodeUserInformation(body, ac);
        break;
      default:
        // Unrecognised items are skipped (PS3.8 9.3.2: reserved item types are ignored on receipt).
        break;
    }
  }
  if (applicationContext === undefined)
    fail('ERR_PDU_INVALID_PARAMETER', `${name} has no application context item`);
  const common = {
    protocolVersion,
    calledAet,
    callingAet,
    applicationContext,
    userInfo: userInfo ?? emptyUserInformation(),
  };
  return ac
    ? { type: 'A-ASSOCIATE-AC', ...common, presentationContexts: acContexts }
    : { type: 'A-ASSOCIATE-RQ', ...common, presentationContexts: rqContexts };
}

function decodePData(r: Reader): Pdu {
  const pdvs: Pdv[] = [];
  while (r.remaining > 0) {
    const len = r.u32('PDV item length');
    if (len < 2) fail('ERR_PDU_INVALID_PARAMETER', `PDV item length ${len} is less than 2`);
    if (len > r.remaining)
      fail(
        'ERR_PDU_MALFORMED',
        `PDV item length ${len} exceeds the ${r.remaining} bytes left in the P-DATA-TF`,
      );
    const contextId = r.u8('presentation context ID');
    const mch = r.u8('message control header');
    pdvs.push({
      contextId,
      command: (mch & 1) !== 0,
      last: (mch & 2) !== 0,
      data: r.bytes(len - 2, 'PDV data'),
    });
  }
  if (pdvs.length === 0) fail('ERR_PDU_INVALID_PARAMETER', 'P-DATA-TF carries no PDV item');
  return { type: 'P-DATA-TF', pdvs };
}

/**
 * A P-DATA-TF body that arrived in several transport chunks, decoded without joining them: a
 * PDV whose data cross a chunk boundary becomes several PDVs (same context and kind, `last` only
 * on the final piece), which DIMSE reassembles as it would separate fragments. Anything
 * malformed is decoded from the joined bytes instead, so the error is the one
 * {@link decodePduBody} gives.
 */
export function decodePDataParts(parts: readonly Buffer[]): Pdu {
  let total = 0;
  for (const p of parts) total += p.length;
  const pdvs: Pdv[] = [];
  let part = 0;
  let at = 0;
  let remaining = total;
  const byte = (): number => {
    let buf = parts[part] as Buffer;
    while (at >= buf.length) {
      part++;
      at = 0;
      buf = parts[part] as Buffer;
    }
    remaining--;
    return buf[at++] as number;
  };
  while (remaining > 0) {
    if (remaining < 6) return decodePduBody(PduType.PDataTf, Buffer.concat(parts, total));
    const len = ((byte() << 24) | (byte() << 16) | (byte() << 8) | byte()) >>> 0;
    if (len < 2 || len > remaining) return decodePduBody(PduType.PDataTf, Buffer.concat(parts, total));
    const contextId = byte();
    const mch = byte();
    const command = (mch & 1) !== 0;
    const last = (mch & 2) !== 0;
    let left = len - 2;
    remaining -= left;
    if (left === 0) pdvs.push({ contextId, command, last, data: Buffer.alloc(0) });
    while (left > 0) {
      let buf = parts[part] as Buffer;
      while (at >= buf.length) {
        part++;
        at = 0;
        buf = parts[part] as Buffer;
      }
      const n = Math.min(left, buf.length - at);
      left -= n;
      pdvs.push({ contextId, command, last: last && left === 0, data: buf.subarray(at, at + n) });
      at += n;
    }
  }
  if (pdvs.length === 0) return decodePduBody(PduType.PDataTf, Buffer.concat(parts, total));
  return { type: 'P-DATA-TF', pdvs };
}

function fixedBody(r: Reader, name: string): [number, number, number, number] {
  if (r.remaining !== 4) fail('ERR_PDU_INVALID_PARAMETER', `${name} PDU length is ${r.remaining}, not 4`);
  return [r.u8('byte 7'), r.u8('byte 8'), r.u8('byte 9'), r.u8('byte 10')];
}

const ITEM_NAMES: Record<number, string> = {
  [ItemType.ApplicationContext]: 'application context',
  [ItemType.PresentationContextRq]: 'presentation context',
  [ItemType.PresentationContextAc]: 'presentation context',
  [ItemType.UserInformation]: 'user information',
};

const PDU_NAMES: Record<number, string> = {
  [PduType.AssociateRq]: 'A-ASSOCIATE-RQ',
  [PduType.AssociateAc]: 'A-ASSOCIATE-AC',
  [PduType.AssociateRj]: 'A-ASSOCIATE-RJ',
  [PduType.PDataTf]: 'P-DATA-TF',
  [PduType.ReleaseRq]: 'A-RELEASE-RQ',
  [PduType.ReleaseRp]: 'A-RELEASE-RP',
  [PduType.Abort]: 'A-ABORT',
};

function hex(n: number): string {
  return `${n.toString(16).toUpperCase().padStart(2, '0')}H`;
}

/** True when `type` is one of the seven PDU types of PS3.8 9.3. */
export function isKnownPduType(type: number): boolean {
  return type >= PduType.AssociateRq && type <= PduType.Abort;
}

/** Decode a PDU body (the bytes after the 6-byte header) of the given type. */
export function decodePduBody(type: number, body: Buffer): Pdu {
  const r = new Reader(body, PDU_NAMES[type] ?? `PDU type ${hex(type)}`);
  switch (type) {
    case PduType.AssociateRq:
      return decodeAssociate(r, false);
    case PduType.AssociateAc:
      return decodeAssociate(r, true);
    case PduType.AssociateRj: {
      const [, result, source, reason] = fixedBody(r, 'A-ASSOCIATE-RJ');
      return { type: 'A-ASSOCIATE-RJ', result, source, reason };
    }
    case PduType.PDataTf:
      return decodePData(r);
    case PduType.ReleaseRq:
      fixedBody(r, 'A-RELEASE-RQ');
      return { type: 'A-RELEASE-RQ' };
    case PduType.ReleaseRp:
      fixedBody(r, 'A-RELEASE-RP');
      return { type: 'A-RELEASE-RP' };
    case PduType.Abort: {
      const [, , source, reason] = fixedBody(r, 'A-ABORT');
      return { type: 'A-ABORT', source, reason };
    }
    default:
      return fail('ERR_PDU_UNKNOWN_TYPE', `unknown PDU type ${hex(type)}`);
  }
}

/** Decode one complete PDU (header included); the length field must match the buffer. */
export function decodePdu(buf: Buffer): Pdu {
  if (buf.length < PDU_HEADER_LENGTH) {
    fail(
      'ERR_PDU_MALFORMED',
      `PDU of ${buf.length} bytes is shorter than its ${PDU_HEADER_LENGTH}-byte header`,
    );
  }
  const type = buf.readUInt8(0);
  const length = buf.readUInt32BE(2);
  if (length !== buf.length - PDU_HEADER_LENGTH) {
    fail(
      'ERR_PDU_MALFORMED',
      `PDU length field ${length} does not match the ${buf.length - PDU_HEADER_LENGTH} bytes that follow`,
    );
  }
  return decodePduBody(type, buf.subarray(PDU_HEADER_LENGTH));
}
