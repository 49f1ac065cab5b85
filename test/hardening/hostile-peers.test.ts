/**
 * `dicomnet serve` (spawned, plain and TLS ports) against hostile peers on raw sockets.
 * After every case: DCMTK echoscu, plain and +tls, still succeeds, the node's RSS stays
 * below {@link RSS_BOUND_KIB} (docs/limits.md) and no temporary file is left in the storage
 * directory or the node's TMPDIR. Hostile traffic comes from other loopback addresses
 * (127.0.0.x) than the good echoscu (127.0.0.1), as it would from other hosts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { constants as zlib, deflateRawSync } from 'node:zlib';
import { encodeFileMetaInformation } from '../../src/data/index.js';
import { encodeCommandSet } from '../../src/dimse/command-set.js';
import { CommandField } from '../../src/dimse/index.js';
import { encodePdu } from '../../src/network/pdu/encode.js';
import { emptyUserInformation, type PresentationContextRqItem } from '../../src/network/pdu/types.js';
import { requestAssociation } from '../../src/network/requestor.js';
import { connect } from '../../src/services/client.js';
import { hasDcmtk } from '../helpers/dcmtk.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import {
  closedWithin,
  echoscuSucceeds,
  eventually,
  filesUnder,
  type HardenedServe,
  pdu,
  rawSocket,
  startHardenedServe,
} from './helpers.js';

/** The RSS bound documented in docs/limits.md for this configuration (limits below). */
const RSS_BOUND_KIB = 256 * 1024;
const CT = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const DICOM_APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';
const LIMITS = {
  timeoutSeconds: 4,
  idleTimeoutSeconds: 10,
  maxAssociationsPerMinutePerAddress: 300,
  maxTlsHandshakes: 8,
  maxAssociateRqLength: 1024 * 1024,
};

const skip = hasDcmtk() ? false : 'DCMTK is not installed';

/** An A-ASSOCIATE-RQ as bytes. */
function associateRq(contexts: PresentationContextRqItem[], calledAet = 'DICOMNET'): Buffer {
  const userInfo = emptyUserInformation();
  userInfo.maxLength = 16384;
  userInfo.implementationClassUid = '1.2.3.4';
  return encodePdu({
    type: 'A-ASSOCIATE-RQ',
    protocolVersion: 1,
    calledAet,
    callingAet: 'HOSTILE',
    applicationContext: DICOM_APPLICATION_CONTEXT,
    presentationContexts: contexts,
    userInfo,
  });
}

