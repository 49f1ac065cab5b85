import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Dataset, datasetFromKeywords, encodeDataset, TransferSyntax } from '../../src/data/index.js';
import { CommandField, DimseEndpoint, Status } from '../../src/dimse/index.js';
import { openAssociation } from '../../src/network/transport.js';
import type { CommitmentDelivery } from '../../src/node/service-commitment.js';
import { type NodeOptions, type RunningNode, startNode } from '../../src/node/node.js';
import { connect } from '../../src/services/client.js';
import { DicomServer, type NRequest } from '../../src/services/server.js';
import { SopClass } from '../../src/services/sop-classes.js';
import { freePort } from '../helpers/dcmtk.js';
import { makeInstance } from '../helpers/samples.js';

function commitmentRequest(transactionUid: string, sopClassUid: string, sopInstanceUid: string): Dataset {
  const ds = datasetFromKeywords({ TransactionUID: transactionUid });
  ds.set('ReferencedSOPSequence', [
    datasetFromKeywords({ ReferencedSOPClassUID: sopClassUid, ReferencedSOPInstanceUID: sopInstanceUid }),
  ]);
  return ds;
}

test('storage commitment: a report that could not be delivered is persisted and sent after a restart', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-commit-retry-'));
  const receiverPort = await freePort();
  const deliveries: CommitmentDelivery[] = [];
  let delivered: () => void = () => undefined;
  const nextDelivery = () =>
    new Promise<void>((resolve) => {
      delivered = resolve;
    });
  const options: NodeOptions = {
    aet: 'DICOMNET',
    port: 0,
    tlsPort: false,
    host: '127.0.0.1',
    storageDir: join(work, 'storage'),
    peers: { MODALITY: { host: '127.0.0.1', port: receiverPort, tls: false } },
    commitmentRetryMs: 0,
    onCommitmentReport: (r) => {
      deliveries.push(r.delivery);
      delivered();
    },
  };
  let node: RunningNode | undefined = await startNode(options);
  let receiver: DicomServer | undefined;
  t.after(async () => {
    await node?.close(0);
    await receiver?.close();
    rmSync(work, { recursive: true, force: true });
  });
  const port = () => node?.ports.plain as number;
  const stored = makeInstance(join(work, 'src'), { pixelBytes: 256 });
  const store = await connect({ host: '127.0.0.1', port: port(), calledAet: 'DICOMNET' });
  await store.store(stored.path);
  await store.release();

  // the requestor goes away right after the N-ACTION-RSP and nobody listens at its peer address
  let reported = nextDelivery();
  const { channel } = await openAssociation({
    host: '127.0.0.1',
    port: port(),
    callingAet: 'MODALITY',
    calledAet: 'DICOMNET',
    contexts: [
      {
        abstractSyntax: SopClass.StorageCommitmentPushModel,
        transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian],
      },
    ],
  });
  const endpoint = new DimseEndpoint(channel, {});
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
    dataset: encodeDataset(
      commitmentRequest('2.25.777', stored.sopClassUid, stored.sopInstanceUid),
      TransferSyntax.ExplicitVRLittleEndian,
    ),
  });
  assert.equal(rsp.command.status, Status.Success);
  channel.abort();
  await reported;
  assert.equal(deliveries[0]?.via, 'undelivered');
  const before = node.index.commitments.get('2.25.777');
  assert.equal(before?.attempts, 1);
  assert.equal(before?.deliveredAt, undefined);
  assert.equal(before?.result?.success[0]?.sopInstanceUid, stored.sopInstanceUid);
  await node.close(0);
  node = undefined;

  // the requestor is back: the restarted node sends the report on a new association
  const reports: NRequest[] = [];
  receiver = new DicomServer({
    aet: 'MODALITY',
    handlers: {
      nService: async (request) => {
        reports.push(request);
        return { status: Status.Success };
      },
    },
  });
  await receiver.listen({ port: receiverPort, host: '127.0.0.1' });
  reported = nextDelivery();
  node = await startNode(options);
  await reported;
  assert.equal(deliveries[1]?.via, 'new-association');
  assert.equal(reports.length, 1);
  assert.equal(reports[0]?.eventTypeId, 1);
  const items = reports[0]?.dataset?.getSequence('ReferencedSOPSequence') ?? [];
  assert.equal(items[0]?.getString('ReferencedSOPInstanceUID'), stored.sopInstanceUid);
  const after = node.index.commitments.get('2.25.777');
  assert.ok(after?.deliveredAt, 'marked delivered');
  assert.deepEqual(node.index.commitments.pending(20), []);
});

test('storage commitment: a pending report is not sent to a peer that may no longer use commitment', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-commit-refused-'));
  const receiverPort = await freePort();
  const deliveries: CommitmentDelivery[] = [];
  let delivered: () => void = () => undefined;
  const nextDelivery = () =>
    new Promise<void>((resolve) => {
      delivered = resolve;
    });
  const options: NodeOptions = {
    aet: 'DICOMNET',
    port: 0,
    tlsPort: false,
    host: '127.0.0.1',
    storageDir: join(work, 'storage'),
    peers: { MODALITY: { host: '127.0.0.1', port: receiverPort, tls: false } },
    commitmentRetryMs: 0,
    onCommitmentReport: (r) => {
      deliveries.push(r.delivery);
      delivered();
    },
  };
  let node: RunningNode | undefined = await startNode(options);
  const reports: NRequest[] = [];
  const receiver = new DicomServer({
    aet: 'MODALITY',
    handlers: {
      nService: async (request) => {
        reports.push(request);
        return { status: Status.Success };
      },
    },
  });
  t.after(async () => {
    await node?.close(0);
    await receiver.close();
    rmSync(work, { recursive: true, force: true });
  });
  const stored = makeInstance(join(work, 'src'), { pixelBytes: 256 });
  const port = node.ports.plain as number;
  const store = await connect({ host: '127.0.0.1', port, calledAet: 'DICOMNET' });
  await store.store(stored.path);
  await store.release();
  let reported = nextDelivery();
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
  const endpoint = new DimseEndpoint(channel, {});
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
    dataset: encodeDataset(
      commitmentRequest('2.25.778', stored.sopClassUid, stored.sopInstanceUid),
      TransferSyntax.ExplicitVRLittleEndian,
    ),
  });
  assert.equal(rsp.command.status, Status.Success);
  channel.abort();
  await reported;
  assert.equal(deliveries[0]?.via, 'undelivered');
  await node.close(0);
  node = undefined;

  // the peer is reachable now, but its allow list no longer has commitment
  await receiver.listen({ port: receiverPort, host: '127.0.0.1' });
  reported = nextDelivery();
  node = await startNode({
    ...options,
    peers: { MODALITY: { host: '127.0.0.1', port: receiverPort, tls: false, allow: ['echo', 'store'] } },
  });
  await reported;
  const refused = deliveries[1];
  assert.equal(refused?.via, 'undelivered');
  assert.match(
    refused?.via === 'undelivered' ? refused.reason : '',
    /commitment is not allowed for configured peer MODALITY \(peers\.MODALITY\.allow\)/,
  );
  assert.equal(reports.length, 0, 'nothing was sent to the peer');
});
