import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { datasetFromKeywords } from '../../src/data/index.js';
import { CommandField, Status } from '../../src/dimse/index.js';
import { connect } from '../../src/services/client.js';
import { DicomServer, type NRequest } from '../../src/services/server.js';
import { SopClass } from '../../src/services/sop-classes.js';
import { runCli } from '../helpers/cli.js';
import { type DcmtkServer, freePort, hasDcmtk, run, startDcmtkServer } from '../helpers/dcmtk.js';
import { makeTestPki, TEST_KEY_PASSWORD, type TestPki } from '../helpers/pki.js';
import { makeInstance, makeStudy } from '../helpers/samples.js';
import { type ServeProcess, startServe } from './node-helpers.js';

const skip = hasDcmtk() ? false : 'DCMTK is not installed';

type Sample = ReturnType<typeof makeInstance>;

/** Every `.dcm` file below `dir` (recursive). */
function dcmFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...dcmFiles(p));
    else if (e.name.endsWith('.dcm') || /^[A-Z]{2}\./.test(e.name)) out.push(p);
  }
  return out;
}

/** Pending C-FIND responses findscu printed, with the value of one tag in each. */
function findscuMatches(output: string, tag = '(0020,000d)'): string[] {
  const blocks = output.split(/Find Response: \d+ \(Pending\)/).slice(1);
  return blocks.map((b) => {
    const line = b.split('\n').find((l) => l.includes(tag));
    return line?.match(/\[([^\]]*)\]/)?.[1]?.trim() ?? '';
  });
}

