/**
 * Crash safety: `dicomnet serve` is killed with SIGKILL at random points of a stream of
 * C-STOREs (small instances, and larger ones so that kills land mid-transfer) and restarted,
 * more than 20 times. At the end every instance whose C-STORE was answered with success is
 * present, byte-identical to what was sent, parses and is indexed; nothing partial is left
 * (no temp file, no file without an index row, no row without a file).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { encodeFileMetaInformation, readPart10, readPart10Header } from '../../src/data/index.js';
import { checkConsistency } from '../../src/node/consistency.js';
import { SqliteIndex } from '../../src/node/index-db.js';
import { FileStorage } from '../../src/node/storage.js';
import { type Association, connect } from '../../src/services/client.js';
import { freePort } from '../helpers/dcmtk.js';
import { filesUnder, type HardenedServe, startHardenedServe } from './helpers.js';

const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const KILLS = 22;
const INSTANCES = 400;
const LARGE_EVERY = 10;
const LARGE_BYTES = 2 * 1024 * 1024;
const SMALL_BYTES = 8 * 1024;

interface Sent {
  path: string;
  sopInstanceUid: string;
  /** SHA-256 of the data set bytes (what the node must keep byte for byte). */
  datasetSha256: string;
}

function element(group: number, el: number, vr: string, value: string): Buffer {
  const v = Buffer.from(value.length % 2 ? `${value}${vr === 'UI' ? '\0' : ' '}` : value, 'latin1');
  const h = Buffer.alloc(8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(el, 2);
  h.write(vr, 4, 'latin1');
  h.writeUInt16LE(v.length, 6);
  return Buffer.concat([h, v]);
}

/** A minimal CT instance (Explicit VR Little Endian) with `pixelBytes` of random Pixel Data. */
function makeCt(dir: string, n: number, study: string, pixelBytes: number): Sent {
  const sop = `${study}.${n}`;
  const pixelHeader = Buffer.alloc(12);
  pixelHeader.writeUInt16LE(0x7fe0, 0);
  pixelHeader.writeUInt16LE(0x0010, 2);
  pixelHeader.write('OB', 4, 'latin1');
  pixelHeader.writeUInt32LE(pixelBytes, 8);
  const dataset = Buffer.concat([
    element(0x0008, 0x0016, 'UI', CT),
    element(0x0008, 0x0018, 'UI', sop),
    element(0x0008, 0x0060, 'CS', 'CT'),
    element(0x0010, 0x0010, 'PN', 'Crash^Test'),
    element(0x0010, 0x0020, 'LO', 'CRASH01'),
    element(0x0020, 0x000d, 'UI', study),
    element(0x0020, 0x000e, 'UI', `${study}.${n % 3}.9`),
    element(0x0020, 0x0013, 'IS', String(n)),
    pixelHeader,
    randomBytes(pixelBytes),
  ]);
  const meta = encodeFileMetaInformation({
    mediaStorageSopClassUid: CT,
    mediaStorageSopInstanceUid: sop,
    transferSyntaxUid: EXPLICIT_LE,
  });
  const path = join(dir, `${n}.dcm`);
  writeFileSync(path, Buffer.concat([meta, dataset]));
  return { path, sopInstanceUid: sop, datasetSha256: sha256(dataset) };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The data set bytes of a stored Part 10 file. */
async function datasetBytes(path: string): Promise<Buffer> {
  const header = await readPart10Header(path);
  return readFileSync(path).subarray(header.datasetOffset);
}

/** Instance files in the storage tree (the temp directory excluded). */
function treeFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (depth === 0 && e.name === '.incoming') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.name.endsWith('.dcm')) out.push(resolve(p));
    }
  };
  walk(root, 0);
  return out.sort();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash safety: SIGKILL during a stream of C-STOREs', { timeout: 150_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dicomnet-crash-'));
  let node: HardenedServe | undefined;

  after(async () => {
    await node?.kill9();
  });

  test(`${KILLS} kills at random points, then every acknowledged instance is stored, whole and indexed`, async () => {
    const study = `2.25.${BigInt(`0x${randomBytes(10).toString('hex')}`)}`;
    const source = join(dir, 'source');
    mkdirSync(source);
    const instances = Array.from({ length: INSTANCES }, (_, n) =>
      makeCt(source, n, study, n % LARGE_EVERY === LARGE_EVERY - 1 ? LARGE_BYTES : SMALL_BYTES),
    );
    const acknowledged = new Map<string, Sent>();
    const port = await freePort();
    let next = 0;
    let stores = 0;
    let midTransferKills = 0;
    let repairs = { tempFilesRemoved: 0, reindexed: 0, rowsRemoved: 0 };

    /** Store instances in order until the node dies (or all are sent); a failed one is sent again later. */
    const streamUntilDead = async (): Promise<void> => {
      while (next < instances.length) {
        let assoc: Association;
        try {
          assoc = await connect({
            host: '127.0.0.1',
            port,
            calledAet: 'DICOMNET',
            contexts: [{ abstractSyntax: CT, transferSyntaxes: [EXPLICIT_LE] }],
            timeoutMs: 10_000,
          });
        } catch {
          return;
        }
        try {
          for (let k = 0; k < 40 && next < instances.length; k++, next++) {
            const sent = instances[next] as Sent;
            const result = await assoc.store(sent.path, { noThrow: true });
            stores++;
            if (result.status === 0) acknowledged.set(sent.sopInstanceUid, sent);
          }
          await assoc.release();
        } catch {
          assoc.abort();
          return;
        }
      }
    };

    const start = async () => {
      node = await startHardenedServe({
        dir,
        port,
        config: { tlsPort: null, log: { level: 'warn', format: 'json' } },
      });
      return node;
    };

    for (let kill = 0; kill < KILLS; kill++) {
      const running = await start();
      const streaming = streamUntilDead();
      if (kill % 3 === 2) {
        // aim for the middle of a large instance: wait until one is arriving in the temp directory
        const incoming = join(running.storage, '.incoming');
        const deadline = Date.now() + 5000;
        let partial = false;
        while (!partial && Date.now() < deadline) {
          try {
            partial = readdirSync(incoming).some((f) => statSync(join(incoming, f)).size > 256 * 1024);
          } catch {
            // the directory comes with the first instance
          }
          if (!partial) await sleep(2);
        }
        if (partial) midTransferKills++;
      } else {
        await sleep(20 + Math.floor(Math.random() * 400));
      }
      await running.kill9();
      await streaming;
      for (const line of running.logLines()) {
        if (line.msg !== 'storage consistency check repaired or found problems') continue;
        repairs = {
          tempFilesRemoved: repairs.tempFilesRemoved + Number(line.tempFilesRemoved ?? 0),
          reindexed: repairs.reindexed + Number(line.reindexed ?? 0),
          rowsRemoved: repairs.rowsRemoved + Number(line.rowsRemoved ?? 0),
        };
      }
    }

    // a last run without kills (its start repairs what the last kill left), then a clean stop
    const last = await start();
    await streamUntilDead();
    assert.equal(await last.stop(), 0, last.stderr());
    process.stdout.write(
      `# crash: ${KILLS} kills (${midTransferKills} aimed mid-transfer), ${stores} C-STORE answers, ` +
        `${acknowledged.size} instances acknowledged; repairs on restart: ${JSON.stringify(repairs)}\n`,
    );
    assert.ok(midTransferKills >= 3, `only ${midTransferKills} kills landed during a large transfer`);
    assert.ok(acknowledged.size > 0);

    const storage = last.storage;
    assert.deepEqual(filesUnder(join(storage, '.incoming')), [], 'no temp file left');
    const index = new SqliteIndex(storage, { readonly: true });
    try {
      const summary = await checkConsistency({
        storage: new FileStorage(storage),
        index,
        removeMissingRows: false,
      });
      assert.deepEqual(summary.missingFiles, [], 'no index row without its file');
      assert.deepEqual(summary.orphanFiles, [], 'no file without its index row');
      const rows = [...index.allInstancesSync()].map((i) => resolve(i.path)).sort();
      assert.deepEqual(rows, treeFiles(storage), 'index rows and files agree');
      for (const sent of acknowledged.values()) {
        const row = index.getInstanceSync(sent.sopInstanceUid);
        assert.ok(row, `acknowledged ${sent.sopInstanceUid} is indexed`);
        assert.ok(existsSync(row.path), `acknowledged ${sent.sopInstanceUid} is present`);
        const { dataset } = await readPart10(row.path);
        assert.equal(dataset.getString('SOPInstanceUID'), sent.sopInstanceUid);
        assert.equal(sha256(await datasetBytes(row.path)), sent.datasetSha256, `${row.path} is whole`);
      }
      // nothing partial: every stored file (acknowledged or not) is one of the instances, whole
      const bySop = new Map(instances.map((i) => [i.sopInstanceUid, i]));
      for (const path of rows) {
        const header = await readPart10Header(path);
        const sent = bySop.get(header.sopInstanceUid ?? '');
        assert.ok(sent, `${path} is an instance that was sent`);
        assert.equal(sha256(await datasetBytes(path)), sent.datasetSha256, `${path} is whole`);
      }
    } finally {
      index.close();
    }
  });
});
