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

/** Per private creator: (group << 8 | element byte) → entry, and entries of odd group ranges. */
interface CreatorBlock {
  exact: Map<number, PrivateDictionaryEntry>;
  ranged: [number, number, PrivateDictionaryEntry][];
}

let byCreator: Map<string, CreatorBlock> | undefined;

function load(): Map<string, CreatorBlock> {
  const out = new Map<string, CreatorBlock>();
  for (const [low, high, creator, element, vr, vm, name] of privateDictionaryRows()) {
    const entry: PrivateDictionaryEntry = { creator, element, vr, vm, name };
    let block = out.get(creator);
    if (!block) out.set(creator, (block = { exact: new Map(), ranged: [] }));
    if (low === high) block.exact.set((low << 8) | element, entry);
    else block.ranged.push([low, high, entry]);
  }
  return out;
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
  byCreator ??= load();
  let block = byCreator.get(creator);
  if (!block) {
    const trimmed = creator.replace(/[ \0]+$/, '');
    if (trimmed === creator) return undefined;
    block = byCreator.get(trimmed);
    if (!block) return undefined;
  }
  const byte = element & 0xff;
  const direct = block.exact.get((group << 8) | byte);
  if (direct) return direct;
  for (const [low, high, entry] of block.ranged) {
    if (group >= low && group <= high && (group & 1) === 1 && entry.element === byte) return entry;
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
