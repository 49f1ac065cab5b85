import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Dataset, TransferSyntax, writePart10 } from '../../src/index.js';
import { DicomServer } from '../../src/services/server.js';
import { runCli } from '../helpers/cli.js';
import { makeTestPki, TEST_KEY_PASSWORD, type TestPki } from '../helpers/pki.js';

describe('the smaller first-contact fixes (item 8)', () => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-small-'));
  let pki: TestPki;
  let other: TestPki;
  let server: DicomServer;
  let port: number;

  before(async () => {
    pki = await makeTestPki(mkdtempSync(join(work, 'pki-')));
    other = await makeTestPki(mkdtempSync(join(work, 'other-')));
    server = new DicomServer({
      aet: 'DICOMNET',
      acceptAnyCalledAet: true,
      tls: { key: pki.server.key, cert: pki.server.cert, ca: [pki.caCert] },
    });
    port = (await server.listen({ port: 0, host: '127.0.0.1' })).port;
  });
  after(async () => {
    await server?.close();
  });

  test('move/get --help offer only the models they can retrieve and mark --dest/--out required', async () => {
    for (const [cmd, option] of [
      ['move', '--dest'],
      ['get', '--out'],
    ] as const) {
      const r = await runCli([cmd, '--help']);
      assert.equal(r.code, 0);
      assert.doesNotMatch(r.stdout, /worklist/, `${cmd} --help`);
      assert.match(r.stdout, new RegExp(`${option} <\\w+> +.*\\(required\\)`), r.stdout);
    }
  });

  test('store FILE HOST PORT (arguments swapped) says the order', async () => {
    const file = join(work, 'a.dcm');
    await writePart10(
      file,
      new Dataset().set('SOPClassUID', '1.2.840.10008.5.1.4.1.1.7').set('SOPInstanceUID', '2.25.9'),
      {
        transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian,
      },
    );
    const r = await runCli(['store', file, '127.0.0.1', '11112']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^dicomnet: the arguments are HOST PORT PATH\.\.\.: .* looks like a port \(dicomnet store 127\.0\.0\.1 11112 /,
    );
  });

  test('an encrypted key without a password names --passphrase-file', async () => {
    const r = await runCli([
      ...['echo', '--key', pki.clientEncryptedKey, '--cert', pki.client.cert, '--ca', pki.caCert],
      ...['127.0.0.1', String(port)],
    ]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /is encrypted and no password was given \(give it with --passphrase-file FILE\)/);
    assert.ok(TEST_KEY_PASSWORD);
  });

  test('a server certificate from another CA of the same name: the error shows a fingerprint to tell them apart', async () => {
    const r = await runCli(['echo', '--ca', other.caCert, '127.0.0.1', String(port)]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /issuer is not trusted .*SHA-256 [0-9A-F]{2}(:[0-9A-F]{2}){31}/);
  });
});
