import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type Dataset,
  datasetFromJson,
  datasetFromKeywords,
  decodeDataset,
  encodeDataset,
  TransferSyntax,
} from '../../src/data/index.js';
import { CommandField, DimseEndpoint, type IncomingMessage, Status } from '../../src/dimse/index.js';
import { openAssociation } from '../../src/network/transport.js';
import { type RunningNode, startNode } from '../../src/node/node.js';
import { connect } from '../../src/services/client.js';
import { SopClass } from '../../src/services/sop-classes.js';
import { hasDcmtk } from '../helpers/dcmtk.js';
import { makeInstance } from '../helpers/samples.js';

const skip = hasDcmtk() ? false : 'DCMTK (dump2dcm) is not installed';

function commitmentRequest(
  transactionUid: string,
  refs: { sopClassUid: string; sopInstanceUid: string }[],
): Dataset {
  const ds = datasetFromKeywords({ TransactionUID: transactionUid });
  ds.set(
    'ReferencedSOPSequence',
    refs.map((r) =>
      datasetFromKeywords({
        ReferencedSOPClassUID: r.sopClassUid,
        ReferencedSOPInstanceUID: r.sopInstanceUid,
      }),
    ),
  );
  return ds;
}

describe(
  'dicomnet serve services in process: commitment on the same association, MPPS, worklist',
  {
    skip,
  },
  () => {
    const work = mkdtempSync(join(tmpdir(), 'dicomnet-serve-svc-'));
    let node: RunningNode;
    let port: number;
    let stored: ReturnType<typeof makeInstance>;

    before(async () => {
      const worklistDir = join(work, 'worklist');
      mkdirSync(worklistDir);
      const item = (patientId: string, modality: string, date: string) => ({
        '00100010': { vr: 'PN', Value: [{ Alphabetic: `Test^${patientId}` }] },
        '00100020': { vr: 'LO', Value: [patientId] },
        '00080050': { vr: 'SH', Value: [`ACC-${patientId}`] },
        '00400100': {
          vr: 'SQ',
          Value: [
            {
              '00080060': { vr: 'CS', Value: [modality] },
              '00400001': { vr: 'AE', Value: ['SCANNER1'] },
              '00400002': { vr: 'DA', Value: [date] },
            },
          ],
        },
      });
      writeFileSync(join(worklistDir, 'a.json'), JSON.stringify(item('WL1', 'CT', '20250102')));
      writeFileSync(join(worklistDir, 'b.json'), JSON.stringify([item('WL2', 'MR', '20250103')]));
      node = await startNode({
        aet: 'DICOMNET',
        port: 0,
        tlsPort: false,
        host: '127.0.0.1',
        storageDir: join(work, 'storage'),
        worklistDir,
        // plain TCP callers are unknown peers (echo and store only) unless configured
        peers: { MODALITY: { tls: false }, DICOMNET: { tls: false } },
      });
      port = node.ports.plain as number;
      assert.equal(node.worklistItems, 2);
      stored = makeInstance(join(work, 'src'), { pixelBytes: 512 });
      const assoc = await connect({ host: '127.0.0.1', port, calledAet: 'DICOMNET' });
      await assoc.store(stored.path);
      await assoc.release();
    });

    after(async () => {
      await node?.close(0);
    });

    test('storage commitment: N-EVENT-REPORT (event type 1) arrives on the requesting association while it is open', async () => {
      const { channel } = await openAssociation({
        host: '127.0.0.1',
        port,
        callingAet: 'MODALITY',
        calledAet: 'DICOMNET',
        contexts: [
          {
            abstractSyntax: SopClass.StorageCommitmentPushModel,
            transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian],
          },
        ],
      });
      const reports: IncomingMessage[] = [];
      let gotReport: () => void = () => undefined;
      const reported = new Promise<void>((resolve) => {
        gotReport = resolve;
      });
      const endpoint = new DimseEndpoint(channel, {
        onRequest: async (msg, ctx) => {
          reports.push(msg);
          await ctx.respond({
            commandField: CommandField.N_EVENT_REPORT_RSP,
            affectedSopClassUid: msg.command.affectedSopClassUid,
            affectedSopInstanceUid: msg.command.affectedSopInstanceUid,
            eventTypeId: msg.command.eventTypeId,
            status: Status.Success,
            hasDataset: false,
          });
          gotReport();
        },
      });
      const contextId = [...channel.negotiated.contexts.values()].find((c) => c.result === 0)?.id as number;
      const rsp = await endpoint.requestOne({
        contextId,
        command: {
          commandField: CommandField.N_ACTION_RQ,
          messageId: endpoint.nextMessageId(),
          requestedSopClassUid: SopClass.StorageCommitmentPushModel,
          requestedSopInstanceUid: SopClass.StorageCommitmentPushModelInstance,
          actionTypeId: 1,
          hasDataset: true,
        },
        dataset: encodeDataset(commitmentRequest('2.25.42', [stored]), TransferSyntax.ExplicitVRLittleEndian),
      });
      assert.equal(rsp.command.status, Status.Success);
      await reported;
      await channel.release();
      const report = reports[0] as IncomingMessage;
      assert.equal(report.command.commandField, CommandField.N_EVENT_REPORT_RQ);
      assert.equal(report.command.eventTypeId, 1);
      const ds = decodeDataset(report.dataset as Buffer, report.transferSyntax);
      assert.equal(ds.getString('TransactionUID'), '2.25.42');
      assert.equal(ds.getString('RetrieveAETitle'), 'DICOMNET');
      assert.deepEqual(
        ds.getSequence('ReferencedSOPSequence')?.map((i) => i.getString('ReferencedSOPInstanceUID')),
        [stored.sopInstanceUid],
      );
      assert.equal(ds.getSequence('FailedSOPSequence'), undefined);
    });

    test('storage commitment: a request without Transaction UID is refused (0x0115), an unknown action (0x0123)', async () => {
      const assoc = await connect({ host: '127.0.0.1', port, calledAet: 'DICOMNET' });
      const bad = datasetFromKeywords({ PatientID: 'X' });
      const action = (actionTypeId: number, ds: Dataset) =>
        assoc.request(
          SopClass.StorageCommitmentPushModel,
          {
            commandField: CommandField.N_ACTION_RQ,
            requestedSopClassUid: SopClass.StorageCommitmentPushModel,
            requestedSopInstanceUid: SopClass.StorageCommitmentPushModelInstance,
            actionTypeId,
            hasDataset: true,
          },
          ds,
        );
      assert.equal((await action(1, bad)).command.status, Status.InvalidArgumentValue);
      assert.equal(
        (await action(7, commitmentRequest('2.25.7', [stored]))).command.status,
        Status.NoSuchAction,
      );
      await assoc.release();
    });

    test('MPPS: N-CREATE IN PROGRESS, duplicate refused, N-SET COMPLETED, then frozen; unknown step 0x0112', async () => {
      const assoc = await connect({ host: '127.0.0.1', port, callingAet: 'MODALITY', calledAet: 'DICOMNET' });
      const uid = '2.25.777001';
      const create = (ds: Dataset, sopInstanceUid?: string) =>
        assoc.request(
          SopClass.ModalityPerformedProcedureStep,
          {
            commandField: CommandField.N_CREATE_RQ,
            affectedSopClassUid: SopClass.ModalityPerformedProcedureStep,
            affectedSopInstanceUid: sopInstanceUid,
            hasDataset: true,
          },
          ds,
        );
      const set = (ds: Dataset, sopInstanceUid: string) =>
        assoc.request(
          SopClass.ModalityPerformedProcedureStep,
          {
            commandField: CommandField.N_SET_RQ,
            requestedSopClassUid: SopClass.ModalityPerformedProcedureStep,
            requestedSopInstanceUid: sopInstanceUid,
            hasDataset: true,
          },
          ds,
        );
      const inProgress = datasetFromKeywords({
        PatientID: 'WL1',
        PerformedProcedureStepStatus: 'IN PROGRESS',
        PerformedStationAETitle: 'SCANNER1',
      });
      assert.equal((await create(inProgress, uid)).command.status, Status.Success);
      assert.equal((await create(inProgress, uid)).command.status, 0x0111);
      const generated = await create(inProgress);
      assert.equal(generated.command.status, Status.Success);
      assert.match(generated.command.affectedSopInstanceUid ?? '', /^2\.25\.\d+$/);
      const done = datasetFromKeywords({ PerformedProcedureStepStatus: 'COMPLETED' });
      assert.equal((await set(done, uid)).command.status, Status.Success);
      const frozen = (await set(done, uid)).command;
      assert.equal(frozen.status, Status.ProcessingFailure);
      assert.equal(
        frozen.errorId,
        0xa710,
        'PS3.4 F.7.2.2: Error ID A710, performed procedure step object may no longer be updated',
      );
      assert.equal((await set(done, '2.25.404')).command.status, Status.NoSuchSopInstance);
      const step = node.index.mpps.get(uid);
      assert.equal(step?.state, 'COMPLETED');
      assert.equal(step?.callingAet, 'MODALITY');
      await assoc.release();
    });

    test('Modality Worklist C-FIND matches a sequence key (Modality in the Scheduled Procedure Step)', async () => {
      const assoc = await connect({ host: '127.0.0.1', port, calledAet: 'DICOMNET' });
      const query = datasetFromJson({
        '00100020': { vr: 'LO' },
        '00100010': { vr: 'PN' },
        '00400100': {
          vr: 'SQ',
          Value: [
            {
              '00080060': { vr: 'CS', Value: ['MR'] },
              '00400002': { vr: 'DA', Value: ['20250101-20250131'] },
            },
          ],
        },
      });
      const matches = [];
      for await (const m of assoc.find(query, { model: 'worklist' })) matches.push(m);
      assert.equal(matches.length, 1);
      assert.deepEqual(matches[0]?.['00100020']?.Value, ['WL2']);
      const all = [];
      for await (const m of assoc.find({ PatientID: 'WL*' }, { model: 'worklist' })) all.push(m);
      assert.equal(all.length, 2);
      await assoc.release();
    });
  },
);
