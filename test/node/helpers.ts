import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InstanceRecord } from '../../src/node/index.js';

/** A fresh temp directory, removed by the returned cleanup. */
export function tempRoot(prefix = 'dicomnet-node-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A plausible instance record; override what a test cares about. */
export function record(overrides: Partial<InstanceRecord> & { sopInstanceUid: string }): InstanceRecord {
  return {
    patientId: 'P1',
    patientName: 'Doe^John',
    patientBirthDate: '19700101',
    patientSex: 'M',
    studyInstanceUid: '1.2.3.1',
    studyDate: '20240115',
    studyTime: '101500',
    accessionNumber: 'ACC1',
    studyId: 'S1',
    studyDescription: 'CT HEAD',
    seriesInstanceUid: '1.2.3.1.1',
    modality: 'CT',
    seriesNumber: 1,
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    instanceNumber: 1,
    path: `/data/${overrides.sopInstanceUid}.dcm`,
    size: 1000,
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    ...overrides,
  };
}
