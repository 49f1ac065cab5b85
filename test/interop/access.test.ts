import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { datasetFromKeywords } from '../../src/data/index.js';
import { CommandField, Status } from '../../src/dimse/index.js';
import { type Association, connect } from '../../src/services/client.js';
import { serviceContexts } from '../../src/services/presentation.js';
import { SopClass } from '../../src/services/sop-classes.js';
import { runCli } from '../helpers/cli.js';
import { type DcmtkServer, freePort, hasDcmtk, run, startDcmtkServer } from '../helpers/dcmtk.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { makeStudy } from '../helpers/samples.js';
import { type ServeProcess, startServe } from './node-helpers.js';

/** Wait (up to 10 s) until the node's log matches `pattern`. */
async function logged(node: ServeProcess, pattern: RegExp): Promise<void> {
  const by = Date.now() + 10_000;
  while (!pattern.test(node.stderr()) && Date.now() < by) await new Promise((r) => setTimeout(r, 50));
  assert.match(node.stderr(), pattern);
}

const skip = hasDcmtk() ? false : 'DCMTK is not installed';

interface AuditRecord {
  eventId: { code: string };
  eventTypeCode?: { code: string };
  eventOutcomeDescription?: string;
  activeParticipants: { userId: string; alternativeUserId?: string; networkAccessPointId?: string }[];
  participantObjects?: { detail?: Record<string, unknown> }[];
}

