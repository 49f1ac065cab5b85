/**
 * Fuzz targets of Specific Character Set decoding and encoding (src/data/charset.ts).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeText, encodeText, VRS } from '../../src/data/index.js';
import { expectTyped, type FuzzTarget, noteInput, target } from './harness.js';

/** Defined terms of (0008,0005), with and without code extensions, plus junk. */
const TERMS = [
  '',
  'ISO_IR 6',
  'ISO_IR 100',
  'ISO_IR 101',
  'ISO_IR 109',
  'ISO_IR 110',
  'ISO_IR 144',
  'ISO_IR 127',
  'ISO_IR 126',
  'ISO_IR 138',
  'ISO_IR 148',
  'ISO_IR 203',
  'ISO_IR 13',
  'ISO_IR 166',
  'ISO_IR 192',
  'GB18030',
  'GBK',
  'ISO 2022 IR 6',
  'ISO 2022 IR 100',
  'ISO 2022 IR 101',
  'ISO 2022 IR 109',
  'ISO 2022 IR 110',
  'ISO 2022 IR 144',
  'ISO 2022 IR 127',
  'ISO 2022 IR 126',
  'ISO 2022 IR 138',
  'ISO 2022 IR 148',
  'ISO 2022 IR 203',
  'ISO 2022 IR 13',
  'ISO 2022 IR 166',
  'ISO 2022 IR 87',
  'ISO 2022 IR 159',
  'ISO 2022 IR 149',
  'ISO 2022 IR 58',
];

const terms = fc.array(
  fc.oneof(
    { arbitrary: fc.constantFrom(...TERMS), weight: 8 },
    { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
  ),
  {
    maxLength: 4,
  },
);

/** Bytes rich in escape sequences (ESC $ B, ESC ( J, ESC - A, …) and delimiters. */
const textBytes = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 8 }),
      fc
        .constantFrom(
          [0x1b, 0x24, 0x42],
          [0x1b, 0x28, 0x42],
          [0x1b, 0x28, 0x4a],
          [0x1b, 0x24, 0x29, 0x43],
          [0x1b, 0x2d, 0x41],
          [0x1b, 0x24, 0x28, 0x44],
          [0x1b, 0x24, 0x41],
          [0x1b],
          [0x5c],
          [0x3d],
          [0x5e],
          [0x0d, 0x0a],
        )
        .map((a) => Uint8Array.from(a)),
    ),
    { maxLength: 10 },
  )
  .map((parts) => Buffer.concat(parts));

export const charsetTargets: FuzzTarget[] = [
  target('charset', 'decoding any bytes under any character set yields a string, never a throw', 2000, () =>
    fc.property(
      textBytes,
      terms,
      fc.oneof(fc.constantFrom(...VRS), fc.string({ maxLength: 3 })),
      (bytes, cs, vr) => {
        noteInput(bytes);
        const text = expectTyped([], () => decodeText(bytes, cs, vr));
        assert.equal(typeof text, 'string');
      },
    ),
  ),
  target('charset', 'encoding any string never throws; UTF-8 and Latin-1 round-trip', 1000, () =>
    fc.property(fc.string({ unit: 'grapheme', maxLength: 20 }), terms, (text, cs) => {
      noteInput(text);
      const bytes = expectTyped([], () => encodeText(text, cs));
      assert.ok(Buffer.isBuffer(bytes));
      assert.equal(decodeText(encodeText(text, ['ISO_IR 192']), ['ISO_IR 192'], 'LO'), text);
      const latin = text.replace(/[^\x20-\xff]/g, '?');
      assert.equal(decodeText(encodeText(latin, ['ISO_IR 100']), ['ISO_IR 100'], 'LO'), latin);
    }),
  ),
];
