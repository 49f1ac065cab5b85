import { createRequire } from 'node:module';
import type { convertBytes as ConvertBytes } from 'dicom-character-set';
import type Iconv from 'iconv-lite';
import type { VR } from './vr.js';

// loaded on the first value that needs them: most data sets are ASCII or UTF-8, and both
// libraries cost start-up time (`dicomnet dump`, `dicomnet echo`)
const require = createRequire(import.meta.url);
let iconvLib: typeof Iconv | undefined;
function iconv(): typeof Iconv {
  iconvLib ??= require('iconv-lite') as typeof Iconv;
  return iconvLib;
}
let converter: typeof ConvertBytes | undefined;
function convertBytes(...args: Parameters<typeof ConvertBytes>): ReturnType<typeof ConvertBytes> {
  converter ??= (require('dicom-character-set') as { convertBytes: typeof ConvertBytes }).convertBytes;
  return converter(...args);
}

/** Normalise a (0008,0005) value: trimmed terms, empty first term meaning the default repertoire. */
function normalise(specificCharacterSet: readonly string[]): string[] {
  return specificCharacterSet.map((s) => s.trim());
}

/**
 * Decode text bytes of a value with the data set's Specific Character Set (0008,0005) values,
 * handling single-byte sets, UTF-8, GB18030/GBK and ISO 2022 code extensions. `vr` decides which
 * delimiters reset ISO 2022 state (PN components, backslash for multi-valued VRs).
 */
export function decodeText(
  bytes: Uint8Array,
  specificCharacterSet: readonly string[],
  vr: VR | string,
): string {
  if (bytes.length === 0) return '';
  const terms = normalise(specificCharacterSet);
  let pureAscii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80 || bytes[i] === 0x1b) {
      pureAscii = false;
      break;
    }
  }
  if (
    pureAscii ||
    terms.length === 0 ||
    (terms.length === 1 && (terms[0] === '' || terms[0] === 'ISO_IR 6'))
  ) {
    // the default repertoire; bytes >= 0x80 are invalid there, read as Latin-1 like DCMTK's fallback
    return Buffer.from(bytes).toString('latin1');
  }
  if (terms.length === 1 && terms[0] === 'ISO_IR 192') return Buffer.from(bytes).toString('utf8');
  // Latin-9 is missing from dicom-character-set's table
  if (terms.length === 1 && terms[0] === 'ISO_IR 203') return iconv().decode(Buffer.from(bytes), 'iso-8859-15');
  try {
    return convertBytes(terms.join('\\'), bytes, { vr });
  } catch {
    return Buffer.from(bytes).toString('latin1');
  }
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** iconv-lite encoding names of the single-byte and Chinese character sets (for writing values). */
const ENCODER_NAMES: Record<string, string> = {
  ISO_IR_100: 'latin1',
  ISO_IR_101: 'iso-8859-2',
  ISO_IR_109: 'iso-8859-3',
  ISO_IR_110: 'iso-8859-4',
  ISO_IR_144: 'iso-8859-5',
  ISO_IR_127: 'iso-8859-6',
  ISO_IR_126: 'iso-8859-7',
  ISO_IR_138: 'iso-8859-8',
  ISO_IR_148: 'iso-8859-9',
  ISO_IR_203: 'iso-8859-15',
  ISO_IR_166: 'tis620',
  ISO_IR_13: 'shift_jis',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

/**
 * Encode a JavaScript string for a value under the given Specific Character Set. Supports the
 * default repertoire, the single-byte sets, UTF-8, GB18030 and GBK; ISO 2022 code extensions
 * are written with the first set only (escape sequences are not generated).
 */
export function encodeText(text: string, specificCharacterSet: readonly string[]): Buffer {
  const first = normalise(specificCharacterSet)[0] ?? '';
  if (isAscii(text)) return Buffer.from(text, 'latin1');
  if (first === 'ISO_IR 192') return Buffer.from(text, 'utf8');
  const key = first.replace(/^ISO 2022 /, 'ISO_').replace(/ /g, '_');
  // own keys only: a term like `toString` must not find Object.prototype.toString
  const name = Object.hasOwn(ENCODER_NAMES, key) ? ENCODER_NAMES[key] : undefined;
  if (name) return iconv().encode(text, name);
  return Buffer.from(text, 'utf8');
}
