import { privateDictionaryRows } from './private-dictionary.generated.js';
import { isVR, type VR } from './vr.js';

/** One element of a well-known private creator's block (the private dictionary). */
export interface PrivateDictionaryEntry {
  creator: string;
  /** Element byte within the creator's block: (gggg,xxEE) has EE. */
  element: number;
  /** VR as listed (`OB or OW` for multi-VR entries). */
  vr: string;
  vm: string;
  name: string;
}

let byKey: Map<string, PrivateDictionaryEntry> | undefined;
/** Entries of odd group ranges such as (6001-60FF): [first, last, entry]. */
let ranged: [number, number, PrivateDictionaryEntry][] | undefined;

function key(group: number, creator: string, element: number): string {
  return `${group}|${creator}|${element}`;
}

function load(): void {
  byKey = new Map();
  ranged = [];
  for (const [low, high, creator, element, vr, vm, name] of privateDictionaryRows()) {
    const entry: PrivateDictionaryEntry = { creator, element, vr, vm, name };
    if (low === high) byKey.set(key(low, creator, element), entry);
    else ranged.push([low, high, entry]);
  }
}

/**
 * The private dictionary entry of element `(group, xxEE)` whose block's private creator is
 * `creator` (trailing spaces ignored, as the creator value is space padded), or undefined.
 */
export function lookupPrivateTag(
  group: number,
  creator: string,
  element: number,
): PrivateDictionaryEntry | undefined {
  if (!byKey) load();
  const name = creator.replace(/[ \0]+$/, '');
  const byte = element & 0xff;
  const direct = byKey!.get(key(group, name, byte));
  if (direct) return direct;
  for (const [low, high, entry] of ranged!) {
    if (group >= low && group <= high && (group & 1) === 1 && entry.creator === name && entry.element === byte)
      return entry;
  }
  return undefined;
}

/** The VR to read a private element with in implicit VR: the private dictionary's, else UN. */
export function privateImplicitVR(group: number, creator: string, element: number): VR {
  const vr = lookupPrivateTag(group, creator, element)?.vr;
  if (vr === undefined) return 'UN';
  if (vr === 'OB or OW') return 'OW';
  return isVR(vr) ? vr : 'UN';
}