describe('access control of dicomnet serve, with DCMTK peers', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-access-'));
  const auditFile = join(work, 'audit.log');
  let pki: TestPki;
  let serve: ServeProcess;
  let plainPort: number;
  let tlsPort: number;
  let dest: DcmtkServer;
  let other: DcmtkServer;
  const destDir = join(work, 'dest');
  const otherDir = join(work, 'other');
  let studyUid: string;
  let study: string[];

  const dcmtkTls = (): string[] => ['+tls', pki.client.key, pki.client.cert, '+cf', pki.caCert];
  const key = (): string[] => ['-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${studyUid}`];
  const plain = (aet: string): string[] => ['-aet', aet, '-aec', 'DICOMNET', '127.0.0.1', String(plainPort)];
  const secure = (aet: string): string[] => [
    ...dcmtkTls(),
    ...['-aet', aet, '-aec', 'DICOMNET', '127.0.0.1', String(tlsPort)],
  ];
  const files = (dir: string): string[] => readdirSync(dir).filter((f) => !f.startsWith('.'));

  /** Security Alerts of access refusals for `aet` (Use of Restricted Function, with a rule). */
  const refusals = (aet: string): AuditRecord[] =>
    readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as AuditRecord)
      .filter(
        (r) =>
          r.eventId.code === '110113' &&
          r.participantObjects?.[0]?.detail?.rule !== undefined &&
          r.activeParticipants[0]?.userId === aet,
      );

  /** Audit records are flushed in the background: wait for `n` of them. */
  async function expectRefusals(
    aet: string,
    n: number,
    services: string,
    rule: RegExp,
  ): Promise<AuditRecord> {
    const by = Date.now() + 10_000;
    while (refusals(aet).length < n && Date.now() < by) await new Promise((r) => setTimeout(r, 50));
    const got = refusals(aet);
    assert.equal(got.length, n, `${n} access refusal(s) audited for ${aet}: ${JSON.stringify(got)}`);
    const last = got[n - 1] as AuditRecord;
    assert.equal(last.participantObjects?.[0]?.detail?.services, services);
    assert.match(String(last.participantObjects?.[0]?.detail?.rule), rule);
    assert.equal(last.activeParticipants[0]?.networkAccessPointId, '127.0.0.1');
    return last;
  }

  before(async () => {
    pki = await makeTestPki(mkdtempSync(join(work, 'pki-')));
    const made = makeStudy(join(work, 'study'), 3, { pixelBytes: 1024, patientId: 'ACC1' });
    study = made.map((s) => s.path);
    studyUid = made[0]?.studyInstanceUid as string;
    mkdirSync(destDir);
    mkdirSync(otherDir);
    dest = await startDcmtkServer('storescp', ['-aet', 'DEST', '-od', destDir]);
    other = await startDcmtkServer('storescp', ['-aet', 'OTHER', '-od', otherDir]);
    const config = join(work, 'node.json');
    writeFileSync(
      config,
      JSON.stringify({
        audit: { file: auditFile, fsync: 'always' },
        peers: {
          NARROW: { allow: ['echo', 'find'] },
          MOVER: { moveDestinations: ['DEST'] },
          DEST: { host: '127.0.0.1', port: dest.port },
          OTHER: { host: '127.0.0.1', port: other.port },
          BOUNDDEST: { host: '127.0.0.1', port: other.port, identity: ['bound.example.org'] },
          NOCOMMIT: { allow: ['echo', 'store', 'mpps'] },
        },
      }),
    );
    plainPort = await freePort();
    tlsPort = await freePort();
    serve = await startServe(
      [
        ...['--storage', join(work, 'storage'), '--port', String(plainPort), '--tls-port', String(tlsPort)],
        ...['--host', '127.0.0.1', '--key', pki.server.key, '--cert', pki.server.cert, '--ca', pki.caCert],
        ...['--config', config],
      ],
      { cwd: work, waitPort: tlsPort, timeoutMs: 30_000 },
    );
    // the study is there for the queries and retrieves below
    const stored = await run('storescu', [...secure('LOADER'), ...study], { timeoutMs: 60_000 });
    assert.equal(stored.code, 0, stored.stdout + stored.stderr);
  });

  after(async () => {
    await serve?.stop();
    await dest?.stop();
    await other?.stop();
  });

  test('banner: both listeners, their addresses, client certificates required, access defaults', () => {
    const out = serve.stdout();
    assert.match(
      out,
      new RegExp(
        `plain DICOM on 127\\.0\\.0\\.1:${plainPort} \\(unauthenticated, unencrypted: this machine only\\)`,
      ),
    );
    assert.match(
      out,
      new RegExp(`DICOM over TLS on 127\\.0\\.0\\.1:${tlsPort}, client certificates required`),
    );
    assert.match(out, /unknown peers \(no client certificate\) +echo, store\n/);
    assert.match(
      out,
      /authenticated peers \(certificate from the CA\) +echo, store, find, get, worklist, mpps, commitment\n/,
    );
  });

  test('plain TCP, unknown AE: echoscu and storescu succeed; findscu, getscu, movescu are refused at negotiation', async () => {
    const echo = await run('echoscu', plain('STRANGER'));
    assert.equal(echo.code, 0, echo.stdout + echo.stderr);
    const store = await run('storescu', [...plain('STRANGER'), ...study]);
    assert.equal(store.code, 0, store.stdout + store.stderr);

    const find = await run('findscu', ['-S', ...plain('FINDER'), ...key()]);
    assert.notEqual(find.code, 0);
    assert.match(find.stdout + find.stderr, /Association Rejected|Calling AE Title Not Recognized/i);
    assert.doesNotMatch(find.stdout + find.stderr, /Pending/);
    await expectRefusals('FINDER', 1, 'find', /^access\.unknownPeers$/);

    const out = join(work, 'getscu-unknown');
    mkdirSync(out);
    const get = await run('getscu', ['-S', '-od', out, ...plain('GETTER'), ...key()]);
    assert.notEqual(get.code, 0);
    assert.deepEqual(files(out), [], 'nothing was sent');
    await expectRefusals('GETTER', 1, 'get', /^access\.unknownPeers$/);

    const move = await run('movescu', ['-S', '-aem', 'DEST', ...plain('MOVER2'), ...key()]);
    assert.notEqual(move.code, 0);
    assert.deepEqual(files(destDir), [], 'nothing was moved');
    // movescu proposes C-FIND beside C-MOVE: one record names both
    await expectRefusals('MOVER2', 1, 'find, move', /^access\.unknownPeers$/);
    await logged(
      serve,
      /no presentation context left: C-FIND, C-MOVE are not allowed for MOVER2 \(unknown peer/,
    );
  });

  test('TLS with the client certificate, AE not configured: echo, store, find (DCMTK) and get succeed; move is refused', async () => {
    assert.equal((await run('echoscu', secure('CERTAE'))).code, 0);
    const store = await run('storescu', [...secure('CERTAE'), ...study]);
    assert.equal(store.code, 0, store.stdout + store.stderr);
    const find = await run('findscu', ['-S', ...secure('CERTAE'), ...key()]);
    assert.equal(find.code, 0, find.stdout + find.stderr);
    assert.equal((find.stdout + find.stderr).match(/\(Pending\)/g)?.length, 1);
    // getscu has no TLS (DCMTK 3.6.7): the dicomnet client retrieves with the same certificate
    const out = join(work, 'get-cert');
    const get = await runCli([
      ...['get', '--tls', '--key', pki.client.key, '--cert', pki.client.cert, '--ca', pki.caCert],
      ...['--aet', 'CERTAE', '--aec', 'DICOMNET', '--out', out, '127.0.0.1', String(tlsPort), ...key()],
    ]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(files(out).length, 3);
    assert.deepEqual(refusals('CERTAE'), [], 'nothing refused so far');

    // movescu has no TLS either (DCMTK 3.6.7)
    const move = await runCli([
      ...['move', '--tls', '--key', pki.client.key, '--cert', pki.client.cert, '--ca', pki.caCert],
      ...['--aet', 'CERTAE', '--aec', 'DICOMNET', '--dest', 'DEST', '127.0.0.1', String(tlsPort), ...key()],
    ]);
    assert.notEqual(move.code, 0);
    assert.match(
      move.stderr,
      /C-MOVE not accepted by DICOMNET: presentation context rejected \(user rejection\)/,
    );
    assert.deepEqual(files(destDir), []);
    const alert = await expectRefusals('CERTAE', 1, 'move', /^access\.authenticatedPeers$/);
    assert.match(
      alert.activeParticipants[0]?.alternativeUserId ?? '',
      /CN=client/,
      'the certificate subject is named',
    );
  });

  test('a configured peer with allow [echo, find]: find works, store is refused', async () => {
    const find = await run('findscu', ['-S', ...plain('NARROW'), ...key()]);
    assert.equal(find.code, 0, find.stdout + find.stderr);
    const store = await run('storescu', [...plain('NARROW'), ...study]);
    assert.notEqual(store.code, 0);
    await expectRefusals('NARROW', 1, 'store', /^peers\.NARROW\.allow$/);
  });

  test('moveDestinations [DEST]: move to DEST works; to another configured peer or an identity-bound one: 0xA801', async () => {
    const ok = await run('movescu', ['-S', '-aem', 'DEST', ...plain('MOVER'), ...key()], {
      timeoutMs: 60_000,
    });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(files(destDir).length, 3, dest.output());

    const toOther = await run('movescu', ['-S', '-aem', 'OTHER', ...plain('MOVER'), ...key()]);
    assert.match(toOther.stdout + toOther.stderr, /a801|Move ?Destination ?Unknown/i);
    await expectRefusals('MOVER', 1, 'move', /^peers\.MOVER\.moveDestinations$/);
    const toBound = await run('movescu', ['-S', '-aem', 'BOUNDDEST', ...plain('MOVER'), ...key()]);
    assert.match(toBound.stdout + toBound.stderr, /a801|Move ?Destination ?Unknown/i);
    await expectRefusals('MOVER', 2, 'move', /^peers\.MOVER\.moveDestinations$/);
    assert.deepEqual(files(otherDir), [], 'nothing reached the destinations MOVER may not use');
  });

  test('the dicomnet client prints one line naming the refusal', async () => {
    const find = await runCli([
      'find',
      '--aet',
      'CLIFIND',
      '--aec',
      'DICOMNET',
      '127.0.0.1',
      String(plainPort),
      ...key(),
    ]);
    assert.notEqual(find.code, 0);
    assert.equal(
      find.stderr.trim(),
      'dicomnet: C-FIND not accepted by DICOMNET: presentation context rejected (user rejection)',
    );
    assert.equal(find.stdout, '');
    await expectRefusals('CLIFIND', 1, 'find', /^access\.unknownPeers$/);

    const move = await runCli([
      ...['move', '--aet', 'MOVER', '--aec', 'DICOMNET', '--dest', 'OTHER'],
      ...['127.0.0.1', String(plainPort), ...key()],
    ]);
    assert.equal(move.code, 1);
    assert.equal(
      move.stderr.trim(),
      'dicomnet: C-MOVE refused: OTHER is not an allowed destination for MOVER (0xA801)',
    );
    await expectRefusals('MOVER', 3, 'move', /^peers\.MOVER\.moveDestinations$/);
  });

  test('MPPS: an N-SET from another AE on a step it did not create is refused; commitment without the service is refused', async () => {
    const tls = { key: pki.client.key, cert: pki.client.cert, ca: [pki.caCert] };
    // propose only the service used, so that no other context is refused (and audited)
    const open = (callingAet: string, sopClass: string, port = tlsPort): Promise<Association> =>
      connect({
        host: '127.0.0.1',
        port,
        callingAet,
        calledAet: 'DICOMNET',
        contexts: serviceContexts([SopClass.Verification, sopClass]),
        ...(port === tlsPort ? { tls } : {}),
      });
    const uid = '2.25.4242001';
    const creator = await open('MODA', SopClass.ModalityPerformedProcedureStep);
    const created = await creator.request(
      SopClass.ModalityPerformedProcedureStep,
      {
        commandField: CommandField.N_CREATE_RQ,
        affectedSopClassUid: SopClass.ModalityPerformedProcedureStep,
        affectedSopInstanceUid: uid,
        hasDataset: true,
      },
      datasetFromKeywords({ PatientID: 'ACC1', PerformedProcedureStepStatus: 'IN PROGRESS' }),
    );
    assert.equal(created.command.status, Status.Success);
    const set = (assoc: Association, status: string) =>
      assoc.request(
        SopClass.ModalityPerformedProcedureStep,
        {
          commandField: CommandField.N_SET_RQ,
          requestedSopClassUid: SopClass.ModalityPerformedProcedureStep,
          requestedSopInstanceUid: uid,
          hasDataset: true,
        },
        datasetFromKeywords({ PerformedProcedureStepStatus: status }),
      );
    const intruder = await open('MODB', SopClass.ModalityPerformedProcedureStep);
    const refused = await set(intruder, 'DISCONTINUED');
    assert.equal(refused.command.status, Status.NotAuthorized);
    assert.match(refused.command.errorComment ?? '', /created by MODA/);
    await intruder.release();
    await expectRefusals('MODB', 1, 'mpps', /^mpps\.stepCreator$/);
    assert.equal((await set(creator, 'COMPLETED')).command.status, Status.Success, 'its creator may');
    await creator.release();

    // a configured peer whose allow list has no commitment: the context is rejected (user rejection)
    const noCommit = await open('NOCOMMIT', SopClass.StorageCommitmentPushModel, plainPort);
    await assert.rejects(
      noCommit.request(
        SopClass.StorageCommitmentPushModel,
        {
          commandField: CommandField.N_ACTION_RQ,
          requestedSopClassUid: SopClass.StorageCommitmentPushModel,
          requestedSopInstanceUid: SopClass.StorageCommitmentPushModelInstance,
          actionTypeId: 1,
          hasDataset: true,
        },
        datasetFromKeywords({ TransactionUID: '2.25.4242002' }),
      ),
      /Storage Commitment not accepted by DICOMNET: presentation context rejected \(user rejection\)/,
    );
    await noCommit.release();
    const alert = await expectRefusals('NOCOMMIT', 1, 'commitment', /^peers\.NOCOMMIT\.allow$/);
    assert.match(
      alert.eventOutcomeDescription ?? '',
      /Storage Commitment is not allowed for configured peer NOCOMMIT/,
    );
  });

  test('an anonymous TLS client is refused (client certificates are required)', async () => {
    const anonymous = await run('echoscu', [
      ...['+tla', '+cf', pki.caCert, '-aet', 'ANON', '-aec', 'DICOMNET', '127.0.0.1', String(tlsPort)],
    ]);
    assert.notEqual(anonymous.code, 0);
    // the node's log line may reach the pipe a moment after the client has exited
    await logged(serve, /sent no certificate, but one is required/);
    const cli = await runCli([
      'echo',
      '--tls',
      '--ca',
      pki.caCert,
      '--aec',
      'DICOMNET',
      '127.0.0.1',
      String(tlsPort),
    ]);
    assert.equal(cli.code, 4, cli.stderr);
  });

  test('serve with its own key and certificate but no --ca does not start: client certificates need a CA', async () => {
    const args = ['serve', '--storage', join(work, 'no-ca'), '--port', 'off'];
    const refused = await runCli([
      ...args,
      ...['--tls-port', String(await freePort()), '--key', pki.server.key, '--cert', pki.server.cert],
    ]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /requires client certificates on its TLS listener: give --ca .* or --no-require-peer-cert/,
    );
  });
});
