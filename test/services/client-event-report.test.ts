import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dataset } from '../../src/data/index.js';
import { CommandField, Status } from '../../src/dimse/index.js';
import { connect, type EventReport } from '../../src/services/client.js';
import { DicomServer } from '../../src/services/server.js';
import { SopClass } from '../../src/services/sop-classes.js';

test('a requestor receives N-EVENT-REPORT on its own association (storage commitment style)', async () => {
  const server = new DicomServer({
    aet: 'DICOMNET',
    handlers: {
      nService: async (request, ctx) => {
        assert.equal(request.commandField, CommandField.N_ACTION_RQ);
        const transactionUid = request.dataset?.getString('TransactionUID') ?? '';
        // answer the N-ACTION first, then report on the same association
        setImmediate(() => {
          const result = new Dataset().set('TransactionUID', transactionUid);
          void ctx.peer.request(
            SopClass.StorageCommitmentPushModel,
            {
              commandField: CommandField.N_EVENT_REPORT_RQ,
              affectedSopClassUid: SopClass.StorageCommitmentPushModel,
              affectedSopInstanceUid: SopClass.StorageCommitmentPushModelInstance,
              eventTypeId: 1,
              hasDataset: true,
            },
            result,
          );
        });
        return { status: Status.Success };
      },
    },
  });
  const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
  try {
    let resolveReport: (r: EventReport) => void = () => undefined;
    const reported = new Promise<EventReport>((r) => {
      resolveReport = r;
    });
    const assoc = await connect({
      host: '127.0.0.1',
      port,
      calledAet: 'DICOMNET',
      onEventReport: (report) => {
        resolveReport(report);
        return Status.Success;
      },
    });
    const action = await assoc.request(
      SopClass.StorageCommitmentPushModel,
      {
        commandField: CommandField.N_ACTION_RQ,
        requestedSopClassUid: SopClass.StorageCommitmentPushModel,
        requestedSopInstanceUid: SopClass.StorageCommitmentPushModelInstance,
        actionTypeId: 1,
        hasDataset: true,
      },
      new Dataset().set('TransactionUID', '2.25.1234'),
    );
    assert.equal(action.command.status, Status.Success);
    const report = await reported;
    assert.equal(report.eventTypeId, 1);
    assert.equal(report.dataset?.getString('TransactionUID'), '2.25.1234');
    await assoc.release();
  } finally {
    await server.close();
  }
});
