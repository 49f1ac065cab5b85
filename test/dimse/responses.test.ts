import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CommandField, responseTo, Status } from '../../src/dimse/index.js';

test('responseTo answers a request: response field, Message ID, SOP class and instance, no data set', () => {
  assert.deepEqual(
    responseTo(
      {
        commandField: CommandField.C_STORE_RQ,
        messageId: 7,
        affectedSopClassUid: '1.2.3',
        affectedSopInstanceUid: '1.2.3.4',
        hasDataset: true,
      },
      Status.OutOfResources,
    ),
    {
      commandField: CommandField.C_STORE_RSP,
      messageIdBeingRespondedTo: 7,
      status: Status.OutOfResources,
      hasDataset: false,
      affectedSopClassUid: '1.2.3',
      affectedSopInstanceUid: '1.2.3.4',
    },
  );
  // N-GET names the requested instance; the response names it as the affected one
  const rsp = responseTo(
    {
      commandField: CommandField.N_GET_RQ,
      messageId: 9,
      requestedSopClassUid: '1.2',
      requestedSopInstanceUid: '1.2.5',
      hasDataset: false,
    },
    Status.NoSuchSopInstance,
  );
  assert.equal(rsp.commandField, CommandField.N_GET_RSP);
  assert.equal(rsp.affectedSopClassUid, '1.2');
  assert.equal(rsp.affectedSopInstanceUid, '1.2.5');
  assert.equal(rsp.requestedSopInstanceUid, undefined);
});
