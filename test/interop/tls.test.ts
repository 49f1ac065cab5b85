import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Status } from '../../src/dimse/index.js';
import { DicomServer } from '../../src/services/server.js';
import type { SecureLinkInfo } from '../../src/tls/types.js';
import { runCli } from '../helpers/cli.js';
import { type DcmtkServer, hasDcmtk, run, startDcmtkServer } from '../helpers/dcmtk.js';
import { makeTestPki, type TestPair, type TestPki } from '../helpers/pki.js';
import { makeStudy } from '../helpers/samples.js';

const skip = hasDcmtk() ? false : 'DCMTK is not installed';

function files(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .map((f) => join(dir, f));
}

async function dcm2json(file: string): Promise<unknown> {
  const r = await run('dcm2json', [file]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe('DICOM over TLS interop with DCMTK 3.6.7', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-tls-'));
  const received = join(work, 'received');
  let pki: TestPki;
  let server: DicomServer;
  let tlsPort: number;
  let plainPort: number;
  const links: SecureLinkInfo[] = [];
  const connectionErrors: { code?: string; message: string }[] = [];
  const peers: DcmtkServer[] = [];

  /** storescp +tls with a server pair and extra options; stopped after the suite. */
  async function storescpTls(pair: TestPair, extra: string[] = [], out?: string): Promise<DcmtkServer> {
    const dir = out ?? join(work, `storescp-${peers.length}`);
    mkdirSync(dir, { recursive: true });
    const p = await startDcmtkServer('storescp', [
      '-aet',
      'STORESCP',
      '+tls',
      pair.key,
      pair.cert,
      '+cf',
      pki.caCert,
      ...extra,
      '-od',
      dir,
    ]);
    peers.push(p);
    return p;
  }

  function clientTls(pair: TestPair = pki.client): string[] {
    return ['--tls', '--key', pair.key, '--cert', pair.cert, '--ca', pki.caCert];
  }

  async function goodEchoscuStillWorks(): Promise<void> {
    const r = await run('echoscu', [
      '+tls',
      pki.client.key,
      pki.client.cert,
      '+cf',
      pki.caCert,
      '-aec',
      'DICOMNET',
      '127.0.0.1',
      String(tlsPort),
    ]);
    assert.equal(r.code, 0, `the server must keep serving: ${r.stdout}${r.stderr}`);
  }

  before(async () => {
    mkdirSync(received, { recursive: true });
    pki = await makeTestPki(mkdtempSync(join(work, 'pki-')));
    server = new DicomServer({
      aet: 'DICOMNET',
      tls: {
        key: pki.server.key,
        cert: pki.server.cert,
        ca: [pki.caCert],
        crl: [pki.crl],
        requirePeerCertificate: true,
      },
      tempDir: join(work, 'incoming'),
      handlers: {
        store: ({ file, sopInstanceUid }) => {
          renameSync(file, join(received, `${sopInstanceUid}.dcm`));
          return Status.Success;
        },
      },
    });
    server.on('secureLinkReady', (info: SecureLinkInfo) => links.push(info));
    server.on('connectionError', (err: { code?: string; message: string }) => connectionErrors.push(err));
    tlsPort = (await server.listen({ port: 0, host: '127.0.0.1' })).port;
    plainPort = (await server.listen({ port: 0, host: '127.0.0.1', secure: false })).port;
  });

  after(async () => {
    for (const p of peers) await p.stop();
    await server?.close();
  });

  test('dicomnet echo --tls (mutual authentication) -> storescp +tls --require-peer-cert', async () => {
    const scp = await storescpTls(pki.server, ['--require-peer-cert']);
    const r = await runCli(['echo', 'localhost', String(scp.port), '--aec', 'STORESCP', ...clientTls()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /succeeded over TLSv1\.[23] TLS_/);
  });

  test('dicomnet store --tls with an encrypted key and --passphrase-file -> storescp +tls', async () => {
    const out = join(work, 'storescp-enc');
    const scp = await storescpTls(pki.server, ['--require-peer-cert'], out);
    const src = join(work, 'src-enc');
    const sent = makeStudy(src, 3, { pixelBytes: 50_000 });
    const r = await runCli([
      'store',
      'localhost',
      String(scp.port),
      '--aec',
      'STORESCP',
      '--tls',
      '--key',
      pki.clientEncryptedKey,
      '--cert',
      pki.client.cert,
      '--passphrase-file',
      pki.clientPasswordFile,
      '--ca',
      pki.caCert,
      src,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(files(out).length, sent.length);
  });

  test('dicomnet with a wrong key password fails fast, naming the file (exit 4)', async () => {
    const wrong = join(work, 'wrong-password');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(wrong, 'not-the-password\n');
    const r = await runCli([
      'echo',
      'localhost',
      String(tlsPort),
      '--aec',
      'DICOMNET',
      '--tls',
      '--key',
      pki.clientEncryptedKey,
      '--cert',
      pki.client.cert,
      '--passphrase-file',
      wrong,
      '--ca',
      pki.caCert,
    ]);
    assert.equal(r.code, 4, r.stderr);
    assert.ok(r.stderr.includes(pki.clientEncryptedKey), r.stderr);
  });

  test('echoscu +tls -> dicomnet server with --require-peer-cert: secure link ready with the client certificate', async () => {
    const before = links.length;
    const r = await run('echoscu', [
      '+tls',
      pki.client.key,
      pki.client.cert,
      '+cf',
      pki.caCert,
      '-aec',
      'DICOMNET',
      '127.0.0.1',
      String(tlsPort),
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const link = links[before];
    assert.ok(link, 'secureLinkReady fired');
    assert.match(link.protocol, /^TLSv1\.[23]$/);
    assert.match(link.peerCertificate?.subject ?? '', /CN=client/);
    assert.ok(link.encryption && link.integrity && link.cipherSuite.startsWith('TLS_'));
  });

  test('storescu +tls -> dicomnet server: received data sets equal the sent ones', async () => {
    const src = join(work, 'src-scu');
    const sent = makeStudy(src, 3, { pixelBytes: 40_000 });
    const r = await run('storescu', [
      '+tls',
      pki.client.key,
      pki.client.cert,
      '+cf',
      pki.caCert,
      '-aec',
      'DICOMNET',
      '127.0.0.1',
      String(tlsPort),
      ...sent.map((s) => s.path),
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const s of sent)
      assert.deepEqual(await dcm2json(join(received, `${s.sopInstanceUid}.dcm`)), await dcm2json(s.path));
  });

  describe('profile pairings with DCMTK 3.6.7', () => {
    const dcmtkProfiles = ['--profile-bcp195-nd', '--profile-bcp195', '--profile-bcp195-ex'];
    const ours = ['bcp195-rfc8996', 'bcp195-rfc8996-mod', 'bcp195-nd', 'bcp195', 'bcp195-ex'];
    for (const theirs of dcmtkProfiles) {
      test(`every current and BCP 195 profile of ours talks to storescp ${theirs}`, async () => {
        const scp = await storescpTls(pki.server, [theirs]);
        for (const profile of ours) {
          const r = await runCli([
            'echo',
            'localhost',
            String(scp.port),
            '--aec',
            'STORESCP',
            '--profile',
            profile,
            ...clientTls(),
          ]);
          assert.equal(r.code, 0, `${profile} vs ${theirs}: ${r.stderr}`);
        }
      });
    }

    test('legacy: aes works against storescp --profile-aes or fails with a clear error; basic names the missing 3DES', async () => {
      const scp = await storescpTls(pki.server, ['--profile-aes']);
      const aes = await runCli([
        'echo',
        'localhost',
        String(scp.port),
        '--aec',
        'STORESCP',
        '--profile',
        'aes',
        ...clientTls(),
      ]);
      if (aes.code !== 0) {
        assert.equal(aes.code, 4, aes.stderr);
        assert.match(aes.stderr, /TLS/);
      } else {
        assert.match(aes.stdout, /TLS_RSA_WITH_AES_128_CBC_SHA/);
      }
      const basic = await runCli([
        'echo',
        'localhost',
        String(scp.port),
        '--aec',
        'STORESCP',
        '--profile',
        'basic',
        ...clientTls(),
      ]);
      if (basic.code !== 0) {
        assert.equal(basic.code, 4, basic.stderr);
        assert.match(basic.stderr, /3DES/);
      }
    });
  });

  describe('refusals name the cause, and the server keeps serving', () => {
    test('untrusted server CA', async () => {
      const scp = await storescpTls(pki.untrustedServer);
      const r = await runCli(['echo', 'localhost', String(scp.port), '--aec', 'STORESCP', ...clientTls()]);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /not trusted/i);
    });

    test('expired server certificate', async () => {
      const scp = await storescpTls(pki.expiredServer);
      const r = await runCli(['echo', 'localhost', String(scp.port), '--aec', 'STORESCP', ...clientTls()]);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /expired/i);
    });

    test('server certificate for another host name', async () => {
      const scp = await storescpTls(pki.wrongHostServer);
      const r = await runCli(['echo', 'localhost', String(scp.port), '--aec', 'STORESCP', ...clientTls()]);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /host ?name|does not match/i);
    });

    test('client without a certificate when the server requires one', async () => {
      const r = await runCli([
        'echo',
        'localhost',
        String(tlsPort),
        '--aec',
        'DICOMNET',
        '--tls',
        '--ca',
        pki.caCert,
      ]);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /certificate/i);
      await goodEchoscuStillWorks();
    });

    test('revoked client certificate (CRL)', async () => {
      const before = connectionErrors.length;
      const r = await runCli([
        'echo',
        'localhost',
        String(tlsPort),
        '--aec',
        'DICOMNET',
        ...clientTls(pki.revokedClient),
      ]);
      assert.notEqual(r.code, 0, r.stdout);
      assert.ok(
        connectionErrors.slice(before).some((e) => /revoked/i.test(e.message)),
        JSON.stringify(connectionErrors.slice(before)),
      );
      await goodEchoscuStillWorks();
    });

    test('plaintext DICOM to the TLS port is detected', async () => {
      const before = connectionErrors.length;
      const r = await runCli(['echo', '127.0.0.1', String(tlsPort), '--aec', 'DICOMNET']);
      assert.equal(r.code, 3, r.stderr);
      assert.ok(connectionErrors.slice(before).some((e) => e.code === 'ERR_TLS_PLAINTEXT_ON_TLS_PORT'));
      await goodEchoscuStillWorks();
    });

    test('TLS client to the plain port', async () => {
      const r = await runCli(['echo', 'localhost', String(plainPort), '--aec', 'DICOMNET', ...clientTls()]);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /does not speak TLS|plain DICOM port/i);
      await goodEchoscuStillWorks();
    });
  });
});
