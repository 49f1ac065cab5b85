import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CommandField,
  commandFieldName,
  DimseStatusError,
  describeStatus,
  errorKindOf,
  Status,
  statusCategory,
} from './status-helpers.js';

test('statusCategory follows PS3.7 C.1–C.5', () => {
  const expected: [number, string][] = [
    [0x0000, 'success'],
    [0xff00, 'pending'],
    [0xff01, 'pending'],
    [0xfe00, 'cancel'],
    [0x0001, 'warning'],
    [0x0107, 'warning'],
    [0x0116, 'warning'],
    [0xb000, 'warning'],
    [0xb006, 'warning'],
    [0xb007, 'warning'],
    [0xbfff, 'warning'],
    [0xa700, 'failure'],
    [0xa7ff, 'failure'],
    [0xa801, 'failure'],
    [0xa900, 'failure'],
    [0xc000, 'failure'],
    [0xcfff, 'failure'],
    [0x0105, 'failure'],
    [0x0110, 'failure'],
    [0x0122, 'failure'],
    [0x0211, 'failure'],
    [0x0213, 'failure'],
    [0x1234, 'failure'],
  ];
  for (const [code, category] of expected) assert.equal(statusCategory(code), category, code.toString(16));
});

test('describeStatus gives the service-specific meaning of shared codes', () => {
  assert.equal(describeStatus(0xa700, CommandField.C_STORE_RQ), 'Refused: Out of Resources');
  assert.equal(describeStatus(0xa7ff, CommandField.C_STORE_RSP), 'Refused: Out of Resources');
  assert.equal(describeStatus(0xb000, CommandField.C_STORE_RSP), 'Warning: Coercion of data elements');
  assert.equal(
    describeStatus(0xb000, CommandField.C_MOVE_RSP),
    'Warning: Sub-operations Complete - One or more Failures or Warnings',
  );
  assert.equal(describeStatus(0xc123, CommandField.C_STORE_RQ), 'Error: Cannot understand');
  assert.equal(describeStatus(0xc123, CommandField.C_FIND_RQ), 'Failed: Unable to process');
  assert.equal(describeStatus(0xa9ab, CommandField.C_STORE_RQ), 'Error: Data Set does not match SOP Class');
  assert.equal(describeStatus(0xa900, CommandField.C_GET_RQ), 'Failed: Identifier does not match SOP Class');
  assert.equal(describeStatus(0xa801, CommandField.C_MOVE_RQ), 'Refused: Move Destination unknown');
  assert.equal(describeStatus(0xb007), 'Warning: Data Set does not match SOP Class');
  assert.equal(describeStatus(Status.NoSuchSopInstance), 'Failure: No such SOP Instance');
  assert.equal(describeStatus(Status.NotAuthorized), 'Refused: Not authorized');
  assert.equal(describeStatus(Status.Cancel), 'Cancel: operation terminated due to a cancel request');
  assert.equal(describeStatus(0x1234), 'Unknown failure status');
});

test('DimseStatusError names the service, the code and its meaning', () => {
  const err = new DimseStatusError(0xa700, CommandField.C_STORE_RQ);
  assert.equal(err.message, 'C-STORE failed: status 0xA700 (Refused: Out of Resources)');
  assert.equal(err.code, 'ERR_DIMSE_STATUS');
  assert.equal(errorKindOf(err), 'dimse');
  assert.equal(err.status, 0xa700);
  assert.equal(err.commandField, CommandField.C_STORE_RQ);
  const withComment = new DimseStatusError(0xc001, CommandField.C_FIND_RSP, 'bad query');
  assert.equal(withComment.message, 'C-FIND failed: status 0xC001 (Failed: Unable to process): bad query');
  assert.equal(withComment.errorComment, 'bad query');
  const cancelled = new DimseStatusError(0xfe00, CommandField.C_MOVE_RQ);
  assert.match(cancelled.message, /^C-MOVE was cancelled: status 0xFE00/);
});

test('command field names', () => {
  assert.equal(commandFieldName(0x0001), 'C-STORE-RQ');
  assert.equal(commandFieldName(0x8150), 'N-DELETE-RSP');
  assert.equal(commandFieldName(0x0fff), 'C-CANCEL-RQ');
  assert.equal(commandFieldName(0x8fff), '0x8FFF');
  assert.equal(commandFieldName(0x0042), '0x0042');
});
