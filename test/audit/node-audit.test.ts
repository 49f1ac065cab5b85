import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { AuditMessage } from '../../src/audit/index.js';
import { connect as netConnect } from 'node:net';
import { defaultNodeConfig } from '../../src/node/config.js';
import { type RunningNode, startNode } from '../../src/node/node.js';
import { AdmissionRefusedError } from '../../src/services/admission.js';
import { connect } from '../../src/services/client.js';
import { freePort, hasDcmtk } from '../helpers/dcmtk.js';
import { makeInstance } from '../helpers/samples.js';

const skip = hasDcmtk() ? false : 'DCMTK (dump2dcm) is not installed';

function records(path: string): AuditMessage[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditMessage);
}

describe('the node library writes its audit trail to the configured file', { skip }, () => {
  test('stored, queried, and removed at restart when the file vanished (Study Deleted); the file is appended across restarts', async () => {
    const work = mkdtempSync(join(tmpdir(), 'audit-node-'));
    const auditFile = join(work, 'audit.log');
    const storageDir = join(work, 'storage');
    const start = () =>
      startNode({
        aet: 'DICOMNET',
        port: 0,
        tlsPort: false,
        host: '127.0.0.1',
        storageDir,
        peers: { MODALITY: { tls: false } },
        audit: { file: auditFile },
      });
    let node: RunningNode | undefined = await start();
    try {
      const sample = makeInstance(join(work, 'src'), { pixelBytes: 256, patientId: 'AUD42' });
      const assoc = await connect({
        host: '127.0.0.1',
        port: node.ports.plain as number,
        callingAet: 'MODALITY',
        calledAet: 'DICOMNET',
      });
      await assoc.store(sample.path);
      const matches = [];
      for await (const m of assoc.find({
        QueryRetrieveLevel: 'STUDY',
        PatientID: 'AUD42',
        StudyInstanceUID: '',
      }))
        matches.push(m);
      assert.equal(matches.length, 1);
      await assoc.release();
      let path: string | undefined;
      for await (const stored of node.index.allInstances()) path ??= stored.path;
      assert.ok(path);
      await node.close(2000);
      node = undefined;

      rmSync(path);
      node = await start();
      await node.close(2000);
      node = undefined;

      const all = records(auditFile);
      const codes = all.map((m) => m.eventTypeCode?.code ?? `${m.eventId.code}${m.eventActionCode}`);
      assert.deepEqual(codes, [
        '110120',
        '110122',
        '110112E',
        '110104C',
        '110121',
        '110120',
        '110105D',
        '110121',
      ]);
      const transferred = all.find((m) => m.eventId.code === '110104');
      assert.equal(transferred?.participantObjects?.[0]?.id, sample.studyInstanceUid);
      assert.deepEqual(transferred?.participantObjects?.[0]?.detail, { instances: 1 });
      const patient = transferred?.participantObjects?.[1];
      assert.deepEqual([patient?.typeCode, patient?.typeCodeRole, patient?.id], [1, 1, 'AUD42']);
      const deleted = all.find((m) => m.eventId.code === '110105');
      assert.equal(deleted?.participantObjects?.[0]?.id, sample.studyInstanceUid);
      assert.match(deleted?.eventOutcomeDescription ?? '', /missing at start-up/);
    } finally {
      await node?.close(0);
    }
  });
});

