// Data layer benchmark (not a test): streaming parse throughput with pixel data passing through,
// and peak RSS, next to DCMTK's dcmdump on the same file in the same run.
//   node dist/bench/data-parse.js            512 MB pixel data
//   node dist/bench/data-parse.js smoke      16 MB (also BENCH_SMOKE=1)
import { spawnSync } from 'node:child_process';
import { closeSync, createReadStream, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import {
  Dataset,
  DatasetParser,
  type ElementHeader,
  encodeDataset,
  encodeFileMetaInformation,
  type ParseHandler,
  readPart10,
  readPart10Header,
  TransferSyntax,
  transcode,
} from '../src/data/index.js';
import { elementHeader } from '../src/data/writer.js';

const MiB = 1024 * 1024;

/** Counts what the parser reports; pixel data chunks pass straight through to a no-op sink. */
class CountingHandler implements ParseHandler {
  elements = 0;
  bulkBytes = 0;
  element(_h: ElementHeader, _v: Buffer): void {
    this.elements++;
  }
  bulkStart(): boolean {
    return true;
  }
  bulkData(chunk: Buffer): void {
    this.bulkBytes += chunk.length;
  }
  bulkEnd(): void {
    this.elements++;
  }
  sequenceStart(): void {}
  sequenceEnd(): void {}
  itemStart(): void {}
  itemEnd(): void {}
  fragmentsStart(): void {}
  fragmentsEnd(): void {}
}

function makeFile(path: string, pixelBytes: number): void {
  const ds = new Dataset()
    .set('SOPClassUID', '1.2.840.10008.5.1.4.1.1.7')
    .set('SOPInstanceUID', '1.2.826.0.1.3680043.2.1143.4242')
    .set('PatientName', 'Bench^Mark')
    .set('Rows', 16384)
    .set('Columns', pixelBytes / 2 / 16384)
    .set('BitsAllocated', 16)
    .set('ReferencedImageSequence', [new Dataset().set('ReferencedSOPInstanceUID', '1.2.3')]);
  const ts = { explicitVR: true, littleEndian: true };
  const fd = openSync(path, 'w');
  writeSync(
    fd,
    encodeFileMetaInformation({
      mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.7',
      mediaStorageSopInstanceUid: '1.2.826.0.1.3680043.2.1143.4242',
      transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
    }),
  );
  writeSync(fd, encodeDataset(ds, TransferSyntax.ExplicitVRLittleEndian));
  writeSync(fd, elementHeader(0x7fe00010, 'OW', pixelBytes, ts));
  const block = Buffer.alloc(4 * MiB);
  for (let i = 0; i < block.length; i += 2) block.writeUInt16LE(i & 0xfff, i);
  for (let done = 0; done < pixelBytes; done += block.length)
    writeSync(fd, block, 0, Math.min(block.length, pixelBytes - done));
  closeSync(fd);
}

/** Child modes: each measurement runs in its own process so its peak RSS is its own. */
async function child(mode: string, file: string): Promise<void> {
  const started = performance.now();
  await work(mode, file);
  console.log(`work-ms=${(performance.now() - started).toFixed(1)}`);
}

async function work(mode: string, file: string): Promise<void> {
  if (mode === 'stream') {
    const header = await readPart10Header(file);
    const handler = new CountingHandler();
    const parser = new DatasetParser(handler, {
      explicitVR: true,
      littleEndian: true,
      baseOffset: header.datasetOffset,
    });
    for await (const chunk of createReadStream(file, { start: header.datasetOffset, highWaterMark: MiB })) {
      parser.push(chunk as Buffer);
    }
    parser.end();
    if (handler.bulkBytes === 0) throw new Error('no pixel data seen');
  } else if (mode === 'part10') {
    const f = await readPart10(file);
    if (!f.dataset.has('PixelData')) throw new Error('no pixel data');
  } else if (mode === 'transcode') {
    const header = await readPart10Header(file);
    const sink = new Writable({ write: (_c, _e, done) => done() });
    await pipeline(
      transcode(
        createReadStream(file, { start: header.datasetOffset, highWaterMark: MiB }),
        header.transferSyntaxUid,
        TransferSyntax.ImplicitVRLittleEndian,
      ),
      sink,
    );
  }
}

interface Row {
  name: string;
  /** Wall time of the process, start-up included. */
  seconds: number;
  /** Time of the parse itself, as the process measured it (undefined for external tools). */
  workSeconds: number | undefined;
  rssMb: number;
}

/** Run a command under /usr/bin/time: wall seconds and peak RSS (best of `runs`). */
function measure(name: string, cmd: string, args: string[], runs: number): Row {
  let best: Row | undefined;
  for (let i = 0; i < runs; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * MiB,
    });
    const work = /work-ms=([\d.]+)/.exec(r.stdout ?? '');
    const last = r.stderr.trim().split('\n').pop() ?? '';
    const m = /^([\d.]+) (\d+)$/.exec(last);
    if (r.status !== 0 || !m) throw new Error(`${name} failed: ${r.stderr.slice(-500)}`);
    const row: Row = {
      name,
      seconds: Number(m[1]),
      workSeconds: work ? Number(work[1]) / 1000 : undefined,
      rssMb: Number(m[2]) / 1024,
    };
    if (!best || row.seconds < best.seconds) best = row;
  }
  return best!;
}

