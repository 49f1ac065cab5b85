/**
 * The release race: our requestor sent A-RELEASE-RQ (Sta7) and the peer still sends P-DATA.
 * PS3.8 allows P-DATA-TF in Sta7 (AR-6, P-DATA indication): a late response reaches its request,
 * a new request from the peer is ignored (no P-DATA may be sent after A-RELEASE-RQ, PS3.8 7.2.2;
 * pynetdicom ignores it too), and the release completes instead of being aborted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CommandField, DimseEndpoint, encodeCommandSet, Status } from '../../src/dimse/index.js';
import type { AssociationChannel, ChannelCloseReason } from '../../src/network/index.js';
import {
  associate,
  basicPolicy,
  collectMessagePart,
  echoRq,
  startAcceptor,
  type TestAcceptor,
  VERIFICATION,
  within,
} from '../network/helpers.js';

function closedOf(channel: AssociationChannel): Promise<ChannelCloseReason> {
  return new Promise((resolve) => channel.once('closed', resolve));
}

function releaseRequested(channel: AssociationChannel): Promise<void> {
  return new Promise((resolve) => channel.on('releaseRequested', resolve));
}

describe('P-DATA received while our A-RELEASE-RQ is pending (Sta7)', () => {
  let acceptor: TestAcceptor;
  before(async () => {
    acceptor = await startAcceptor(() => basicPolicy());
  });
  after(() => acceptor.close());

  test('a late response reaches its request and the release completes', async () => {
    const [channel, server] = await Promise.all([associate(acceptor.port), acceptor.nextChannel()]);
    const endpoint = new DimseEndpoint(channel);
    const serverClosed = closedOf(server);
    const clientClosed = closedOf(channel);
    const rqArrived = collectMessagePart(server, true);
    const serverReleaseRq = releaseRequested(server);
    const response = endpoint.requestOne({
      contextId: 1,
      command: { commandField: CommandField.C_ECHO_RQ, affectedSopClassUid: VERIFICATION, hasDataset: false },
    });
    const rq = await within(rqArrived, 5000, 'C-ECHO-RQ at the acceptor');
    assert.equal(rq.length, 1);
    const release = channel.release();
    await within(serverReleaseRq, 5000, 'A-RELEASE-RQ at the acceptor');
    // Sta8 on the acceptor: the late C-ECHO-RSP, then A-RELEASE-RP
    await server.sendPdvs([
      {
        contextId: 1,
        command: true,
        last: true,
        data: encodeCommandSet({
          commandField: CommandField.C_ECHO_RSP,
          messageIdBeingRespondedTo: 1,
          affectedSopClassUid: VERIFICATION,
          status: Status.Success,
          hasDataset: false,
        }),
      },
    ]);
    server.respondRelease();
    const rsp = await within(response, 5000, 'late C-ECHO-RSP');
    assert.equal(rsp.command.status, Status.Success);
    await within(release, 5000, 'release');
    assert.deepEqual(await clientClosed, { kind: 'released' });
    assert.deepEqual(await serverClosed, { kind: 'released' });
  });

  test('a new request from the peer is ignored, not answered and not aborted; the release completes', async () => {
    const [channel, server] = await Promise.all([associate(acceptor.port), acceptor.nextChannel()]);
    let performed = 0;
    new DimseEndpoint(channel, {
      onRequest: async (_msg, ctx) => {
        performed++;
        await ctx.respond({
          commandField: CommandField.C_ECHO_RSP,
          status: Status.Success,
          affectedSopClassUid: VERIFICATION,
          hasDataset: false,
        });
      },
    });
    const clientClosed = closedOf(channel);
    const serverClosed = closedOf(server);
    const serverReleaseRq = releaseRequested(server);
    const answered = collectMessagePart(server, true);
    let answer = false;
    void answered.then(() => {
      answer = true;
    });
    const release = channel.release();
    await within(serverReleaseRq, 5000, 'A-RELEASE-RQ at the acceptor');
    await server.sendPdvs([{ contextId: 1, command: true, last: true, data: echoRq(7) }]);
    // give the requestor time to (wrongly) answer or abort before the A-RELEASE-RP
    await new Promise((r) => setTimeout(r, 100));
    server.respondRelease();
    await within(release, 5000, 'release');
    assert.deepEqual(await clientClosed, { kind: 'released' });
    assert.deepEqual(await serverClosed, { kind: 'released' });
    assert.equal(performed, 0, 'a request received during release is not performed');
    assert.equal(answer, false, 'no P-DATA was sent after A-RELEASE-RQ');
  });
});
