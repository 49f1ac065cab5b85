// Index benchmark: builds a 100 000-instance index (2 000 patients × 5 studies × 2 series ×
// 5 instances) in a temp directory and prints p50/p99 latency per C-FIND query shape; then
// builds a 300 000-instance index and measures the peak RSS of one universal IMAGE-level
// C-FIND answered through the node's handler (bench/_find-rss.ts, its own process).
// Run: node dist/bench/node-index.js [--patients N] [--runs N] [--rss-patients N] [--keep]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type InstanceRecord, type QueryKey, type QueryMatch, SqliteIndex } from '../src/node/index.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Every match of a C-FIND (the index streams them). */
function findAll(index: SqliteIndex, ...args: Parameters<SqliteIndex['find']>): QueryMatch[] {
  return [...index.findSync(...args)];
}

const SMOKE = process.env.BENCH_SMOKE === '1';
const PATIENTS = arg('patients', SMOKE ? 40 : 2000);
const RUNS = arg('runs', SMOKE ? 20 : 300);
const RSS_PATIENTS = arg('rss-patients', SMOKE ? 40 : 6000);
const MODALITIES = ['CT', 'MR', 'CR', 'US', 'XA', 'NM', 'PT', 'DX'];

/** Deterministic pseudo-random numbers (mulberry32) so every run builds the same index. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(42);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
const pad = (n: number, width: number) => String(n).padStart(width, '0');

function dateOf(dayOffset: number): string {
  const d = new Date(Date.UTC(2015, 0, 1) + dayOffset * 86400000);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}`;
}

function* records(patients = PATIENTS): Generator<InstanceRecord> {
  for (let p = 0; p < patients; p++) {
    const patient = {
      patientId: `PAT${pad(p, 6)}`,
      patientName: `LAST${p}^FIRST${p % 97}`,
      patientBirthDate: dateOf(-Math.floor(random() * 30000)),
      patientSex: p % 2 === 0 ? 'F' : 'M',
    };
    for (let s = 0; s < 5; s++) {
      const studyUid = `1.2.826.0.1.3680043.10.1.${p}.${s}`;
      const study = {
        ...patient,
        studyInstanceUid: studyUid,
        studyDate: dateOf(Math.floor(random() * 3650)),
        studyTime: `${pad(Math.floor(random() * 24), 2)}${pad(Math.floor(random() * 60), 2)}00`,
        accessionNumber: `ACC${pad(p * 5 + s, 8)}`,
        studyId: String(s + 1),
        studyDescription: `STUDY ${s}`,
      };
      for (let se = 0; se < 2; se++) {
        const seriesUid = `${studyUid}.${se}`;
        const modality = pick(MODALITIES);
        for (let i = 0; i < 5; i++) {
          const sopInstanceUid = `${seriesUid}.${i}`;
          yield {
            ...study,
            seriesInstanceUid: seriesUid,
            modality,
            seriesNumber: se + 1,
            sopInstanceUid,
            sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
            instanceNumber: i + 1,
            path: `/storage/${studyUid}/${seriesUid}/${sopInstanceUid}.dcm`,
            size: 524288,
            transferSyntaxUid: '1.2.840.10008.1.2.1',
          };
        }
      }
    }
  }
}

const RETURN_KEYS: QueryKey[] = [
  { keyword: 'PatientName', vr: 'PN', value: '' },
  { keyword: 'PatientID', vr: 'LO', value: '' },
  { keyword: 'StudyDate', vr: 'DA', value: '' },
  { keyword: 'StudyTime', vr: 'TM', value: '' },
  { keyword: 'AccessionNumber', vr: 'SH', value: '' },
  { keyword: 'StudyDescription', vr: 'LO', value: '' },
  { keyword: 'ModalitiesInStudy', vr: 'CS', value: '' },
  { keyword: 'NumberOfStudyRelatedSeries', vr: 'IS', value: '' },
  { keyword: 'NumberOfStudyRelatedInstances', vr: 'IS', value: '' },
];

/** A study-level query whose matching keys replace the universal return keys of the same keyword. */
function studyQuery(matching: Record<string, string>): QueryKey[] {
  return RETURN_KEYS.map((k) => (k.keyword in matching ? { ...k, value: matching[k.keyword] as string } : k));
}

function monthRange(): string {
  const start = Math.floor(random() * 3600);
  return `${dateOf(start)}-${dateOf(start + 30)}`;
}