describe('dicomnet serve with DCMTK peers (plain and TLS with mutual authentication)', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-node-'));
  const storage = join(work, 'storage');
  let pki: TestPki;
  let serve: ServeProcess;
  let plainPort: number;
  let tlsPort: number;
  let storescp: DcmtkServer;
  const moveDest = join(work, 'move-dest');
  let commitReceiver: DicomServer;
  const reports: NRequest[] = [];
  let studyA: Sample[];
  let studyB: Sample[];
  let studyC: Sample[];

  const dcmtkTls = (): string[] => ['+tls', pki.client.key, pki.client.cert, '+cf', pki.caCert];
  const cliTls = (): string[] => [
    '--tls',
    '--key',
    pki.client.key,
    '--cert',
    pki.client.cert,
    '--ca',
    pki.caCert,
  ];

  before(async () => {
    pki = await makeTestPki(mkdtempSync(join(work, 'pki-')));
    const small = { pixelBytes: 2048 };
    studyA = makeStudy(join(work, 'A'), 50, {
      ...small,
      patientId: 'PAT100',
      patientName: 'Alpha^One',
      studyDate: '20240105',
      modality: 'CT',
    });
    studyB = makeStudy(join(work, 'B'), 50, {
      ...small,
      patientId: 'PAT200',
      patientName: 'Beta^Two',
      studyDate: '20240320',
      modality: 'MR',
      sopClassUid: '1.2.840.10008.5.1.4.1.1.4',
    });
    studyC = makeStudy(join(work, 'C'), 3, {
      ...small,
      patientId: 'XYZ300',
      patientName: 'Gamma^Three',
      studyDate: '20230601',
    });
    mkdirSync(moveDest);
    storescp = await startDcmtkServer('storescp', [
      '-aet',
      'STORESCP',
      '+tls',
      pki.server.key,
      pki.server.cert,
      '+cf',
      pki.caCert,
      '-od',
      moveDest,
    ]);
    commitReceiver = new DicomServer({
      aet: 'COMMITSCU',
      handlers: {
        nService: async (request) => {
          reports.push(request);
          return { status: Status.Success };
        },
      },
    });
    const commitPort = (await commitReceiver.listen({ port: 0, host: '127.0.0.1' })).port;
    const config = join(work, 'node.json');
    const passphraseFile = join(work, 'client-key-password.txt');
    writeFileSync(passphraseFile, `${TEST_KEY_PASSWORD}\n`);
    writeFileSync(
      config,
      JSON.stringify({
        peers: {
          STORESCP: { host: '127.0.0.1', port: storescp.port, tls: true },
          // the same storescp, with its own client key (encrypted) and the expected certificate name
          STORESCPNAMED: {
            host: '127.0.0.1',
            port: storescp.port,
            tls: true,
            serverName: 'localhost',
            client: { key: pki.clientEncryptedKey, cert: pki.client.cert, passphraseFile },
          },
          STORESCPWRONG: {
            host: '127.0.0.1',
            port: storescp.port,
            tls: true,
            serverName: 'wrong.example.org',
          },
          COMMITSCU: { host: '127.0.0.1', port: commitPort, tls: false },
          BOUNDMOD: { host: '127.0.0.1', port: commitPort, tls: true, identity: ['client'] },
          // the DCMTK tools' own calling AE titles and dicomnet's default: plain TCP callers
          // may only echo and store unless configured
          FINDSCU: { allow: ['echo', 'find'] },
          MOVESCU: { allow: ['move'], moveDestinations: ['STORESCP'] },
          GETSCU: { allow: ['get'] },
          DICOMNET: { moveDestinations: ['*'] },
        },
      }),
    );
    plainPort = await freePort();
    tlsPort = await freePort();
    serve = await startServe(
      [
        '--storage',
        storage,
        '--host',
        '127.0.0.1',
        '--port',
        String(plainPort),
        '--tls-port',
        String(tlsPort),
        '--key',
        pki.server.key,
        '--cert',
        pki.server.cert,
        '--ca',
        pki.caCert,
        '--require-peer-cert',
        '--client-key',
        pki.client.key,
        '--client-cert',
        pki.client.cert,
        '--config',
        config,
      ],
      { cwd: work, waitPort: tlsPort },
    );
  });

  after(async () => {
    await serve?.stop('SIGKILL');
    await storescp?.stop();
    await commitReceiver?.close();
  });

  test('storescu stores a study of 50 instances (plain TCP)', async () => {
    const r = await run(
      'storescu',
      ['-aec', 'DICOMNET', '127.0.0.1', String(plainPort), ...studyA.map((s) => s.path)],
      {
        timeoutMs: 60_000,
      },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const first = studyA[0] as Sample;
    assert.equal(dcmFiles(join(storage, first.studyInstanceUid, first.seriesInstanceUid)).length, 50);
  });

  test('storescu +tls stores a study of 50 instances (mutual authentication); the association is logged with TLS details', async () => {
    const r = await run(
      'storescu',
      [
        ...dcmtkTls(),
        '-aet',
        'MODALITY',
        '-aec',
        'DICOMNET',
        '127.0.0.1',
        String(tlsPort),
        ...studyB.map((s) => s.path),
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const first = studyB[0] as Sample;
    assert.equal(dcmFiles(join(storage, first.studyInstanceUid)).length, 50);
    const deadline = Date.now() + 5000;
    let summary: Record<string, unknown> | undefined;
    while (!summary && Date.now() < deadline) {
      summary = serve.logLines().find((l) => l.msg === 'association ended' && l.callingAet === 'MODALITY');
      if (!summary) await new Promise((res) => setTimeout(res, 50));
    }
    assert.ok(summary, 'one summary line per association');
    assert.equal(summary.instances, 50);
    assert.ok((summary.bytes as number) > 50 * 2048);
    const tls = summary.tls as { protocol: string; cipherSuite: string; peerCertificate?: string };
    assert.match(tls.protocol, /^TLSv1\.[23]$/);
    assert.match(tls.cipherSuite, /^TLS_/);
    assert.match(tls.peerCertificate ?? '', /CN=client/);
    const audit = serve
      .logLines()
      .map((l) => l.audit as { eventId: { code: string }; eventActionCode: string } | undefined)
      .filter((a) => a?.eventId.code === '110104' && a.eventActionCode === 'C');
    assert.ok(audit.length >= 2, 'DICOM Instances Transferred (create) audit events');
  });

  test('dicomnet store --tls stores a third study', async () => {
    const r = await runCli([
      'store',
      ...cliTls(),
      '--aec',
      'DICOMNET',
      '-q',
      '127.0.0.1',
      String(tlsPort),
      join(work, 'C'),
    ]);
    assert.equal(r.code, 0, r.stderr);
  });

  const a = () => studyA[0] as Sample;
  const b = () => studyB[0] as Sample;
  const c = () => studyC[0] as Sample;

  test('findscu at PATIENT, STUDY, SERIES and IMAGE level with wildcard and date-range keys', async () => {
    const findscu = async (args: string[], tls = false) => {
      const r = await run('findscu', [
        ...(tls ? dcmtkTls() : []),
        '-aec',
        'DICOMNET',
        ...args,
        '127.0.0.1',
        String(tls ? tlsPort : plainPort),
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      return r.stdout + r.stderr;
    };
    const patients = findscuMatches(
      await findscu(['-P', '-k', 'QueryRetrieveLevel=PATIENT', '-k', 'PatientID=PAT*', '-k', 'PatientName']),
      '(0010,0020)',
    );
    assert.deepEqual(patients.sort(), ['PAT100', 'PAT200']);
    const in2024 = findscuMatches(
      await findscu([
        '-S',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        'StudyDate=20240101-20241231',
        '-k',
        'StudyInstanceUID',
      ]),
    );
    assert.deepEqual(in2024.sort(), [a().studyInstanceUid, b().studyInstanceUid].sort());
    const before2024 = findscuMatches(
      await findscu(
        ['-S', '-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyDate=-20231231', '-k', 'StudyInstanceUID'],
        true,
      ),
    );
    assert.deepEqual(before2024, [c().studyInstanceUid]);
    const beta = findscuMatches(
      await findscu([
        '-S',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        'PatientName=Be*',
        '-k',
        'StudyInstanceUID',
      ]),
    );
    assert.deepEqual(beta, [b().studyInstanceUid]);
    const series = findscuMatches(
      await findscu([
        '-S',
        '-k',
        'QueryRetrieveLevel=SERIES',
        '-k',
        `StudyInstanceUID=${a().studyInstanceUid}`,
        '-k',
        'SeriesInstanceUID',
        '-k',
        'Modality=C?',
      ]),
      '(0020,000e)',
    );
    assert.deepEqual(series, [a().seriesInstanceUid]);
    const images = findscuMatches(
      await findscu([
        '-S',
        '-k',
        'QueryRetrieveLevel=IMAGE',
        '-k',
        `StudyInstanceUID=${a().studyInstanceUid}`,
        '-k',
        `SeriesInstanceUID=${a().seriesInstanceUid}`,
        '-k',
        'SOPInstanceUID',
      ]),
      '(0008,0018)',
    );
    assert.deepEqual(images.sort(), studyA.map((s) => s.sopInstanceUid).sort());
  });

  test('dicomnet find returns the same matches (TLS)', async () => {
    const find = async (args: string[]) => {
      const r = await runCli([
        'find',
        ...cliTls(),
        '--aec',
        'DICOMNET',
        '127.0.0.1',
        String(tlsPort),
        ...args,
      ]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, { Value?: unknown[] }>);
    };
    const uid = (m: Record<string, { Value?: unknown[] }>, tag: string) => String(m[tag]?.Value?.[0] ?? '');
    const patients = await find(['-m', 'patient', '-L', 'PATIENT', '-k', 'PatientID=PAT*']);
    assert.deepEqual(patients.map((m) => uid(m, '00100020')).sort(), ['PAT100', 'PAT200']);
    const studies = await find([
      '-L',
      'STUDY',
      '-k',
      'StudyDate=20240101-20241231',
      '-k',
      'StudyInstanceUID',
    ]);
    assert.deepEqual(
      studies.map((m) => uid(m, '0020000D')).sort(),
      [a().studyInstanceUid, b().studyInstanceUid].sort(),
    );
    const images = await find([
      '-L',
      'IMAGE',
      '-k',
      `StudyInstanceUID=${b().studyInstanceUid}`,
      '-k',
      'SOPInstanceUID',
    ]);
    assert.equal(images.length, 50);
  });

  test('a malformed query value gets a C-FIND failure status and the node keeps serving', async () => {
    const r = await run('findscu', [
      '-S',
      '-aec',
      'DICOMNET',
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      'StudyDate=2024-13-45x',
      '127.0.0.1',
      String(plainPort),
    ]);
    const out = r.stdout + r.stderr;
    assert.doesNotMatch(out, /Pending/);
    const cli = await runCli([
      'find',
      '--aec',
      'DICOMNET',
      '127.0.0.1',
      String(plainPort),
      '-L',
      'STUDY',
      '-k',
      'StudyDate=2024-13-45x',
    ]);
    assert.equal(cli.code, 1, `exit 1 on a DIMSE failure status: ${cli.stderr}`);
    assert.match(
      cli.stderr,
      /C-FIND failed: status 0xC000/,
      'PS3.4 C.4.1: Cxxx unable to process, not the N-service 0x0110',
    );
    const echo = await run('echoscu', ['-aec', 'DICOMNET', '127.0.0.1', String(plainPort)]);
    assert.equal(echo.code, 0, echo.stdout + echo.stderr);
  });

  test('movescu moves a study to a storescp peer configured with tls: true', async () => {
    const r = await run(
      'movescu',
      [
        '-S',
        '-aec',
        'DICOMNET',
        '-aem',
        'STORESCP',
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${a().studyInstanceUid}`,
        '127.0.0.1',
        String(plainPort),
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const moved = dcmFiles(moveDest);
    assert.equal(moved.length, 50, r.stdout + r.stderr + storescp.output());
  });

  test('dicomnet move --tls to the same peer; an unknown destination is refused with 0xA801', async () => {
    const r = await runCli([
      'move',
      ...cliTls(),
      '--aec',
      'DICOMNET',
      '--dest',
      'STORESCP',
      '127.0.0.1',
      String(tlsPort),
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${c().studyInstanceUid}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /completed 3/);
    assert.equal(dcmFiles(moveDest).length, 53);
    const unknown = await runCli([
      'move',
      '--aec',
      'DICOMNET',
      '--dest',
      'NOBODY',
      '127.0.0.1',
      String(plainPort),
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${c().studyInstanceUid}`,
    ]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /A801|[Dd]estination/);
    // an AE title that names an Object.prototype member is not a configured peer either
    const inherited = await runCli([
      'move',
      '--aec',
      'DICOMNET',
      '--dest',
      'constructor',
      '127.0.0.1',
      String(plainPort),
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${c().studyInstanceUid}`,
    ]);
    assert.equal(inherited.code, 1, inherited.stderr);
    assert.match(inherited.stderr, /A801|[Dd]estination/);
  });

  test('C-MOVE to TLS peers: per-peer client credentials and expected server certificate name', async () => {
    const move = (dest: string) =>
      runCli([
        'move',
        '--aec',
        'DICOMNET',
        '--dest',
        dest,
        '127.0.0.1',
        String(plainPort),
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${c().studyInstanceUid}`,
      ]);
    const named = await move('STORESCPNAMED');
    assert.equal(named.code, 0, named.stderr);
    assert.match(named.stdout, /completed 3/);
    const wrong = await move('STORESCPWRONG');
    assert.notEqual(wrong.code, 0, wrong.stdout);
    assert.doesNotMatch(wrong.stdout, /completed 3/);
    assert.match(serve.stderr(), /wrong\.example\.org/);
  });

  test('getscu retrieves a study', async () => {
    const out = join(work, 'getscu-out');
    mkdirSync(out);
    const r = await run(
      'getscu',
      [
        '-S',
        '-aec',
        'DICOMNET',
        '-od',
        out,
        '-k',
        'QueryRetrieveLevel=STUDY',
        '-k',
        `StudyInstanceUID=${b().studyInstanceUid}`,
        '127.0.0.1',
        String(plainPort),
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(readdirSync(out).length, 50, r.stdout + r.stderr);
  });

  test('dicomnet get --tls retrieves a study', async () => {
    const out = join(work, 'get-out');
    const r = await runCli([
      'get',
      ...cliTls(),
      '--aec',
      'DICOMNET',
      '--out',
      out,
      '127.0.0.1',
      String(tlsPort),
      '-k',
      'QueryRetrieveLevel=STUDY',
      '-k',
      `StudyInstanceUID=${a().studyInstanceUid}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(dcmFiles(out).length, 50);
  });

  test('concurrent stores of one SOP Instance UID end in exactly one stored instance', async () => {
    const one = makeInstance(join(work, 'dup'), { patientId: 'DUP1', pixelBytes: 65536 });
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        i % 2 === 0
          ? run('storescu', ['-aec', 'DICOMNET', '127.0.0.1', String(plainPort), one.path])
          : run('storescu', [...dcmtkTls(), '-aec', 'DICOMNET', '127.0.0.1', String(tlsPort), one.path]),
      ),
    );
    for (const r of results) assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(readdirSync(join(storage, one.studyInstanceUid, one.seriesInstanceUid)), [
      `${one.sopInstanceUid}.dcm`,
    ]);
    const r = await runCli([
      'find',
      '--aec',
      'DICOMNET',
      '127.0.0.1',
      String(plainPort),
      '-L',
      'IMAGE',
      '-k',
      `StudyInstanceUID=${one.studyInstanceUid}`,
      '-k',
      'SOPInstanceUID',
    ]);
    assert.equal(r.stdout.trim().split('\n').length, 1);
  });

  test('storage commitment: success for stored instances, failure 0x0112 for unknown ones, report on a new association to the configured peer', async () => {
    const assoc = await connect({
      host: '127.0.0.1',
      port: tlsPort,
      callingAet: 'COMMITSCU',
      calledAet: 'DICOMNET',
      tls: { key: pki.client.key, cert: pki.client.cert, ca: [pki.caCert] },
    });
    const ref = (s: Sample) => ({
      ReferencedSOPClassUID: s.sopClassUid,
      ReferencedSOPInstanceUID: s.sopInstanceUid,
    });
    const unknown = {
      ReferencedSOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
      ReferencedSOPInstanceUID: '2.25.999999',
    };
    const request = async (transactionUid: string, refs: Record<string, string>[]) => {
      const ds = datasetFromKeywords({ TransactionUID: transactionUid });
      ds.set(
        'ReferencedSOPSequence',
        refs.map((r) => datasetFromKeywords(r)),
      );
      const rsp = await assoc.request(
        SopClass.StorageCommitmentPushModel,
        {
          commandField: CommandField.N_ACTION_RQ,
          requestedSopClassUid: SopClass.StorageCommitmentPushModel,
          requestedSopInstanceUid: SopClass.StorageCommitmentPushModelInstance,
          actionTypeId: 1,
          hasDataset: true,
        },
        ds,
      );
      assert.equal(rsp.command.status, Status.Success);
    };
    await request('2.25.1001', [ref(studyA[0] as Sample), ref(studyB[1] as Sample), unknown]);
    // dicomnet's client answers an N-EVENT-REPORT on its own association with 0x0211, so the
    // node falls back to a new association to the peer configured as COMMITSCU. (Releasing
    // at once races the report: the client cannot answer it while awaiting A-RELEASE-RP.)
    const deadline = Date.now() + 10_000;
    while (reports.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await assoc.release();
    assert.equal(reports.length, 1, serve.stderr().slice(-2000));
    const report = reports[0] as NRequest;
    assert.equal(report.commandField, CommandField.N_EVENT_REPORT_RQ);
    assert.equal(report.eventTypeId, 2);
    const ds = report.dataset;
    assert.ok(ds);
    assert.equal(ds.getString('TransactionUID'), '2.25.1001');
    assert.deepEqual(
      ds.getSequence('ReferencedSOPSequence')?.map((i) => i.getString('ReferencedSOPInstanceUID')),
      [(studyA[0] as Sample).sopInstanceUid, (studyB[1] as Sample).sopInstanceUid],
    );
    const failed = ds.getSequence('FailedSOPSequence') ?? [];
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.getString('ReferencedSOPInstanceUID'), '2.25.999999');
    assert.equal(failed[0]?.getNumber('FailureReason'), 0x0112);
  });

  test('a client certificate from an untrusted CA is refused and audited as a Security Alert', async () => {
    const r = await run('echoscu', [
      '+tls',
      pki.untrustedClient.key,
      pki.untrustedClient.cert,
      '+cf',
      pki.caCert,
      '-aec',
      'DICOMNET',
      '127.0.0.1',
      String(tlsPort),
    ]);
    assert.notEqual(r.code, 0);
    const deadline = Date.now() + 5000;
    const alert = () =>
      serve
        .logLines()
        .find((l) => (l.audit as { eventId?: { code: string } } | undefined)?.eventId?.code === '110113');
    while (!alert() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const line = alert();
    assert.ok(line, 'Security Alert audit event');
    const audit = line.audit as { activeParticipants: { networkAccessPointId?: string }[] };
    assert.equal(audit.activeParticipants[0]?.networkAccessPointId?.replace(/^::ffff:/, ''), '127.0.0.1');
  });

  test('a calling AE title bound to a certificate identity: accepted over TLS with that certificate, rejected and audited otherwise', async () => {
    const ok = await run('echoscu', [
      ...dcmtkTls(),
      '-aet',
      'BOUNDMOD',
      '-aec',
      'DICOMNET',
      '127.0.0.1',
      String(tlsPort),
    ]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const refused = await run('echoscu', [
      '-aet',
      'BOUNDMOD',
      '-aec',
      'DICOMNET',
      '127.0.0.1',
      String(plainPort),
    ]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stdout + refused.stderr, /[Rr]eject/);
    const deadline = Date.now() + 5000;
    const rejected = () =>
      serve.logLines().filter((l) => {
        const a = l.audit as
          { eventOutcomeIndicator: number; activeParticipants: { userId: string }[] } | undefined;
        return a?.eventOutcomeIndicator === 4 && a.activeParticipants[0]?.userId === 'BOUNDMOD';
      });
    while (rejected().length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    assert.equal(rejected().length, 1, 'one Login failure audit event naming the AE title');
  });

  test('SIGTERM stops the node gracefully (exit 0, Application Stop audited)', async () => {
    const code = await serve.stop('SIGTERM');
    assert.equal(code, 0, serve.stderr().slice(-2000));
    assert.ok(serve.logLines().some((l) => String(l.msg).includes('Application Stop')));
  });
});
