/** The limits themselves: admission arithmetic, config keys and defaults, inflation cap. */
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { constants as zlib, deflateRawSync } from 'node:zlib';
import { DatasetBuilder } from '../../src/data/builder.js';
import { parseStream } from '../../src/data/decode.js';
import { encodeFileMetaInformation, readPart10 } from '../../src/data/index.js';
import { DicomParseError } from '../../src/data/errors.js';
import { defaultNodeConfig, parseNodeConfig } from '../../src/node/config.js';
import { serverLimits } from '../../src/node/limits.js';
import { AdmissionRefusedError, ConnectionAdmission } from '../../src/services/admission.js';

const DEFLATED = '1.2.840.10008.1.2.1.99';

describe('ConnectionAdmission', () => {
  test('per-address rate: the attempt over the limit is refused, other addresses are not', () => {
    let now = 0;
    const a = new ConnectionAdmission({ maxAssociationsPerMinutePerAddress: 10 }, () => now);
    for (let i = 0; i < 10; i++) assert.equal(a.connectionArrived('10.0.0.1'), undefined, `attempt ${i}`);
    const refused = a.connectionArrived('10.0.0.1');
    assert.ok(refused instanceof AdmissionRefusedError);
    assert.equal(refused.code, 'ERR_RATE_LIMITED');
    assert.match(
      refused.message,
      /10\.0\.0\.1 .*more than 10 association attempts .*maxAssociationsPerMinutePerAddress 10/,
    );
    assert.equal(a.connectionArrived('10.0.0.2'), undefined);
    // half a minute into the next window, half of the previous one (11 attempts) still counts
    now = 90_000;
    let admitted = 0;
    while (a.connectionArrived('10.0.0.1') === undefined) admitted++;
    assert.equal(admitted, 5);
    // two quiet minutes: forgotten
    now = 300_000;
    assert.equal(a.connectionArrived('10.0.0.1'), undefined);
  });

  test('no limit configured: everything is admitted', () => {
    const a = new ConnectionAdmission({});
    for (let i = 0; i < 1000; i++) assert.equal(a.connectionArrived('10.0.0.1'), undefined);
    const releases = Array.from({ length: 100 }, () => a.startTlsHandshake('10.0.0.1'));
    assert.equal(a.tlsHandshakesInFlight, 100);
    for (const r of releases) r();
    assert.equal(a.tlsHandshakesInFlight, 0);
  });

  test('TLS handshakes in flight: the one over is refused; a slot comes back once, when released', () => {
    const a = new ConnectionAdmission({ maxTlsHandshakes: 2 });
    const first = a.startTlsHandshake('10.0.0.1');
    a.startTlsHandshake('10.0.0.2');
    assert.throws(
      () => a.startTlsHandshake('10.0.0.3'),
      (err: unknown) =>
        err instanceof AdmissionRefusedError &&
        err.code === 'ERR_TLS_HANDSHAKES_BUSY' &&
        /2 TLS handshakes already running \(maxTlsHandshakes 2\)/.test(err.message),
    );
    first();
    first();
    assert.equal(a.tlsHandshakesInFlight, 1);
    a.startTlsHandshake('10.0.0.3');
    assert.throws(() => a.startTlsHandshake('10.0.0.4'), AdmissionRefusedError);
  });

  test('pending connections: the one over is refused; a slot comes back once, when released', () => {
    const a = new ConnectionAdmission({ maxPendingConnections: 2 });
    const first = a.startPending('10.0.0.1');
    a.startPending('10.0.0.1');
    assert.throws(
      () => a.startPending('10.0.0.2'),
      (err: unknown) =>
        err instanceof AdmissionRefusedError &&
        err.code === 'ERR_TOO_MANY_PENDING' &&
        /10\.0\.0\.2 refused: 2 connections already waiting .*\(maxPendingConnections 2\)/.test(err.message),
    );
    assert.equal(a.pendingConnections, 2);
    first();
    first();
    assert.equal(a.pendingConnections, 1);
    a.startPending('10.0.0.2');
    assert.throws(() => a.startPending('10.0.0.3'), AdmissionRefusedError);
  });
});

