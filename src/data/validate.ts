import { decodeText } from './charset.js';
import { type DataElement, type Dataset, isBulkRef, isEncapsulated } from './dataset.js';
import { lookupTag } from './dictionary.js';
import { formatTag, isPrivateCreator, isPrivateTag, type Tag } from './tag.js';
import { binaryWordSize, isSingleValuedTextVR, isStringVR, usesCharacterSet, type VR } from './vr.js';

/** One way an element breaks the encoding rules of PS3.5. */
export interface ValidationFinding {
  /** Where: `(0008,1115)[1].(0008,1150)` for an element of a sequence item (items from 1). */
  path: string;
  tag: Tag;
  vr: VR;
  /** What is wrong, never the value itself (it may be PHI). */
  message: string;
}

/** Longest value of each VR (PS3.5 Table 6.2-1): characters for text VRs, else bytes. */
const MAX_LENGTH: Partial<Record<VR, number>> = {
  AE: 16,
  AS: 4,
  CS: 16,
  DA: 8,
  DS: 16,
  DT: 26,
  IS: 12,
  LO: 64,
  LT: 10240,
  SH: 16,
  ST: 1024,
  TM: 14,
  UI: 64,
};

/** What a value of each VR must look like (PS3.5 Table 6.2-1), padding removed. */
const FORMAT: Partial<Record<VR, [RegExp, string]>> = {
  AS: [/^\d{3}[DWMY]$/, 'nnnD, nnnW, nnnM or nnnY'],
  CS: [/^[A-Z0-9 _]*$/, 'upper-case letters, digits, space and underscore'],
  DA: [/^\d{4}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/, 'YYYYMMDD'],
  DS: [/^ *[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)? *$/, 'a decimal string'],
  DT: [
    /^\d{4}((0[1-9]|1[0-2])((0[1-9]|[12]\d|3[01])(([01]\d|2[0-3])([0-5]\d([0-5]\d(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$/,
    'YYYYMMDDHHMMSS.FFFFFF&ZZXX',
  ],
  IS: [/^ *[+-]?\d+ *$/, 'an integer string'],
  TM: [/^([01]\d|2[0-3])([0-5]\d([0-5]\d(\.\d{1,6})?)?)?$/, 'HHMMSS.FFFFFF'],
  UI: [/^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/, 'digits and dots, no leading zeros in a component'],
};

/** Control characters allowed in text values: ESC everywhere (ISO 2022), line breaks in LT/ST/UT. */
function badControl(vr: VR, text: string): boolean {
  const multiLine = vr === 'LT' || vr === 'ST' || vr === 'UT';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x1b) continue;
    if (multiLine && (c === 0x0a || c === 0x0d || c === 0x0c || c === 0x09)) continue;
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** True when `count` values satisfy a dictionary VM such as `1`, `1-3`, `1-n`, `2-2n`. */
function vmAllows(vm: string, count: number): boolean {
  const m = /^(\d+)(?:-(\d+)?(n)?)?$/.exec(vm.trim());
  if (!m) return true;
  const min = Number(m[1]);
  if (m[2] === undefined && m[3] === undefined) return count === min;
  if (m[3] !== undefined) {
    const step = m[2] === undefined ? 1 : Number(m[2]);
    return count >= min && (count - min) % Math.max(step, 1) === 0;
  }
  return count >= min && count <= Number(m[2]);
}

function valueCount(ds: Dataset, el: DataElement, bytes: Buffer): number {
  if (bytes.length === 0) return 0;
  if (isStringVR(el.vr)) return isSingleValuedTextVR(el.vr) ? 1 : text(ds, el, bytes).split('\\').length;
  if (el.vr === 'AT') return bytes.length / 4;
  const word = binaryWordSize(el.vr);
  return word > 0 ? Math.floor(bytes.length / word) : 1;
}

function text(ds: Dataset, el: DataElement, bytes: Buffer): string {
  return usesCharacterSet(el.vr) ? decodeText(bytes, ds.characterSet(), el.vr) : bytes.toString('latin1');
}

function checkElement(ds: Dataset, el: DataElement, report: (message: string) => void): void {
  const entry = isPrivateTag(el.tag) || isPrivateCreator(el.tag) ? undefined : lookupTag(el.tag);
  if (entry && el.vr !== 'UN' && entry.vr !== 'NONE' && !entry.vr.split(' or ').includes(el.vr))
    report(`VR ${el.vr}, but the data dictionary has ${entry.vr} (PS3.6)`);
  if ((el.encodedVR === 'UN' || el.vr === 'UN') && entry && entry.vr !== 'UN')
    report(`encoded as UN although the data dictionary has ${entry.vr} (PS3.5 6.2.2)`);
  const v = el.value;
  if (Array.isArray(v) || isEncapsulated(v)) return;
  const length = isBulkRef(v) ? v.length : v.length;
  if (length % 2 === 1) report(`odd value length ${length} (PS3.5 7.1.1)`);
  if (isBulkRef(v)) return;
  const word = el.vr === 'AT' ? 4 : binaryWordSize(el.vr);
  if (word > 1 && v.length % word !== 0)
    report(`value length ${v.length} is not a multiple of ${word} (the size of one ${el.vr} value)`);
  if (entry && entry.vr !== 'NONE' && el.vr !== 'UN' && !['OB', 'OW', 'OD', 'OF', 'OL', 'OV', 'SQ'].includes(el.vr)) {
    const count = valueCount(ds, el, v);
    if (count > 0 && !vmAllows(entry.vm, count))
      report(`${count} value${count === 1 ? '' : 's'}, but the data dictionary's VM is ${entry.vm} (PS3.5 6.4)`);
  }
  if (!isStringVR(el.vr) || v.length === 0) return;
  const decoded = text(ds, el, v);
  if (decoded.includes('\ufffd')) report('bytes that are not characters of the Specific Character Set (PS3.5 6.1)');
  const values = isSingleValuedTextVR(el.vr) ? [decoded] : decoded.split('\\');
  values.forEach((raw, i) => {
    const n = values.length > 1 ? `value ${i + 1}` : 'the value';
    const value =
      el.vr === 'UI'
        ? raw.replace(/\0$/, '')
        : isSingleValuedTextVR(el.vr)
          ? raw.replace(/ +$/, '')
          : raw.replace(/^ +/, '').replace(/ +$/, '');
    if (el.vr === 'AS' && raw !== value) report(`${n} has padding inside its 4 characters (PS3.5 6.2)`);
    const max = MAX_LENGTH[el.vr];
    if (el.vr === 'PN') {
      for (const group of value.split('='))
        if (group.length > 64) report(`${n} has a component group of ${group.length} characters, more than 64 (PS3.5 6.2)`);
    } else if (max !== undefined && value.length > max) {
      report(`${n} has ${value.length} characters, more than ${max} for ${el.vr} (PS3.5 6.2)`);
    } else if (el.vr === 'AS' && value.length !== 4 && value.length > 0) {
      report(`${n} has ${value.length} characters, AS has exactly 4 (PS3.5 6.2)`);
    }
    if (badControl(el.vr, value)) report(`${n} holds control characters not allowed in ${el.vr} (PS3.5 6.1.3)`);
    const format = FORMAT[el.vr];
    if (format && value !== '' && !format[0].test(value)) report(`${n} is not ${format[1]} (PS3.5 6.2)`);
    if (el.vr === 'IS' && format?.[0].test(value)) {
      const number = Number(value.trim());
      if (number < -(2 ** 31) || number > 2 ** 31 - 1) report(`${n} is outside the range of IS (PS3.5 6.2)`);
    }
  });
}

function walk(ds: Dataset, prefix: string, out: ValidationFinding[]): void {
  for (const el of ds) {
    const path = `${prefix}${formatTag(el.tag)}`;
    checkElement(ds, el, (message) => out.push({ path, tag: el.tag, vr: el.vr, message }));
    if (Array.isArray(el.value)) el.value.forEach((item, i) => walk(item, `${path}[${i + 1}].`, out));
  }
}

/**
 * Check every element of a data set (items included) against the encoding rules of PS3.5: VR
 * against the data dictionary, value multiplicity, value lengths, and the characters and
 * formats each VR allows, as dciodvfy's encoding checks do. Nothing is refused: the findings
 * are listed, in data set order.
 */
export function validateDataset(ds: Dataset): ValidationFinding[] {
  const out: ValidationFinding[] = [];
  walk(ds, '', out);
  return out;
}
