import { dictionaryRows } from './dictionary.generated.js';
import { isPrivateCreator, isPrivateTag, type Tag } from './tag.js';
import { isVR, type VR } from './vr.js';

/** One entry of the data dictionary. */
export interface DictionaryEntry {
  /** Tag as listed; for repeating groups the first group (e.g. 0x60003000). */
  tag: Tag;
  keyword: string;
  /** VR as the standard spells it: `PN`, or `OB or OW`, `US or SS` for multi-VR attributes. */
  vr: string;
  vm: string;
  name: string;
  retired: boolean;
}

let byTag: Map<number, DictionaryEntry> | undefined;
let byKeyword: Map<string, DictionaryEntry> | undefined;

function load(): void {
  byTag = new Map();
  byKeyword = new Map();
  for (const [tag, keyword, vr, vm, name, retired] of dictionaryRows()) {
    const entry: DictionaryEntry = { tag, keyword, vr, vm, name, retired: retired === 1 };
    byTag.set(tag, entry);
    // a retired and a current attribute never share a keyword in practice; prefer the current one
    const prev = byKeyword.get(keyword);
    if (!prev || (prev.retired && !entry.retired)) byKeyword.set(keyword, entry);
  }
}

/** Repeating groups (PS3.5 7.6): 50xx curves, 60xx overlays, 7Fxx variable pixel data map to xx=00. */
function repeatingGroupBase(tag: Tag): Tag | undefined {
  const group = tag >>> 16;
  if ((group & 1) === 0 && ((group & 0xff00) === 0x5000 || (group & 0xff00) === 0x6000)) {
    return ((group & 0xff00) << 16) | (tag & 0xffff);
  }
  if ((group & 0xff00) === 0x7f00 && group !== 0x7fe0 && (group & 1) === 0) {
    return (0x7f00 << 16) | (tag & 0xffff);
  }
  return undefined;
}

/** Dictionary entry for a tag (repeating groups resolved), or undefined for unknown and private tags. */
export function lookupTag(tag: Tag): DictionaryEntry | undefined {
  if (!byTag) load();
  const direct = byTag!.get(tag >>> 0);
  if (direct) return direct;
  const base = repeatingGroupBase(tag);
  return base === undefined ? undefined : byTag!.get(base >>> 0);
}

/** Dictionary entry for a keyword such as `PatientID`. */
export function lookupKeyword(keyword: string): DictionaryEntry | undefined {
  if (!byKeyword) load();
  return byKeyword!.get(keyword);
}

/** Tag for a keyword (`tagForKeyword('PatientID') === 0x00100020`), or undefined. */
export function tagForKeyword(keyword: string): Tag | undefined {
  return lookupKeyword(keyword)?.tag;
}

/** Keyword of a tag, or undefined. */
export function keywordOf(tag: Tag): string | undefined {
  return lookupTag(tag)?.keyword;
}

/**
 * The VR to use for a tag read in implicit VR (or set without a VR): the dictionary VR, the first
 * alternative of a multi-VR attribute (OW for pixel data, US for US-or-SS), LO for private creators,
 * UL for group lengths, UN for anything unknown.
 */
export function implicitVR(tag: Tag): VR {
  if ((tag & 0xffff) === 0 && tag >>> 16 !== 0xfffe) return 'UL';
  if (isPrivateCreator(tag)) return 'LO';
  if (isPrivateTag(tag)) return 'UN';
  const entry = lookupTag(tag);
  if (!entry) return 'UN';
  // PS3.5 A.1: in implicit VR, OB-or-OW values (pixel data, overlays, waveforms) and LUT data are OW
  if (entry.vr === 'OB or OW' || entry.vr === 'US or SS or OW') return 'OW';
  const first = entry.vr.slice(0, 2);
  return isVR(first) ? first : 'UN';
}

/**
 * True for attributes whose VR is US or SS by Pixel Representation (0028,0103) (PS3.5 A.1, as
 * DCMTK resolves them in implicit VR): SS when it is 1. LUT descriptors are not among them: their
 * first and third values are always unsigned, and DCMTK reads them as US.
 */
export function isPixelRepresentationVR(tag: Tag): boolean {
  if (!signedByPixelRepresentation) {
    if (!byTag) load();
    signedByPixelRepresentation = new Set();
    for (const e of byTag!.values())
      if (e.vr === 'US or SS' && !e.keyword.endsWith('Descriptor')) signedByPixelRepresentation.add(e.tag);
  }
  return signedByPixelRepresentation.has(tag >>> 0);
}

let signedByPixelRepresentation: Set<number> | undefined;

/** Every dictionary entry, by tag. */
export function dictionaryEntries(): DictionaryEntry[] {
  if (!byTag) load();
  return [...byTag!.values()];
}