interface Shape {
  name: string;
  run: () => number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function main(): void {
  const root = mkdtempSync(join(tmpdir(), 'dicomnet-bench-index-'));
  const index = new SqliteIndex(root);
  try {
    const t0 = performance.now();
    let n = 0;
    for (const r of records()) {
      index.upsertInstanceSync(r);
      n++;
    }
    const buildMs = performance.now() - t0;
    console.log(
      `built ${n} instances (${JSON.stringify(index.countsSync())}) in ${(buildMs / 1000).toFixed(1)} s:` +
        ` ${Math.round(n / (buildMs / 1000))} upserts/s, one transaction each, synchronous=NORMAL, WAL`,
    );
    index.db.pragma('optimize');

    const randomPatient = () => Math.floor(random() * PATIENTS);
    const shapes: Shape[] = [
      {
        name: 'STUDY  PatientID exact',
        run: () =>
          findAll(index, 'study', 'STUDY', studyQuery({ PatientID: `PAT${pad(randomPatient(), 6)}` })).length,
      },
      {
        name: 'STUDY  PatientName wildcard (LAST<3 digits>*)',
        run: () =>
          findAll(
            index,
            'study',
            'STUDY',
            studyQuery({ PatientName: `last${100 + Math.floor(random() * 900)}*` }),
          ).length,
      },
      {
        name: 'STUDY  PatientName *contains* (*T1234^*)',
        run: () =>
          findAll(
            index,
            'study',
            'STUDY',
            studyQuery({ PatientName: `*T${1000 + Math.floor(random() * 999)}^*` }),
          ).length,
      },
      {
        name: 'STUDY  StudyDate range (one month)',
        run: () => findAll(index, 'study', 'STUDY', studyQuery({ StudyDate: monthRange() })).length,
      },
      {
        name: 'STUDY  StudyDate month + ModalitiesInStudy',
        run: () =>
          findAll(
            index,
            'study',
            'STUDY',
            studyQuery({ StudyDate: monthRange(), ModalitiesInStudy: pick(MODALITIES) }),
          ).length,
      },
      {
        name: 'STUDY  ModalitiesInStudy only (~25% of studies)',
        run: () =>
          findAll(index, 'study', 'STUDY', studyQuery({ ModalitiesInStudy: pick(MODALITIES) })).length,
      },
      {
        name: 'STUDY  AccessionNumber exact',
        run: () =>
          findAll(
            index,
            'study',
            'STUDY',
            studyQuery({ AccessionNumber: `ACC${pad(randomPatient() * 5, 8)}` }),
          ).length,
      },
      {
        name: 'SERIES StudyInstanceUID',
        run: () =>
          findAll(index, 'study', 'SERIES', [
            { keyword: 'StudyInstanceUID', vr: 'UI', value: `1.2.826.0.1.3680043.10.1.${randomPatient()}.2` },
            { keyword: 'Modality', vr: 'CS', value: '' },
            { keyword: 'NumberOfSeriesRelatedInstances', vr: 'IS', value: '' },
          ]).length,
      },
      {
        name: 'IMAGE  SeriesInstanceUID',
        run: () => {
          const study = `1.2.826.0.1.3680043.10.1.${randomPatient()}.2`;
          return findAll(index, 'study', 'IMAGE', [
            { keyword: 'StudyInstanceUID', vr: 'UI', value: study },
            { keyword: 'SeriesInstanceUID', vr: 'UI', value: `${study}.1` },
            { keyword: 'InstanceNumber', vr: 'IS', value: '' },
          ]).length;
        },
      },
      {
        name: 'MOVE   filesFor study',
        run: () =>
          index.filesForSync('study', 'STUDY', [
            { keyword: 'StudyInstanceUID', vr: 'UI', value: `1.2.826.0.1.3680043.10.1.${randomPatient()}.1` },
          ]).length,
      },
    ];

    console.log(
      `\n${'query shape'.padEnd(50)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'rows'.padStart(7)}`,
    );
    for (const shape of shapes) {
      for (let i = 0; i < 10; i++) shape.run(); // warm the statement cache and the page cache
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < RUNS; i++) {
        const start = performance.now();
        rows += shape.run();
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      console.log(
        `${shape.name.padEnd(50)} ${percentile(times, 50).toFixed(2).padStart(8)} ${percentile(times, 99)
          .toFixed(2)
          .padStart(8)} ${(rows / RUNS).toFixed(0).padStart(7)}`,
      );
    }
  } finally {
    index.close();
    if (!process.argv.includes('--keep')) rmSync(root, { recursive: true, force: true });
    else console.log(`kept ${root}`);
  }
}

/**
 * Peak RSS of a universal IMAGE-level C-FIND over a RSS_PATIENTS × 50 instance index, measured
 * in a fresh process so the index build does not count.
 */
function queryRss(): void {
  const root = mkdtempSync(join(tmpdir(), 'dicomnet-bench-rss-'));
  try {
    const index = new SqliteIndex(root);
    const batch = index.db.transaction((rs: InstanceRecord[]) => {
      for (const r of rs) index.upsertInstanceSync(r);
    });
    let pending: InstanceRecord[] = [];
    for (const r of records(RSS_PATIENTS)) {
      pending.push(r);
      if (pending.length === 5000) {
        batch(pending);
        pending = [];
      }
    }
    batch(pending);
    const { instances } = index.countsSync();
    index.close();
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', fileURLToPath(new URL('./_find-rss.js', import.meta.url)), root],
      { encoding: 'utf8' },
    );
    const m = /^RSS (\d+) (\d+) (\d+) (\d+)$/m.exec(child.stdout);
    if (!m) throw new Error(`find-rss child failed: ${child.stderr || child.stdout}`);
    const [before, peak, matches] = [Number(m[1]), Number(m[2]), Number(m[3])];
    console.log(
      `\nuniversal IMAGE-level C-FIND over ${instances} instances: ${matches} matches,` +
        ` peak RSS ${(peak / 1024).toFixed(0)} MB (${(before / 1024).toFixed(0)} MB before the query,` +
        ` +${((peak - before) / 1024).toFixed(0)} MB)`,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main();
queryRss();