describe('serve limits in the config file', () => {
  test('defaults are documented values; every key is checked and mapped to the server options', () => {
    const limits = defaultNodeConfig().limits;
    assert.deepEqual(limits, {
      maxAssociations: 64,
      maxAssociationsPerAddress: 16,
      maxAssociationsPerMinutePerAddress: 1200,
      maxTlsHandshakes: 32,
      maxPendingConnections: 1000,
      maxPendingRequestBytes: 64 * 1024 * 1024,
      maxPduLength: 65536,
      maxAssociateRqLength: 1024 * 1024,
      maxBufferedDatasetBytes: 16 * 1024 * 1024,
      maxDatasetDepth: 32,
      maxQueryResults: 100_000,
      timeoutSeconds: 30,
      idleTimeoutSeconds: 300,
      idleEvictSeconds: 30,
    });
    const parsed = parseNodeConfig({
      limits: { maxTlsHandshakes: 0, maxAssociationsPerMinutePerAddress: '600', timeoutSeconds: 5 },
    });
    const server = serverLimits(parsed.limits);
    assert.equal(server.maxTlsHandshakes, undefined, '0 = no limit');
    assert.equal(server.maxAssociationsPerMinutePerAddress, 600);
    assert.equal(server.timeoutMs, 5000);
    assert.equal(server.idleEvictMs, 30_000);
    assert.equal(server.maxPendingConnections, 1000);
    assert.equal(
      serverLimits(parseNodeConfig({ limits: { maxPendingConnections: 0 } }).limits).maxPendingConnections,
      0,
      '0 = no limit, not the library default',
    );
    assert.equal(server.hardMaxPduLength, 1024 * 1024);
    assert.throws(
      () => parseNodeConfig({ limits: { maxPduLenght: 1 } }),
      /limits\.maxPduLenght: unknown setting/,
    );
    assert.throws(
      () => parseNodeConfig({ limits: { timeoutSeconds: 0 } }),
      /limits\.timeoutSeconds: must be an integer 1-3600, got 0/,
    );
  });
});

/**
 * Explicit VR LE Pixel Data (OB) announcing 64 MiB, deflated in flushed pieces with the
 * stream left open: 64 MiB of zeros inflate from about 64 KiB.
 */
function deflatedPixelDataOf64MiBZeros(): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16LE(0x7fe0, 0);
  header.writeUInt16LE(0x0010, 2);
  header.write('OB', 4, 'latin1');
  header.writeUInt32LE(64 * 1024 * 1024, 8);
  const full = { finishFlush: zlib.Z_FULL_FLUSH };
  const zeros = deflateRawSync(Buffer.alloc(16 * 1024 * 1024), full);
  return Buffer.concat([deflateRawSync(header, full), zeros, zeros, zeros, zeros]);
}

describe('inflation limit', () => {
  test('a streamed deflated data set stops at maxInflatedBytes with a typed error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomnet-inflate-'));
    const file = join(dir, 'bomb.deflated');
    writeFileSync(file, Buffer.concat([deflatedPixelDataOf64MiBZeros(), deflateRawSync(Buffer.alloc(0))]));
    const discard = new DatasetBuilder({
      kind: 'sink',
      open: () => ({ write: () => undefined, end: () => Buffer.alloc(0) }),
    });
    const input = createReadStream(file);
    await assert.rejects(
      parseStream(input, DEFLATED, discard, { maxInflatedBytes: 8 * 1024 * 1024 }),
      (err: unknown) =>
        err instanceof DicomParseError &&
        err.code === 'ERR_DEFLATE' &&
        /more than 8388608 bytes/.test(err.message),
    );
    assert.ok(input.destroyed, 'the input is closed');
    // under the limit the same data set parses
    await parseStream(createReadStream(file), DEFLATED, discard, { maxInflatedBytes: 128 * 1024 * 1024 });
  });

  test('readPart10 of a deflate bomb: a typed error, and no file descriptor closed twice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dicomnet-inflate-'));
    const file = join(dir, 'bomb.dcm');
    const meta = encodeFileMetaInformation({
      mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      mediaStorageSopInstanceUid: '2.25.1',
      transferSyntaxUid: DEFLATED,
    });
    writeFileSync(file, Buffer.concat([meta, deflatedPixelDataOf64MiBZeros()]));
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      for (let i = 0; i < 5; i++) {
        await assert.rejects(
          readPart10(file, { maxInflatedBytes: 1024 * 1024 }),
          (err: unknown) => err instanceof DicomParseError && err.code === 'ERR_DEFLATE',
        );
      }
      // the read stream closes its own descriptor after the rejection: it must still be its own
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(uncaught, []);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
