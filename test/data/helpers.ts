import { type DataElement, Dataset, isBulkRef, isEncapsulated } from '../../src/data/index.js';

/** A plain, comparable picture of a data set: tags, VRs, value bytes as hex, items, length modes. */
export function plain(ds: Dataset): unknown[] {
  return [...ds].map((el: DataElement) => {
    const v = el.value;
    if (Array.isArray(v)) {
      return [
        el.tag,
        el.vr,
        el.undefinedLength !== false,
        v.map((item) => [item.undefinedLength, plain(item)]),
        ...(el.encodedVR ? [el.encodedVR] : []),
      ];
    }
    if (isEncapsulated(v)) {
      return [
        el.tag,
        el.vr,
        v.offsetTable.toString('hex'),
        v.fragments.map((f) => (Buffer.isBuffer(f) ? f.toString('hex') : f)),
      ];
    }
    if (isBulkRef(v)) return [el.tag, el.vr, { ...v }];
    return [el.tag, el.vr, v.toString('hex'), ...(el.encodedVR ? [el.encodedVR] : [])];
  });
}

/** Split a buffer into pieces at the given fractional cut points (for chunked-stream tests). */
export function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * buf.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from && p < buf.length) {
      out.push(buf.subarray(from, p));
      from = p;
    }
  }
  out.push(buf.subarray(from));
  return out;
}

export { Dataset };