/** Explicit VR Little Endian element with a 2-byte length (UI and the like). */
function shortElement(group: number, element: number, vr: string, value: string): Buffer {
  const v = Buffer.from(value.length % 2 ? `${value}\0` : value, 'latin1');
  const h = Buffer.alloc(8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(element, 2);
  h.write(vr, 4, 'latin1');
  h.writeUInt16LE(v.length, 6);
  return Buffer.concat([h, v]);
}

/**
 * A Deflated Explicit VR Little Endian Part 10 file whose data set inflates to more than
 * `inflatedMiB` MiB (Pixel Data of zeros) from about a thousandth of that: one compressed
 * 16 MiB block of zeros, repeated (each is full-flushed, so the copies are independent).
 */
function deflateBomb(dir: string, inflatedMiB: number, sopInstanceUid: string): string {
  const full = { finishFlush: zlib.Z_FULL_FLUSH, level: 9 };
  const pixelLength = inflatedMiB * 1024 * 1024;
  const pixelHeader = Buffer.alloc(12);
  pixelHeader.writeUInt16LE(0x7fe0, 0);
  pixelHeader.writeUInt16LE(0x0010, 2);
  pixelHeader.write('OB', 4, 'latin1');
  pixelHeader.writeUInt32LE(pixelLength, 8);
  const head = Buffer.concat([
    shortElement(0x0008, 0x0016, 'UI', CT),
    shortElement(0x0008, 0x0018, 'UI', sopInstanceUid),
    shortElement(0x0020, 0x000d, 'UI', `${sopInstanceUid}.1`),
    shortElement(0x0020, 0x000e, 'UI', `${sopInstanceUid}.2`),
    pixelHeader,
  ]);
  const zeros = deflateRawSync(Buffer.alloc(16 * 1024 * 1024), full);
  const parts = [deflateRawSync(head, full)];
  for (let i = 0; i < inflatedMiB / 16; i++) parts.push(zeros);
  parts.push(deflateRawSync(Buffer.alloc(0)));
  const meta = encodeFileMetaInformation({
    mediaStorageSopClassUid: CT,
    mediaStorageSopInstanceUid: sopInstanceUid,
    transferSyntaxUid: DEFLATED,
  });
  const path = join(dir, 'bomb.dcm');
  writeFileSync(path, Buffer.concat([meta, ...parts]));
  return path;
}

/** The first flight of a real TLS client (its ClientHello), captured once from a local listener. */
async function captureClientHello(): Promise<Buffer> {
  const listener = createServer();
  const hello = new Promise<Buffer>((resolve) =>
    listener.once('connection', (s: Socket) =>
      s.once('data', (d: Buffer) => {
        resolve(d);
        s.destroy();
      }),
    ),
  );
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const address = listener.address();
  const t = tlsConnect({
    port: typeof address === 'object' && address ? address.port : 0,
    host: '127.0.0.1',
    rejectUnauthorized: false,
  });
  t.on('error', () => undefined);
  const bytes = await hello;
  t.destroy();
  await new Promise<void>((r) => listener.close(() => r()));
  return bytes;
}

describe('dicomnet serve against hostile peers', { skip, timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'dicomnet-hostile-peers-'));
  let node: HardenedServe;
  let pki: TestPki;
  let echoTls: string[];
  let clientHello: Buffer;
  let tlsPort: number;
  let maxRss = 0;

  before(async () => {
    mkdirSync(join(dir, 'pki'));
    pki = await makeTestPki(join(dir, 'pki'));
    echoTls = ['+tls', pki.client.key, pki.client.cert, '+cf', pki.caCert];
    node = await startHardenedServe({
      dir,
      tls: true,
      config: {
        tls: { key: pki.server.key, cert: pki.server.cert, ca: [pki.caCert] },
        limits: LIMITS,
      },
    });
    tlsPort = node.tlsPort as number;
    clientHello = await captureClientHello();
  });

  after(async () => {
    const code = await node?.stop();
    assert.equal(code, 0, `the node stops cleanly: ${node?.stderr().slice(-2000)}`);
    process.stdout.write(`# hostile peers: max RSS of dicomnet serve ${Math.round(maxRss / 1024)} MiB\n`);
  });

  /** The checks after every case. */
  async function stillServing(): Promise<void> {
    await echoscuSucceeds(node.port);
    await echoscuSucceeds(tlsPort, echoTls);
    const rss = node.rssKiB();
    maxRss = Math.max(maxRss, rss);
    assert.ok(rss < RSS_BOUND_KIB, `RSS ${rss} KiB must stay below ${RSS_BOUND_KIB} KiB`);
    await eventually(
      () => filesUnder(join(node.storage, '.incoming')).length === 0 && filesUnder(node.tmp).length === 0,
      `no temporary file left: ${[...filesUnder(join(node.storage, '.incoming')), ...filesUnder(node.tmp)]}`,
    );
  }

  /** Some log line mentions `text` (a message or an error code). */
  function logged(text: string): boolean {
    return node.stderr().includes(text);
  }

  /** A raw socket from `localAddress` that has completed a TLS handshake with the node. */
  async function tlsSocket(localAddress: string): Promise<TLSSocket> {
    const socket = await rawSocket(tlsPort, localAddress);
    return new Promise((resolve, reject) => {
      const t = tlsConnect({ socket, ca: [readFileSync(pki.caCert, 'utf8')], servername: 'localhost' }, () =>
        resolve(t),
      );
      t.once('error', reject);
    });
  }

  test('slowloris before the association: one byte a second is cut by the ARTIM / handshake timer', async () => {
    const plain = await rawSocket(node.port, '127.0.0.2');
    const secure = await rawSocket(tlsPort, '127.0.0.2');
    const rq = associateRq([{ id: 1, abstractSyntax: CT, transferSyntaxes: [EXPLICIT_LE] }]);
    let i = 0;
    const trickle = setInterval(() => {
      if (!plain.destroyed) plain.write(rq.subarray(i, i + 1));
      if (!secure.destroyed) secure.write(clientHello.subarray(i, i + 1));
      i++;
    }, 1000);
    try {
      const [a, b] = await Promise.all([closedWithin(plain, 12_000), closedWithin(secure, 12_000)]);
      assert.ok(a, 'the plain connection is closed by the ARTIM timer');
      assert.ok(b, 'the TLS connection is closed by the handshake timeout');
      assert.ok(i < 9, `closed after ${i} bytes`);
    } finally {
      clearInterval(trickle);
    }
    await stillServing();
  });

  test('slowloris inside an association: a P-DATA-TF trickled one byte a second is cut', async () => {
    const socket = await rawSocket(node.port, '127.0.0.2');
    const channel = await requestAssociation(socket, {
      callingAet: 'HOSTILE',
      calledAet: 'DICOMNET',
      contexts: [{ abstractSyntax: CT, transferSyntaxes: [EXPLICIT_LE] }],
    });
    assert.equal([...channel.negotiated.contexts.values()][0]?.result, 0);
    const body = Buffer.alloc(1000);
    const bytes = pdu(0x04, body);
    let i = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(bytes.subarray(i, i + 1));
      i++;
    }, 1000);
    try {
      assert.ok(await closedWithin(socket, 12_000), 'the node ends the association');
    } finally {
      clearInterval(trickle);
    }
    await stillServing();
  });

  test('500 connections opened and left idle: the node keeps serving meanwhile, then closes them all', async () => {
    const sockets: Socket[] = [];
    for (let i = 0; i < 250; i++) {
      sockets.push(await rawSocket(node.port, '127.0.0.3'));
      sockets.push(await rawSocket(tlsPort, '127.0.0.4'));
    }
    const closed = sockets.map((s) => closedWithin(s, 15_000));
    await echoscuSucceeds(node.port);
    await echoscuSucceeds(tlsPort, echoTls);
    maxRss = Math.max(maxRss, node.rssKiB());
    const results = await Promise.all(closed);
    assert.equal(results.filter(Boolean).length, 500, 'the node closed every idle connection');
    await stillServing();
  });

  test('a PDU header announcing 4 GiB, before and after association and over TLS, is refused at once', async () => {
    const before = await rawSocket(node.port, '127.0.0.5');
    before.write(pdu(0x01, randomBytes(1024), 0xffffffff));
    assert.ok(await closedWithin(before, 5000));

    const socket = await rawSocket(node.port, '127.0.0.5');
    await requestAssociation(socket, {
      callingAet: 'HOSTILE',
      calledAet: 'DICOMNET',
      contexts: [{ abstractSyntax: CT, transferSyntaxes: [EXPLICIT_LE] }],
    });
    socket.write(pdu(0x04, randomBytes(1024), 0xffffffff));
    assert.ok(await closedWithin(socket, 5000));

    const t = await tlsSocket('127.0.0.5');
    t.write(pdu(0x01, randomBytes(1024), 0xffffffff));
    assert.ok(await closedWithin(t as unknown as Socket, 5000));
    await eventually(() => logged('PDU length 4294967295 exceeds max 1 MiB'), 'the refusal in the log');
    await stillServing();
  });

  test('a deflate bomb in a Deflated Explicit VR Little Endian C-STORE is refused without inflating it all', async () => {
    const sop = `2.25.${BigInt(`0x${randomBytes(12).toString('hex')}`)}`;
    const bomb = deflateBomb(dir, 1024, sop);
    const assoc = await connect({
      host: '127.0.0.1',
      port: node.port,
      calledAet: 'DICOMNET',
      callingAet: 'HOSTILE',
      contexts: [{ abstractSyntax: CT, transferSyntaxes: [DEFLATED] }],
      timeoutMs: 30_000,
    });
    const result = await assoc.store(bomb, { noThrow: true });
    await assoc.release();
    assert.notEqual(result.status, 0, 'the bomb is not stored');
    assert.ok(
      node.logLines().some((l) => /inflat/i.test(String(l.msg))),
      'the log names the inflation limit',
    );
    await stillServing();
  });

  test('A-ASSOCIATE-RQ with 128 presentation contexts and 10 000 transfer syntaxes', async () => {
    const syntaxes = (n: number) => Array.from({ length: n }, (_, k) => `1.2.826.0.1.3680043.9.${k}`);
    // 10 000 transfer syntaxes over 128 contexts (~280 KB): negotiated (none is known) and answered
    const spread: PresentationContextRqItem[] = Array.from({ length: 128 }, (_, k) => ({
      id: 2 * k + 1,
      abstractSyntax: CT,
      transferSyntaxes: syntaxes(k < 16 ? 79 : 78),
    }));
    const s = await rawSocket(node.port, '127.0.0.7');
    const answer = new Promise<Buffer>((resolve) => s.once('data', (d: Buffer) => resolve(d)));
    s.write(associateRq(spread));
    assert.equal((await answer)[0], 0x02, 'A-ASSOCIATE-AC');
    s.destroy();
    // as many as a context item can hold (its length is 16 bits) in each of the 128 (~8 MB):
    // over maxAssociateRqLength, refused from its header
    const big = associateRq(
      Array.from({ length: 128 }, (_, k) => ({
        id: 2 * k + 1,
        abstractSyntax: CT,
        transferSyntaxes: syntaxes(2000),
      })),
    );
    const b = await rawSocket(node.port, '127.0.0.7');
    b.on('error', () => undefined);
    b.write(big.subarray(0, 64 * 1024));
    assert.ok(await closedWithin(b, 5000));
    await stillServing();
  });

  test('abrupt disconnect in the middle of a C-STORE PDU leaves no temp file', async () => {
    const socket = await rawSocket(node.port, '127.0.0.8');
    const channel = await requestAssociation(socket, {
      callingAet: 'HOSTILE',
      calledAet: 'DICOMNET',
      contexts: [{ abstractSyntax: CT, transferSyntaxes: [EXPLICIT_LE] }],
    });
    const ctx = [...channel.negotiated.contexts.values()][0];
    assert.equal(ctx?.result, 0);
    const command = encodeCommandSet({
      commandField: CommandField.C_STORE_RQ,
      messageId: 1,
      affectedSopClassUid: CT,
      affectedSopInstanceUid: '2.25.4242',
      priority: 0,
      hasDataset: true,
    });
    await channel.sendPdvs([{ contextId: ctx.id, command: true, last: true, data: command }]);
    await channel.sendPdvs([{ contextId: ctx.id, command: false, last: false, data: Buffer.alloc(30_000) }]);
    await eventually(
      () => filesUnder(join(node.storage, '.incoming')).length === 1,
      'the instance being received',
    );
    socket.write(pdu(0x04, Buffer.alloc(1000), 20_000));
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await stillServing();
  });

  test('TLS handshake abandoned halfway: after the server flight, and after the ClientHello only', async () => {
    const cut = await rawSocket(tlsPort, '127.0.0.9');
    const flight = new Promise<void>((resolve) => cut.once('data', () => resolve()));
    cut.write(clientHello);
    await flight;
    cut.destroy();
    const silent = await rawSocket(tlsPort, '127.0.0.9');
    silent.write(clientHello);
    assert.ok(await closedWithin(silent, 12_000), 'the handshake timeout closes a stalled handshake');
    await eventually(() => logged('ERR_TLS_HANDSHAKE_TIMEOUT'), 'the handshake timeout in the log');
    await stillServing();
  });

  test('plaintext DICOM to the TLS port is refused and named', async () => {
    const s = await rawSocket(tlsPort, '127.0.0.10');
    s.write(associateRq([{ id: 1, abstractSyntax: CT, transferSyntaxes: [EXPLICIT_LE] }]));
    assert.ok(await closedWithin(s, 5000));
    await eventually(() => logged('ERR_TLS_PLAINTEXT_ON_TLS_PORT'), 'the refusal in the log');
    await stillServing();
  });

  test('random bytes to both ports', async () => {
    for (let round = 0; round < 20; round++) {
      for (const port of [node.port, tlsPort]) {
        const s = await rawSocket(port, '127.0.0.11');
        s.on('error', () => undefined);
        s.write(randomBytes(1 + Math.floor(Math.random() * 8192)));
        if (round % 2) s.destroy();
        else assert.ok(await closedWithin(s, 5000), `round ${round}: random bytes end the connection`);
      }
    }
    await stillServing();
  });

  test('maxAssociationsPerMinutePerAddress: a flood from one address is cut off, other addresses are served', async () => {
    const flood: Socket[] = [];
    /** How long after it opened each connection was closed by the node. */
    const lifetimes: number[] = [];
    for (let i = 0; i < LIMITS.maxAssociationsPerMinutePerAddress + 30; i++) {
      const s = await rawSocket(node.port, '127.0.0.12').catch(() => undefined);
      if (!s) continue;
      const opened = Date.now();
      s.on('error', () => undefined);
      s.once('close', () => lifetimes.push(Date.now() - opened));
      flood.push(s);
    }
    await new Promise((r) => setTimeout(r, 1500));
    // refused ones are closed at once; admitted ones only by the ARTIM timer (4 s)
    const refused = lifetimes.filter((ms) => ms < 2000).length;
    assert.ok(refused >= 25 && refused <= 35, `${refused} of ${flood.length} refused`);
    await eventually(() => logged('ERR_RATE_LIMITED'), 'the refusal in the log', 3000);
    await stillServing();
    for (const s of flood) s.destroy();
  });

  test('maxTlsHandshakes: ClientHellos over the limit are refused; freed slots serve again', async () => {
    const stalled: Socket[] = [];
    for (let i = 0; i < LIMITS.maxTlsHandshakes; i++) {
      const s = await rawSocket(tlsPort, '127.0.0.13');
      s.on('data', () => undefined);
      s.write(clientHello);
      stalled.push(s);
    }
    await new Promise((r) => setTimeout(r, 300));
    const extra = await rawSocket(tlsPort, '127.0.0.14');
    extra.write(clientHello);
    assert.ok(await closedWithin(extra, 1500), 'the ClientHello over the limit is refused at once');
    await eventually(
      () => logged('ERR_TLS_HANDSHAKES_BUSY'),
      `the refusal in the log: ${node.stderr().slice(-1500)}`,
      3000,
    );
    for (const s of stalled) s.destroy();
    await stillServing();
  });
});
