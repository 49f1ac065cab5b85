import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { AuditMessage } from '../../src/audit/index.js';
import { type RunningNode, startNode } from '../../src/node/node.js';
import { connect } from '../../src/services/client.js';
import { hasDcmtk } from '../helpers/dcmtk.js';
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
      const stored = node.index.allInstances();
      const path = [...stored][0]?.path;
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
      const deleted = all.find((m) => m.eventId.code === '110105');
      assert.equal(deleted?.participantObjects?.[0]?.id, sample.studyInstanceUid);
      assert.match(deleted?.eventOutcomeDescription ?? '', /missing at start-up/);
    } finally {
      await node?.close(0);
    }
  });
});
