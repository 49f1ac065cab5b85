import { transferSyntaxInfo } from './transfer-syntax.js';
import { hasLongHeader, isVR } from './vr.js';

const SOP_INSTANCE_UID = 0x00080018;

/**
 * The SOP Instance UID (0008,0018) of a data set from its first bytes, without parsing it: a
 * walk over the element headers of group 0008 up to that tag. Undefined when the bytes do not
 * reach it, the data set is deflated or big endian, or an undefined-length element comes first
 * (the caller then keeps the file meta's UID).
 */
export function leadingSopInstanceUid(
  bytes: Buffer,
  offset: number,
  transferSyntaxUid: string,
): string | undefined {
  const ts = transferSyntaxInfo(transferSyntaxUid);
  if (!ts || ts.deflated || !ts.littleEndian) return undefined;
  let pos = offset;
  while (pos + 8 <= bytes.length) {
    const tag = ((bytes.readUInt16LE(pos) << 16) | bytes.readUInt16LE(pos + 2)) >>> 0;
    if (tag > SOP_INSTANCE_UID) return undefined;
    let header = 8;
    let length: number;
    if (ts.explicitVR) {
      const vr = bytes.toString('latin1', pos + 4, pos + 6);
      if (!isVR(vr)) return undefined;
      if (hasLongHeader(vr)) {
        if (pos + 12 > bytes.length) return undefined;
        length = bytes.readUInt32LE(pos + 8);
        header = 12;
      } else length = bytes.readUInt16LE(pos + 6);
    } else length = bytes.readUInt32LE(pos + 4);
    if (length === 0xffffffff) return undefined;
    if (tag === SOP_INSTANCE_UID) {
      if (pos + header + length > bytes.length) return undefined;
      const uid = bytes.toString('latin1', pos + header, pos + header + length).replace(/[\0 ]+$/, '');
      return uid === '' ? undefined : uid;
    }
    pos += header + length;
  }
  return undefined;
}
