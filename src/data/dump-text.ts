import { decodeText } from './charset.js';
import { type DataElement, type Dataset, decodeNumbers, isBulkRef, isEncapsulated } from './dataset.js';
import { lookupTag } from './dictionary.js';
import type { Part10Header } from './part10.js';
import { lookupPrivateTag } from './private-dictionary.js';
import { isPrivateCreator, isPrivateTag, type Tag } from './tag.js';
import { transferSyntaxLayout } from './transfer-syntax.js';
import { isSingleValuedTextVR, isStringVR, usesCharacterSet } from './vr.js';

const MAX_VALUE_CHARS = 64;

function lowerTag(tag: Tag): string {
  const h = (n: number) => n.toString(16).padStart(4, '0');
  return `(${h(tag >>> 16)},${h(tag & 0xffff)})`;
}

function keywordFor(ds: Dataset, tag: Tag): string {
  if (isPrivateCreator(tag)) return 'PrivateCreator';
  if (isPrivateTag(tag)) {
    // a well-known private creator's element: its name from the private dictionary, as dcmdump
    const group = tag >>> 16;
    const creator = (tag & 0xffff) >= 0x1000 ? ds.getString(((group << 16) | ((tag >>> 8) & 0xff)) >>> 0) : undefined;
    const entry = creator ? lookupPrivateTag(group, creator, tag & 0xff) : undefined;
    return entry?.name ?? 'Unknown Tag & Data';
  }
  if ((tag & 0xffff) === 0) return lookupTag(tag)?.keyword ?? 'GenericGroupLength';
  return lookupTag(tag)?.keyword ?? 'Unknown Tag & Data';
}

function truncate(s: string): string {
  return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS)}...` : s;
}

function line(depth: number, text: string, length: number, vm: number, keyword: string): string {
  const indent = '  '.repeat(depth);
  const left = `${indent}${text}`;
  const pad = Math.max(indent.length + 56 - left.length, 1);
  return `${left}${' '.repeat(pad)}# ${String(length).padStart(3)}, ${vm} ${keyword}`;
}

function valueText(ds: Dataset, el: DataElement): { text: string; vm: number; length: number } {
  const v = el.value;
  if (isBulkRef(v)) return { text: '(not loaded)', vm: 1, length: v.length };
  if (!Buffer.isBuffer(v)) return { text: '', vm: 1, length: 0 };
  if (v.length === 0) return { text: '(no value available)', vm: 0, length: 0 };
  if (isStringVR(el.vr)) {
    const raw = usesCharacterSet(el.vr) ? decodeText(v, ds.characterSet(), el.vr) : v.toString('latin1');
    const shown = raw.replace(/[\0 ]+$/, '');
    const vm = isSingleValuedTextVR(el.vr) ? 1 : shown.split('\\').length;
    return { text: `[${truncate(shown)}]`, vm, length: v.length };
  }
  if (el.vr === 'AT') {
    const tags: string[] = [];
    for (let i = 0; i + 4 <= v.length; i += 4)
      tags.push(lowerTag(((v.readUInt16LE(i) << 16) | v.readUInt16LE(i + 2)) >>> 0));
    return { text: truncate(tags.join('\\')), vm: tags.length, length: v.length };
  }
  if (el.vr === 'OB' || el.vr === 'UN') {
    const n = Math.min(v.length, 40);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(v[i]!.toString(16).padStart(2, '0'));
    return { text: truncate(parts.join('\\')), vm: 1, length: v.length };
  }
  if (el.vr === 'OW') {
    const parts: string[] = [];
    for (let i = 0; i + 2 <= Math.min(v.length, 64); i += 2)
      parts.push(v.readUInt16LE(i).toString(16).padStart(4, '0'));
    return { text: truncate(parts.join('\\')), vm: 1, length: v.length };
  }
  const nums = decodeNumbers(el.vr, v).map((n) =>
    typeof n === 'bigint'
      ? n.toString()
      : el.vr === 'FL' || el.vr === 'OF'
        ? String(Number(n.toPrecision(9)))
        : String(n),
  );
  const multi = el.vr === 'OF' || el.vr === 'OD' || el.vr === 'OL' || el.vr === 'OV' ? 1 : nums.length;
  return { text: truncate(nums.join('\\')), vm: multi, length: v.length };
}

function dumpDataset(ds: Dataset, depth: number, out: string[]): void {
  for (const el of ds) {
    const keyword = keywordFor(ds, el.tag);
    const tagText = lowerTag(el.tag);
    const v = el.value;
    if (Array.isArray(v)) {
      const kind = el.undefinedLength === false ? 'explicit' : 'undefined';
      out.push(
        line(depth, `${tagText} ${el.vr} (Sequence with ${kind} length #=${v.length})`, 0, 1, keyword),
      );
      for (const item of v) {
        const ik = item.undefinedLength ? 'undefined' : 'explicit';
        out.push(line(depth + 1, `(fffe,e000) na (Item with ${ik} length #=${item.size})`, 0, 1, 'Item'));
        dumpDataset(item, depth + 2, out);
        out.push(line(depth + 1, '(fffe,e00d) na (ItemDelimitationItem)', 0, 0, 'ItemDelimitationItem'));
      }
      out.push(line(depth, '(fffe,e0dd) na (SequenceDelimitationItem)', 0, 0, 'SequenceDelimitationItem'));
      continue;
    }
    if (isEncapsulated(v)) {
      out.push(line(depth, `${tagText} ${el.vr} (PixelSequence #=${v.fragments.length + 1})`, 0, 1, keyword));
      const bot = v.offsetTable;
      const botText = bot.length === 0 ? '(no value available)' : `(${bot.length} bytes)`;
      out.push(line(depth + 1, `(fffe,e000) pi ${botText}`, bot.length, 1, 'Item'));
      for (const f of v.fragments) {
        const n = f.length;
        out.push(
          line(depth + 1, `(fffe,e000) pi ${isBulkRef(f) ? '(not loaded)' : `(${n} bytes)`}`, n, 1, 'Item'),
        );
      }
      out.push(line(depth, '(fffe,e0dd) na (SequenceDelimitationItem)', 0, 0, 'SequenceDelimitationItem'));
      continue;
    }
    const { text, vm, length } = valueText(ds, el);
    out.push(line(depth, `${tagText} ${el.vr} ${text}`, length, vm, keyword));
  }
}

/** A dcmdump-like text listing of a data set (one element per line, items indented). */
export function dumpDatasetText(ds: Dataset): string {
  const out: string[] = [];
  dumpDataset(ds, 0, out);
  return out.join('\n');
}

/** A dcmdump-like listing of a Part 10 file: meta header, then the data set. */
export function dumpFileText(file: Part10Header & { dataset: Dataset }): string {
  const ts = transferSyntaxLayout(file.transferSyntaxUid);
  const parts = ['', file.meta.size > 0 ? '# Dicom-File-Format' : '# Dicom-Data-Set', ''];
  if (file.meta.size > 0) {
    parts.push('# Dicom-Meta-Information-Header', '# Used TransferSyntax: Little Endian Explicit');
    parts.push(dumpDatasetText(file.meta), '', '# Dicom-Data-Set');
  }
  parts.push(`# Used TransferSyntax: ${ts.name}`);
  parts.push(dumpDatasetText(file.dataset));
  return `${parts.join('\n')}\n`;
}
