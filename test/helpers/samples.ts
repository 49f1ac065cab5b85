import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let scratchDir: string | undefined;

/** Dump and raw pixel files live outside the output directory, so it holds DICOM files only. */
function scratch(): string {
  scratchDir ??= mkdtempSync(join(tmpdir(), 'dicomnet-samples-'));
  return scratchDir;
}

/** Attributes of a generated test instance. */
export interface SampleInstance {
  patientId?: string;
  patientName?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  sopClassUid?: string;
  modality?: string;
  studyDate?: string;
  studyTime?: string;
  accessionNumber?: string;
  studyDescription?: string;
  seriesNumber?: number;
  instanceNumber?: number;
  /** Pixel data size in bytes (even); default 131072 (a 256×256 16-bit frame). */
  pixelBytes?: number;
  /** dump2dcm output transfer syntax. */
  transferSyntax?: 'explicit' | 'implicit' | 'big' | 'deflated';
}

let counter = 0;

/** A fresh UID under 2.25 (UUID-derived roots are free for anyone to use). */
export function testUid(): string {
  counter++;
  const n = BigInt(Date.now()) * 1_000_000n + BigInt(process.pid) * 1000n + BigInt(counter);
  return `2.25.${n}`;
}

const TS_FLAG = { explicit: '+te', implicit: '+ti', big: '+tb', deflated: '+td' } as const;

/** Deterministic pseudo-random bytes (so reruns produce identical files). */
function pixelBytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

/** Write one DICOM Part 10 file with DCMTK's dump2dcm; returns its path and UIDs. */
export function makeInstance(
  dir: string,
  s: SampleInstance = {},
): Required<Omit<SampleInstance, 'transferSyntax'>> & { path: string } {
  mkdirSync(dir, { recursive: true });
  const inst = {
    patientId: s.patientId ?? 'PAT001',
    patientName: s.patientName ?? 'Doe^John',
    studyInstanceUid: s.studyInstanceUid ?? testUid(),
    seriesInstanceUid: s.seriesInstanceUid ?? testUid(),
    sopInstanceUid: s.sopInstanceUid ?? testUid(),
    sopClassUid: s.sopClassUid ?? '1.2.840.10008.5.1.4.1.1.2',
    modality: s.modality ?? 'CT',
    studyDate: s.studyDate ?? '20240101',
    studyTime: s.studyTime ?? '101500',
    accessionNumber: s.accessionNumber ?? 'ACC001',
    studyDescription: s.studyDescription ?? 'Test study',
    seriesNumber: s.seriesNumber ?? 1,
    instanceNumber: s.instanceNumber ?? 1,
    pixelBytes: s.pixelBytes ?? 131072,
  };
  const base = join(scratch(), inst.sopInstanceUid);
  const raw = `${base}.raw`;
  writeFileSync(raw, pixelBytes(inst.pixelBytes, counter + inst.instanceNumber));
  const side = Math.max(1, Math.floor(Math.sqrt(inst.pixelBytes / 2)));
  const dump = [
    '(0002,0001) OB 00\\01',
    `(0002,0002) UI [${inst.sopClassUid}]`,
    `(0002,0003) UI [${inst.sopInstanceUid}]`,
    '(0002,0010) UI =LittleEndianExplicit',
    '(0008,0005) CS [ISO_IR 100]',
    `(0008,0016) UI [${inst.sopClassUid}]`,
    `(0008,0018) UI [${inst.sopInstanceUid}]`,
    `(0008,0020) DA [${inst.studyDate}]`,
    `(0008,0030) TM [${inst.studyTime}]`,
    `(0008,0050) SH [${inst.accessionNumber}]`,
    `(0008,0060) CS [${inst.modality}]`,
    `(0008,1030) LO [${inst.studyDescription}]`,
    `(0010,0010) PN [${inst.patientName}]`,
    `(0010,0020) LO [${inst.patientId}]`,
    '(0010,0030) DA [19700101]',
    '(0010,0040) CS [O]',
    `(0020,000d) UI [${inst.studyInstanceUid}]`,
    `(0020,000e) UI [${inst.seriesInstanceUid}]`,
    '(0020,0010) SH [1]',
    `(0020,0011) IS [${inst.seriesNumber}]`,
    `(0020,0013) IS [${inst.instanceNumber}]`,
    '(0028,0002) US 1',
    '(0028,0004) CS [MONOCHROME2]',
    `(0028,0010) US ${side}`,
    `(0028,0011) US ${Math.floor(inst.pixelBytes / 2 / side)}`,
    '(0028,0100) US 16',
    '(0028,0101) US 12',
    '(0028,0102) US 11',
    '(0028,0103) US 0',
    `(7fe0,0010) OW =${raw}`,
  ].join('\n');
  writeFileSync(`${base}.dump`, `${dump}\n`);
  const path = join(dir, `${inst.sopInstanceUid}.dcm`);
  const args = [TS_FLAG[s.transferSyntax ?? 'explicit'], `${base}.dump`, path];
  const r = spawnSync('dump2dcm', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`dump2dcm failed: ${r.stderr}`);
  return { ...inst, path };
}

/** A study of `count` instances in one series. */
export function makeStudy(
  dir: string,
  count: number,
  s: SampleInstance = {},
): ReturnType<typeof makeInstance>[] {
  const studyInstanceUid = s.studyInstanceUid ?? testUid();
  const seriesInstanceUid = s.seriesInstanceUid ?? testUid();
  return Array.from({ length: count }, (_, i) =>
    makeInstance(dir, {
      ...s,
      studyInstanceUid,
      seriesInstanceUid,
      instanceNumber: i + 1,
      sopInstanceUid: undefined,
    }),
  );
}
