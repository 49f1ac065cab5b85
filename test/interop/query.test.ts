import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Dataset, datasetFromKeywords, readPart10 } from '../../src/data/index.js';
import { Status } from '../../src/dimse/index.js';
import { DicomServer } from '../../src/services/server.js';
import { runCli } from '../helpers/cli.js';
import { type DcmtkServer, freePort, hasDcmtk, run, startDcmtkServer } from '../helpers/dcmtk.js';
import { makeStudy } from '../helpers/samples.js';

const skip = hasDcmtk() ? false : 'DCMTK is not installed';

interface Study {
  patientId: string;
  patientName: string;
  studyInstanceUid: string;
  studyDate: string;
  files: string[];
}

/** A tiny in-memory Q/R model: matches PatientID (with * wildcard) and StudyInstanceUID. */
function matches(study: Study, query: Dataset): boolean {
  const pid = query.getString('PatientID') ?? '';
  const uid = query.getString('StudyInstanceUID') ?? '';
  const re = new RegExp(
    `^${pid
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return (
    (pid === '' || re.test(study.patientId)) &&
    (uid === '' || uid.split('\\').includes(study.studyInstanceUid))
  );
}

function files(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .map((f) => join(dir, f));
}

describe('Query/Retrieve interop with DCMTK (plain TCP)', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-qr-'));
  const studies: Study[] = [];
  let server: DicomServer;
  let serverPort: number;
  let storescp: DcmtkServer;
  let storescpOut: string;
  const peers: DcmtkServer[] = [];

  before(async () => {
    for (const [i, pid] of ['PAT1', 'PAT2', 'OTHER'].entries()) {
      const inst = makeStudy(join(work, `src-${pid}`), 3, {
        patientId: pid,
        patientName: `Test^${pid}`,
        studyDate: `2024010${i + 1}`,
      });
      const first = inst[0] as (typeof inst)[number];
      studies.push({
        patientId: pid,
        patientName: `Test^${pid}`,
        studyInstanceUid: first.studyInstanceUid,
        studyDate: first.studyDate,
        files: inst.map((x) => x.path),
      });
    }
    storescpOut = join(work, 'move-dest');
    mkdirSync(storescpOut);
    storescp = await startDcmtkServer('storescp', ['-aet', 'STORESCP', '-od', storescpOut]);
    peers.push(storescp);
    server = new DicomServer({
      aet: 'DICOMNET',
      handlers: {
        find: function* (query) {
          for (const s of studies.filter((st) => matches(st, query))) {
            yield datasetFromKeywords({
              QueryRetrieveLevel: 'STUDY',
              PatientID: s.patientId,
              PatientName: s.patientName,
              StudyInstanceUID: s.studyInstanceUid,
              StudyDate: s.studyDate,
            });
          }
        },
        move: async (query, { destination }) => {
          if (destination !== 'STORESCP') return Status.MoveDestinationUnknown;
          return {
            host: '127.0.0.1',
            port: storescp.port,
            files: studies.filter((s) => matches(s, query)).flatMap((s) => s.files),
          };
        },
        get: async (query) => studies.filter((s) => matches(s, query)).flatMap((s) => s.files),
      },
    });
    serverPort = (await server.listen({ port: 0, host: '127.0.0.1' })).port;
  });

  after(async () => {
    for (const p of peers) await p.stop();
    await server?.close();
  });

  test('findscu -> dicomnet server: wildcard matches', async () => {
    const out = join(work, 'find-out');
    mkdirSync(out);
    const r = await run('findscu', [
      '-S',
      '-aec',
      'DICOMNET',
      '-X',
      '-od',
      out,
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      'PatientID=PAT*',
      '-k',
      'StudyInstanceUID',
      '-k',
      'PatientName',
      '127.0.0.1',
      String(serverPort),
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const got = await Promise.all(
      files(out).map(async (f) => (await readPart10(f)).dataset.getString('PatientID')),
    );
    assert.deepEqual(got.sort(), ['PAT1', 'PAT2']);
  });

  test('movescu -> dicomnet server -> storescp destination', async () => {
    const target = studies[0] as Study;
    const r = await run('movescu', [
      '-S',
      '-aec',
      'DICOMNET',
      '-aem',
      'STORESCP',
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${target.studyInstanceUid}`,
      '127.0.0.1',
      String(serverPort),
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(files(storescpOut).length, 3);
  });

  test('movescu to an unknown destination gets 0xA801', async () => {
    const r = await run('movescu', [
      '-v',
      '-S',
      '-aec',
      'DICOMNET',
      '-aem',
      'NOBODY',
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      'PatientID=PAT1',
      '127.0.0.1',
      String(serverPort),
    ]);
    assert.match(r.stdout + r.stderr, /a801|Move ?Destination ?Unknown/i);
  });

  test('getscu -> dicomnet server: the study comes back on the same association', async () => {
    const out = join(work, 'get-out');
    mkdirSync(out);
    const target = studies[1] as Study;
    const r = await run('getscu', [
      '-S',
      '-aec',
      'DICOMNET',
      '-od',
      out,
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${target.studyInstanceUid}`,
      '127.0.0.1',
      String(serverPort),
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(files(out).length, 3);
  });

  describe('dicomnet find/move/get -> dcmqrscp', () => {
    let qrPort: number;
    before(async () => {
      const db = join(work, 'qrdb');
      mkdirSync(db);
      qrPort = await freePort();
      const cfg = join(work, 'dcmqrscp.cfg');
      writeFileSync(
        cfg,
        [
          `NetworkTCPPort = ${qrPort}`,
          'MaxPDUSize = 16384',
          'MaxAssociations = 16',
          'HostTable BEGIN',
          `storescp = (STORESCP, 127.0.0.1, ${storescp.port})`,
          'HostTable END',
          'VendorTable BEGIN',
          'VendorTable END',
          'AETable BEGIN',
          `QRSCP ${db} RW (200, 1024mb) ANY`,
          'AETable END',
          '',
        ].join('\n'),
      );
      const idx = await run('dcmqridx', [db, ...studies.flatMap((s) => s.files)]);
      assert.equal(idx.code, 0, idx.stderr);
      peers.push(
        await startDcmtkServer('dcmqrscp', ['-c', cfg], {
          port: qrPort,
          readyCheck: 'port',
        }),
      );
    });

    test('dicomnet find -L STUDY with a wildcard prints one JSON object per match', async () => {
      const r = await runCli([
        'find',
        '127.0.0.1',
        String(qrPort),
        '--aec',
        'QRSCP',
        '-L',
        'STUDY',
        '-k',
        'PatientID=PAT*',
        '-k',
        'StudyInstanceUID',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, { Value?: string[] }>);
      assert.deepEqual(lines.map((l) => l['00100020']?.Value?.[0]).sort(), ['PAT1', 'PAT2']);
    });

    test('dicomnet get pulls a study into a directory', async () => {
      const out = join(work, 'dicomnet-get');
      const target = studies[2] as Study;
      const r = await runCli([
        'get',
        '127.0.0.1',
        String(qrPort),
        '--aec',
        'QRSCP',
        '--out',
        out,
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${target.studyInstanceUid}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(files(out).length, 3);
    });

    test('dicomnet move sends a study to storescp', async () => {
      const before = files(storescpOut).length;
      const target = studies[2] as Study;
      const r = await runCli([
        'move',
        '127.0.0.1',
        String(qrPort),
        '--aec',
        'QRSCP',
        '--dest',
        'STORESCP',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${target.studyInstanceUid}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(files(storescpOut).length, before + 3);
    });
  });
});