async function mainBench(): Promise<void> {
  const smoke = process.argv.includes('smoke') || process.env.BENCH_SMOKE === '1';
  const pixelBytes = (smoke ? 16 : 512) * MiB;
  const file = join(tmpdir(), `dicomnet-bench-${process.pid}.dcm`);
  const self = fileURLToPath(import.meta.url);
  try {
    makeFile(file, pixelBytes);
    const size = statSync(file).size;
    const runs = smoke ? 1 : 3;
    const hasTime = spawnSync('/usr/bin/time', ['-f', '%e', 'true']).status === 0;
    const hasDcmdump = spawnSync('dcmdump', ['--version'], { stdio: 'ignore' }).status === 0;
    if (!hasTime) {
      console.log('data-parse: /usr/bin/time not found; cannot measure peak RSS');
      return;
    }
    // warm the page cache so every contender reads from memory
    spawnSync('cat', [file], { stdio: 'ignore' });
    const rows: Row[] = [];
    const node = process.execPath;
    rows.push(
      measure(
        'dicomnet streaming parse (pixel data pass-through)',
        node,
        [self, '--child', 'stream', file],
        runs,
      ),
    );
    rows.push(
      measure(
        'dicomnet readPart10 (pixel data as file range)',
        node,
        [self, '--child', 'part10', file],
        runs,
      ),
    );
    rows.push(
      measure(
        'dicomnet transcode explicit LE -> implicit LE',
        node,
        [self, '--child', 'transcode', file],
        runs,
      ),
    );
    rows.push(measure('node startup only (baseline)', node, ['-e', '0'], runs));
    if (hasDcmdump) {
      rows.push(measure('dcmdump +M (loads all values)', 'dcmdump', ['+M', file], runs));
      rows.push(measure('dcmdump -M (skips long values)', 'dcmdump', ['-M', file], runs));
    }
    const mb = size / 1e6;
    const ref = rows.find((r) => r.name.startsWith('dcmdump +M'));
    console.log(
      `file: ${(size / MiB).toFixed(1)} MiB (${mb.toFixed(1)} MB), pixel data ${pixelBytes / MiB} MiB, best of ${runs}`,
    );
    console.log(
      '| contender | wall s | parse s | MB/s (parse) | MB/s (wall) | peak RSS MB | wall vs dcmdump +M |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      const startup = r.name.startsWith('node startup');
      const wallRate = startup ? '-' : (mb / Math.max(r.seconds, 0.01)).toFixed(0);
      const parse = r.workSeconds === undefined ? '-' : r.workSeconds.toFixed(3);
      const parseRate = r.workSeconds === undefined ? '-' : (mb / Math.max(r.workSeconds, 0.001)).toFixed(0);
      const ratio = ref ? (r.seconds / Math.max(ref.seconds, 0.01)).toFixed(2) : '-';
      console.log(
        `| ${r.name} | ${r.seconds.toFixed(2)} | ${parse} | ${parseRate} | ${wallRate} | ${r.rssMb.toFixed(1)} | ${ratio} |`,
      );
    }
    console.log(
      '(wall includes process start-up; parse = time measured inside the process; /usr/bin/time resolution 10 ms)',
    );
  } finally {
    rmSync(file, { force: true });
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]!, process.argv[4]!);
} else {
  await mainBench();
}
