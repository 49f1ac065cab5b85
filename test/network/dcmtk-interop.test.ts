/** Acceptance against real DCMTK 3.6.7 peers: storescp as acceptor, echoscu as requestor. */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  EXPLICIT_LE,
  echoRq,
  IMPLICIT_LE,
  parseCommandSet,
  serveEcho,
  commandSet,
  ui,
  us,
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

const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

/** One implicit VR LE data element. */
function element(group: number, elementNo: number, value: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(elementNo, 2);
  h.writeUInt32LE(value.length, 4);
  return Buffer.concat([h, value]);
}

describe('requestor against DCMTK storescp', { skip }, () => {
  let storescp: DcmtkServer;
  let small: DcmtkServer;
  let outDir: string;
  before(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'dicomnet-net-'));
    storescp = await startDcmtkServer('storescp', ['--output-directory', outDir]);
    small = await startDcmtkServer('storescp', ['--max-pdu', '4096', '--output-directory', outDir]);
  });
  after(async () => {
    await storescp?.stop();
    await small?.stop();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
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

  test('C-STORE of a 40 kB data set to storescp --max-pdu 4096: fragments accepted, file stored', async () => {
    const channel = await associate(small.port, {
      calledAet: 'STORESCP',
      contexts: [{ abstractSyntax: SECONDARY_CAPTURE, transferSyntaxes: [IMPLICIT_LE] }],
    });
    assert.equal(channel.negotiated.contexts.get(1)?.result, 0);
    const instanceUid = '2.25.1234567890123456789';
    const pixels = Buffer.alloc(40_000);
    for (let i = 0; i < pixels.length; i++) pixels[i] = i & 0xff;
    const dataset = Buffer.concat([
      element(0x0008, 0x0016, ui(SECONDARY_CAPTURE)),
      element(0x0008, 0x0018, ui(instanceUid)),
      element(0x0008, 0x0060, Buffer.from('OT')),
      element(0x0010, 0x0010, Buffer.from('TEST^NET')),
      element(0x7fe0, 0x0010, pixels),
    ]);
    const command = commandSet([
      [0x0002, ui(SECONDARY_CAPTURE)],
      [0x0100, us(0x0001)],
      [0x0110, us(3)],
      [0x0700, us(0)],
      [0x0800, us(0x0000)],
      [0x1000, ui(instanceUid)],
    ]);
    const response = collectMessagePart(channel, true);
    await channel.sendPdvs([
      { contextId: 1, command: true, last: true, data: command },
      { contextId: 1, command: false, last: true, data: dataset },
    ]);
    const cmd = parseCommandSet(
      Buffer.concat((await within(response, 5000, 'C-STORE-RSP')).map((p) => p.data)),
    );
    assert.equal(cmd.get(0x0100)?.readUInt16LE(0), 0x8001);
    assert.equal(cmd.get(0x0900)?.readUInt16LE(0), 0x0000);
    await channel.release();
    const stored = readdirSync(outDir).filter((f) => f.includes(instanceUid));
    assert.equal(stored.length, 1, `stored file in ${readdirSync(outDir).join(', ')}`);
    assert.ok(statSync(join(outDir, stored[0] as string)).size > 40_000);
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
  const closes: ChannelCloseReason[] = [];
  before(async () => {
    acceptor = await startAcceptor(() => basicPolicy());
    // Answer C-ECHO on every association the acceptor establishes.
    const loop = async (): Promise<void> => {
      for (;;) {
        const channel = await acceptor.nextChannel();
        channel.once('closed', (reason) => closes.push(reason));
        serveEcho(channel);
      }
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

  test('echoscu --abort: the acceptor sees an A-ABORT from the peer (service user)', async () => {
    const before = closes.length;
    const r = await run('echoscu', ['--abort', '-aec', 'DICOMNET', '127.0.0.1', String(acceptor.port)], {
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, `echoscu failed:\n${r.stdout}\n${r.stderr}`);
    const deadline = Date.now() + 5000;
    while (closes.length === before && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    const reason = closes[before];
    assert.ok(reason?.kind === 'aborted' && reason.byPeer && reason.source === 0, JSON.stringify(reason));
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

describe('acceptor receiving C-STORE from DCMTK storescu', { skip }, () => {
  let acceptor: TestAcceptor;
  let workDir: string;
  let file: string;
  const pdvSizes: number[] = [];
  const datasetBytes: number[] = [];
  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'dicomnet-net-scu-'));
    const dump = [
      '(0008,0016) UI =SecondaryCaptureImageStorage',
      '(0008,0018) UI [2.25.777000111]',
      '(0008,0060) CS [OT]',
      '(0010,0010) PN [TEST^NET]',
      `(0010,4000) LT [${'A'.repeat(30_000)}]`,
    ].join('\n');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(workDir, 'in.txt'), dump);
    file = join(workDir, 'sc.dcm');
    const made = await run('dump2dcm', ['+l', '70000', join(workDir, 'in.txt'), file]);
    assert.equal(made.code, 0, made.stderr);
    acceptor = await startAcceptor(() =>
      basicPolicy({
        maxPduLength: 4096,
        transferSyntaxesFor: (a) => (a === SECONDARY_CAPTURE ? [EXPLICIT_LE, IMPLICIT_LE] : undefined),
      }),
    );
    const serve = (channel: AssociationChannel): void => {
      let command: Map<number, Buffer> | undefined;
      const commandParts: Buffer[] = [];
      let received = 0;
      channel.on('pdvs', (pdvs) => {
        for (const p of pdvs) {
          pdvSizes.push(p.data.length);
          if (p.command) {
            commandParts.push(Buffer.from(p.data));
            if (p.last) command = parseCommandSet(Buffer.concat(commandParts.splice(0)));
            continue;
          }
          received += p.data.length;
          if (!p.last || !command) continue;
          datasetBytes.push(received);
          received = 0;
          const rsp = commandSet([
            [0x0002, command.get(0x0002) ?? Buffer.alloc(0)],
            [0x0100, us(0x8001)],
            [0x0120, command.get(0x0110) ?? us(0)],
            [0x0800, us(0x0101)],
            [0x0900, us(0)],
            [0x1000, command.get(0x1000) ?? Buffer.alloc(0)],
          ]);
          channel
            .sendPdvs([{ contextId: p.contextId, command: true, last: true, data: rsp }])
            .catch(() => undefined);
        }
      });
    };
    const loop = async (): Promise<void> => {
      for (;;) serve(await acceptor.nextChannel());
    };
    loop().catch(() => undefined);
  });
  after(async () => {
    await acceptor?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  test('storescu sends a 30 kB instance in PDUs of at most 4096 bytes: exit 0', async () => {
    const r = await run('storescu', ['-aec', 'DICOMNET', '127.0.0.1', String(acceptor.port), file], {
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, `storescu failed:\n${r.stdout}\n${r.stderr}`);
    assert.equal(datasetBytes.length, 1);
    assert.ok((datasetBytes[0] ?? 0) > 30_000);
    assert.ok(
      pdvSizes.every((n) => n <= 4090),
      `largest PDV ${Math.max(...pdvSizes)}`,
    );
    assert.ok(pdvSizes.length >= 8, `${pdvSizes.length} PDVs`);
  });
});
