/**
 * Fuzz targets of Part 10 reading (src/data/part10.ts): the header from bytes,
 * and whole files read from disk in each transfer syntax.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  type Dataset,
  DicomParseError,
  encodeDataset,
  encodeFileMetaInformation,
  readPart10,
  Tags,
  TransferSyntax,
} from '../../src/data/index.js';
import { part10HeaderFromBytes } from '../../src/data/part10.js';
import { bytesFrom, expectTyped, expectTypedAsync, type FuzzTarget, noteInput, target } from './harness.js';
import { anyDataset, SYNTAXES } from './dataset.js';

const SOP = '1.2.840.10008.5.1.4.1.1.7';

/** A Part 10 file: preamble, DICM, meta (sometimes naming an unknown syntax) and the data set. */
const validFile: fc.Arbitrary<Buffer> = fc
  .tuple(anyDataset, fc.constantFrom(...SYNTAXES), fc.stringMatching(/^[1-9][0-9.]{0,30}[0-9]$/))
  .map(([ds, ts, instance]: [Dataset, string, string]) =>
    Buffer.concat([
      encodeFileMetaInformation({
        mediaStorageSopClassUid: SOP,
        mediaStorageSopInstanceUid: instance,
        transferSyntaxUid: ts,
      }),
      encodeDataset(ds, ts),
    ]),
  );

/** Variants that drop the preamble, the meta group or both (read as DCMTK does, with warnings). */
const fileVariants = fc.oneof(
  validFile,
  validFile.map((b) => b.subarray(128)),
  anyDataset.map((ds) => encodeDataset(ds, TransferSyntax.ExplicitVRLittleEndian)),
  anyDataset.map((ds) => encodeDataset(ds, TransferSyntax.ImplicitVRLittleEndian)),
);

let dir: string | undefined;
let counter = 0;
function scratchFile(bytes: Buffer): string {
  if (!dir) {
    const made = mkdtempSync(join(tmpdir(), 'dicomnet-fuzz-'));
    dir = made;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  const path = join(dir, `case-${counter++ % 4}.dcm`);
  writeFileSync(path, bytes);
  return path;
}

/** Open descriptors must not grow with the number of files read (streams close a tick later: slack). */
let baseline: number | undefined;
let reads = 0;
function checkDescriptors(): void {
  if (reads++ % 50 !== 0) return;
  const open = readdirSync('/proc/self/fd').length;
  baseline ??= open;
  assert.ok(open <= baseline + 32, `${open - baseline} more file descriptors open than at the start`);
}

export const part10Targets: FuzzTarget[] = [
  target('part10', 'file headers from mutated and random bytes parse or fail with DicomParseError', 500, () =>
    fc.property(bytesFrom(fileVariants, 300), (input) => {
      noteInput(input);
      const header = expectTyped([DicomParseError], () => part10HeaderFromBytes(input, input.length));
      if (header) assert.ok(header.datasetOffset <= input.length, 'data set offset past the end');
    }),
  ),
  target('part10', 'valid files read back their data set exactly', 100, () =>
    fc.asyncProperty(anyDataset, fc.constantFrom(...SYNTAXES), async (ds, ts) => {
      const bytes = Buffer.concat([
        encodeFileMetaInformation({
          mediaStorageSopClassUid: SOP,
          mediaStorageSopInstanceUid: '1.2.3',
          transferSyntaxUid: ts,
        }),
        encodeDataset(ds, ts),
      ]);
      noteInput(bytes);
      const file = await readPart10(scratchFile(bytes), { bulkDataThreshold: 1 << 20 });
      assert.equal(file.transferSyntaxUid, ts);
      assert.equal(file.meta.getString(Tags.MediaStorageSOPInstanceUID), '1.2.3');
      assert.ok(encodeDataset(file.dataset, ts).equals(encodeDataset(ds, ts)), 'data set differs');
    }),
  ),
  target('part10', 'mutated and random files read or fail with DicomParseError', 250, () =>
    fc.asyncProperty(bytesFrom(fileVariants, 300), fc.constantFrom(16, 1 << 20), async (input, threshold) => {
      noteInput(input);
      await expectTypedAsync([DicomParseError], () =>
        readPart10(scratchFile(input), { bulkDataThreshold: threshold }),
      );
      checkDescriptors();
    }),
  ),
];
