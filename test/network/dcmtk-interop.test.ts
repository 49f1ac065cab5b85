/** Acceptance against real DCMTK 3.6.7 peers: storescp as acceptor, echoscu as requestor. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type AssociationChannel,
  AssociationRejectedError,
  type ChannelCloseReason,
} from '../../src/network/index.js';
import { type DcmtkServer, hasDcmtk, run, startDcmtkServer } from '../helpers/dcmtk.js';
import {
  associate,
  basicPolicy,
  collectMessagePart,
  echoRq,
  IMPLICIT_LE,
  parseCommandSet,
  serveEcho,
  startAcceptor,
  type TestAcceptor,
  VERIFICATION,
  within,
} from './helpers.js';

const skip = hasDcmtk() ? false : 'DCMTK not installed';

async function echoOver(channel: AssociationChannel, messageId: number): Promise<number> {
  const contextId = [...channel.negotiated.contexts.values()].find((c) => c.result === 0)?.id;
  assert.ok(contextId, 'an accepted context');
  const response = collectMessagePart(channel, true);
  await channel.sendPdvs([{ contextId, command: true, last: true, data: echoRq(messageId) }]);
  const pdvs = await within(response, 5000, 'C-ECHO-RSP');
  const cmd = parseCommandSet(Buffer.concat(pdvs.map((p) => p.data)));
  assert.equal(cmd.get(0x0100)?.readUInt16LE(0), 0x8030, 'command field is C-ECHO-RSP');
  assert.equal(cmd.get(0x0120)?.readUInt16LE(0), messageId, 'message ID being responded to');
  return cmd.get(0x0900)?.readUInt16LE(0) ?? -1;
}

describe('requestor against DCMTK storescp', { skip }, () => {
  let storescp: DcmtkServer;
  let small: DcmtkServer;
  before(async () => {
    storescp = await startDcmtkServer('storescp', ['--output-directory', '/tmp']);
    small = await startDcmtkServer('storescp', ['--max-pdu', '4096', '--output-directory', '/tmp']);
  });
  after(async () => {
    await storescp?.stop();
    await small?.stop();
  });

  test('C-ECHO over an association negotiated with storescp, then release', async () => {
    const channel = await associate(storescp.port, {
      calledAet: 'STORESCP',
      contexts: [{ abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] }],
    });
    const ctx = channel.negotiated.contexts.get(1);
    assert.equal(ctx?.result, 0);
    assert.equal(ctx?.transferSyntax, IMPLICIT_LE);
    assert.match(channel.negotiated.peerImplementationVersionName ?? '', /OFFIS_DCMTK/);
    assert.equal(await echoOver(channel, 7), 0x0000);
    const closed = new Promise<ChannelCloseReason>((resolve) => channel.once('closed', resolve));
    await within(channel.release(), 5000, 'release');
    assert.deepEqual(await closed, { kind: 'released' });
  });

  test('storescp --max-pdu 4096: peer max honoured, large PDVs fragmented', async () => {
    const channel = await associate(small.port, { calledAet: 'STORESCP', maxPduLength: 1024 * 1024 });
    assert.equal(channel.negotiated.peerMaxPduLength, 4096);
    assert.equal(channel.maxSendPdvDataLength, 4090);
    assert.equal(await echoOver(channel, 1), 0x0000);
    await within(channel.release(), 5000, 'release');
  });

  test('a rejected abstract syntax is reported with result 3', async () => {
    const channel = await associate(storescp.port, {
      calledAet: 'STORESCP',
      contexts: [
        { abstractSyntax: VERIFICATION, transferSyntaxes: [IMPLICIT_LE] },
        { abstractSyntax: '1.2.3.4.5.6.7', transferSyntaxes: [IMPLICIT_LE] },
      ],
    });
    assert.equal(channel.negotiated.contexts.get(3)?.result, 3);
    await channel.release();
  });
});

describe('acceptor against DCMTK echoscu', { skip }, () => {
  let acceptor: TestAcceptor;
  before(async () => {
    acceptor = await startAcceptor(() => basicPolicy());
    // Answer C-ECHO on every association the acceptor establishes.
    const loop = async (): Promise<void> => {
      for (;;) serveEcho(await acceptor.nextChannel());
    };
    loop().catch(() => undefined);
  });
  after(async () => {
    await acceptor?.close();
  });

  test('echoscu associates, echoes and releases: exit 0', async () => {
    const r = await run(
      'echoscu',
      ['-aet', 'ECHOSCU', '-aec', 'DICOMNET', '127.0.0.1', String(acceptor.port)],
      {
        timeoutMs: 20_000,
      },
    );
    assert.equal(r.code, 0, `echoscu failed:\n${r.stdout}\n${r.stderr}`);
  });

  test('echoscu with --max-pdu 4096 and several echoes: exit 0', async () => {
    const r = await run(
      'echoscu',
      ['--max-pdu', '4096', '--repeat', '3', '-aec', 'DICOMNET', '127.0.0.1', String(acceptor.port)],
      { timeoutMs: 20_000 },
    );
    assert.equal(r.code, 0, `echoscu failed:\n${r.stdout}\n${r.stderr}`);
  });

  test('echoscu -aec WRONG is rejected with reason 7', async () => {
    const failure = acceptor.nextFailure();
    const r = await run('echoscu', ['-aec', 'WRONG', '127.0.0.1', String(acceptor.port)], {
      timeoutMs: 20_000,
    });
    assert.notEqual(r.code, 0);
    assert.match(`${r.stdout}${r.stderr}`, /Called AE Title Not Recognized/i);
    const err = await within(failure, 5000, 'acceptor rejection');
    assert.ok(err instanceof AssociationRejectedError);
    assert.equal(err.reason, 7);
  });
});
