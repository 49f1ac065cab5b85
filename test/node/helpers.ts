import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Index, type InstanceRecord, SqliteIndex } from '../../src/node/index.js';
import { PgIndex } from '../../src/node/index-pg.js';
import { postgresSkip, startPostgres, type TestPostgres } from '../helpers/postgres.js';

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

/** An index implementation the shared index and Q/R tests run against. */
export interface IndexBackend {
  name: string;
  /** Why it cannot run here, or false. */
  skip: string | false;
  /** A fresh, empty index. */
  open(): Promise<Index>;
  /** Stop what the backend started (a PostgreSQL cluster). */
  cleanup?(): Promise<void>;
}

/** SQLite (in memory) and PostgreSQL (a cluster started on first use, one database per index). */
export function indexBackends(): IndexBackend[] {
  let server: Promise<TestPostgres> | undefined;
  const dirs: (() => void)[] = [];
  return [
    { name: 'SQLite', skip: false, open: async () => new SqliteIndex(':memory:') },
    {
      name: 'PostgreSQL',
      skip: postgresSkip(),
      open: async () => {
        server ??= startPostgres();
        const url = await (await server).createDatabase();
        const local = tempRoot('dicomnet-pg-local-');
        dirs.push(local.cleanup);
        return PgIndex.open(url, { localDir: local.dir });
      },
      cleanup: async () => {
        for (const d of dirs) d();
        if (server) await (await server).stop();
      },
    },
  ];
}