describe('C-MOVE / C-GET audit records count the instances sent, not those selected', { skip }, () => {
  test('a failed sub-operation, a destination that cannot be reached, and a complete retrieve', async () => {
    const work = mkdtempSync(join(tmpdir(), 'audit-retrieve-'));
    const auditFile = join(work, 'audit.log');
    const node = await startNode({
      aet: 'DICOMNET',
      port: 0,
      tlsPort: false,
      host: '127.0.0.1',
      storageDir: join(work, 'storage'),
      peers: {
        GONE: { host: '127.0.0.1', port: await freePort(), tls: false },
        VIEWER: { tls: false, moveDestinations: ['GONE'] },
      },
      audit: { file: auditFile, fsync: 'always' },
    });
    const retrieved = () =>
      records(auditFile).filter((m) => m.eventId.code === '110104' && m.eventActionCode === 'R');
    try {
      const study = '2.25.77001';
      const port = node.ports.plain as number;
      const store = await connect({ host: '127.0.0.1', port, callingAet: 'MODALITY', calledAet: 'DICOMNET' });
      for (let i = 1; i <= 3; i++)
        await store.store(
          makeInstance(join(work, 'src'), {
            pixelBytes: 256,
            patientId: 'RET1',
            studyInstanceUid: study,
            instanceNumber: i,
          }).path,
        );
      await store.release();

      let calls = 0;
      const viewer = await connect({
        host: '127.0.0.1',
        port,
        callingAet: 'VIEWER',
        calledAet: 'DICOMNET',
        tempDir: join(work, 'get'),
        // the second instance is refused by the requestor: that sub-operation fails
        onStore: () => (++calls === 2 ? 0xa700 : 0),
      });
      const query = { QueryRetrieveLevel: 'STUDY', StudyInstanceUID: study };
      const partial = await viewer.get(query);
      assert.deepEqual([partial.completed, partial.failed], [2, 1]);
      // the destination cannot be reached: the C-MOVE fails as a whole
      await assert.rejects(viewer.move(query, 'GONE'), /0xC000/);
      calls = 10;
      const whole = await viewer.get(query);
      assert.equal(whole.completed, 3);
      await viewer.release();

      const [get1, move, get2] = retrieved();
      assert.equal(retrieved().length, 3);
      assert.equal(get1?.eventOutcomeIndicator, 4);
      assert.deepEqual(get1?.participantObjects?.[0]?.detail, { instances: 2 }, 'two of the three were sent');
      assert.equal(get1?.eventOutcomeDescription, '2 of 3 instances sent; 1 sub-operations failed');
      assert.equal(move?.eventOutcomeIndicator, 8);
      assert.deepEqual(move?.participantObjects ?? [], [], 'nothing reached the unreachable destination');
      assert.match(move?.eventOutcomeDescription ?? '', /^0 of 3 instances sent; stopped: /);
      assert.ok(move?.activeParticipants.some((p) => p.userId === 'GONE'));
      assert.equal(get2?.eventOutcomeIndicator, 0);
      assert.equal(get2?.eventOutcomeDescription, undefined);
      assert.deepEqual(get2?.participantObjects?.[0]?.detail, { instances: 3 });
      assert.deepEqual(
        get2?.participantObjects?.map((o) => [o.typeCode, o.id]),
        [
          [2, study],
          [1, 'RET1'],
        ],
        'the retrieved study and its patient',
      );
    } finally {
      await node.close(0);
    }
  });
});

describe('admission refusals in the audit trail', () => {
  test('a node with a low rate limit hammered by 200 connections writes one Security Alert, not hundreds; the count comes with it', async () => {
    const work = mkdtempSync(join(tmpdir(), 'audit-refusals-'));
    const auditFile = join(work, 'audit.log');
    const node = await startNode({
      aet: 'DICOMNET',
      port: 0,
      tlsPort: false,
      host: '127.0.0.1',
      storageDir: join(work, 'storage'),
      limits: { ...defaultNodeConfig().limits, maxAssociationsPerMinutePerAddress: 5 },
      audit: { file: auditFile, fsync: 'always' },
    });
    let refused = 0;
    node.server.on('connectionError', (err: unknown) => {
      if (err instanceof AdmissionRefusedError) refused++;
    });
    const alerts = () => records(auditFile).filter((m) => m.eventTypeCode?.code === '110132');
    try {
      for (let i = 0; i < 200; i++) {
        await new Promise<void>((resolve) => {
          const s = netConnect({ port: node.ports.plain as number, host: '127.0.0.1' }, () => {
            s.destroy();
            resolve();
          });
          s.once('error', () => resolve());
        });
      }
      const deadline = Date.now() + 5000;
      while (refused < 195 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(refused, 195, 'all but the first 5 are refused');
      await new Promise((r) => setTimeout(r, 300));
      const running = alerts();
      assert.equal(running.length, 1, 'one record for the whole flood while it lasts');
      const first = running[0] as AuditMessage;
      assert.equal(first.eventId.code, '110113');
      assert.equal(first.eventOutcomeIndicator, 4);
      assert.equal(first.activeParticipants[0]?.networkAccessPointId, '127.0.0.1');
      assert.deepEqual(
        {
          limit: first.participantObjects?.[0]?.detail?.limit,
          refusals: first.participantObjects?.[0]?.detail?.refusals,
        },
        { limit: 'maxAssociationsPerMinutePerAddress', refusals: 1 },
      );
    } finally {
      await node.close(0);
    }
    // stopping writes the refusals folded since: every refusal is accounted for
    const all = alerts();
    assert.equal(all.length, 2);
    assert.equal(all[1]?.participantObjects?.[0]?.detail?.refusals, 194);
    assert.match(
      all[1]?.eventOutcomeDescription ?? '',
      /^194 connections from 127\.0\.0\.1 refused by maxAssociationsPerMinutePerAddress/,
    );
  });
});
