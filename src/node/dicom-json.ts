import { lookupKeyword, tagHex } from '../data/index.js';

/**
 * The small slice of the DICOM JSON model (PS3.18 F.2) the node's worklist and MPPS tables
 * store. Deliberately structural so data-layer objects fit without conversion.
 */
export interface DicomJsonAttribute {
  vr: string;
  Value?: unknown[];
  InlineBinary?: string;
  BulkDataURI?: string;
}

/** A data set in the DICOM JSON model: upper-case 8-hex-digit tag → attribute. */
export type DicomJsonObject = Record<string, DicomJsonAttribute>;

/** Tag (8 hex digits) and VR of a keyword from the standard dictionary; a tag given as 8 hex digits passes through. */
export function tagAndVrOf(keyword: string): { tag: string; vr?: string } | undefined {
  if (/^[0-9A-Fa-f]{8}$/.test(keyword)) return { tag: keyword.toUpperCase() };
  const entry = lookupKeyword(keyword);
  return entry ? { tag: tagHex(entry.tag), vr: entry.vr } : undefined;
}

/** The values of an attribute as DICOM strings (PN groups joined with `=`; numbers as text). */
export function stringValues(attribute: DicomJsonAttribute | undefined): string[] {
  if (attribute?.Value === undefined) return [];
  const out: string[] = [];
  for (const v of attribute.Value) {
    if (v === null || v === undefined) out.push('');
    else if (typeof v === 'string') out.push(v);
    else if (typeof v === 'number' || typeof v === 'bigint') out.push(String(v));
    else if (typeof v === 'object' && attribute.vr === 'PN') {
      const pn = v as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
      out.push([pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].join('=').replace(/=+$/, ''));
    }
  }
  return out;
}

/** True when `value` has the shape of a DICOM JSON object (tags → objects with a string `vr`). */
export function isDicomJsonObject(value: unknown): value is DicomJsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  for (const [tag, attribute] of Object.entries(value)) {
    if (!/^[0-9A-Fa-f]{8}$/.test(tag)) return false;
    if (
      attribute === null ||
      typeof attribute !== 'object' ||
      typeof (attribute as { vr?: unknown }).vr !== 'string'
    )
      return false;
  }
  return true;
}

/**
 * The tag path (`00400100[0].00420011`) of the first attribute in `obj` with a BulkDataURI,
 * items of sequences included, or undefined. The node never resolves a URI from data it
 * reads (it would read whatever file the URI names), so such items are refused.
 */
export function bulkDataUriPath(obj: DicomJsonObject, prefix = ''): string | undefined {
  for (const [tag, attribute] of Object.entries(obj)) {
    if (attribute.BulkDataURI !== undefined) return `${prefix}${tag}`;
    if (!Array.isArray(attribute.Value)) continue;
    for (const [i, item] of attribute.Value.entries()) {
      if (!isDicomJsonObject(item)) continue;
      const inner = bulkDataUriPath(item, `${prefix}${tag}[${i}].`);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}
