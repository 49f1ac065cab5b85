import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ServeProcess, startServe } from '../interop/node-helpers.js';
import { runCli } from '../helpers/cli.js';
import { freePort, hasDcmtk, run } from '../helpers/dcmtk.js';
import { makeInstance } from '../helpers/samples.js';

const skip = hasDcmtk() ? false : 'DCMTK is not installed';

/** stderr lines that contain `text`. */
function linesWith(stderr: string, text: string): string[] {
  return stderr.split('\n').filter((l) => l.includes(text));
}

describe('dicomnet store as a newcomer meets it, against dicomnet serve', { skip }, () => {
  const work = mkdtempSync(join(tmpdir(), 'dicomnet-store-cli-'));
  let node: ServeProcess;
  let port: number;
  let tlsPort: number;

  before(async () => {
    port = await freePort();
    tlsPort = await freePort();
    node = await startServe(
      [
        ...['--host', '127.0.0.1', '--port', String(port), '--tls-port', String(tlsPort)],
        ...['--storage', join(work, 'storage'), '--pki', join(work, 'pki')],
      ],
      { cwd: work, waitPort: tlsPort },
    );
  });
  after(async () => {
    await node?.kill9();
  });

  test("a file whose meta UID differs from the data set's is sent with the data set's UID (a warning names both); a refusal's reason is printed; skips and failures are counted, each failure on one line", async () => {
    const dir = join(work, 'images');
    const good = makeInstance(dir, { instanceNumber: 1 });
    const mismatched = makeInstance(dir, { instanceNumber: 2 });
    // the file meta's copy (the first one in the file) becomes another UID of the same length
    const datasetUid = mismatched.sopInstanceUid;
    const metaUid = `${datasetUid.slice(0, -1)}${datasetUid.endsWith('9') ? '8' : '9'}`;
    const bytes = readFileSync(mismatched.path);
    bytes.write(metaUid, bytes.indexOf(datasetUid, 132, 'latin1'), 'latin1');
    writeFileSync(mismatched.path, bytes);
    const noStudy = makeInstance(dir, { instanceNumber: 3 });
    const erase = await run('dcmodify', ['-nb', '-e', '(0020,000d)', noStudy.path]);
    assert.equal(erase.code, 0, erase.stderr);
    writeFileSync(join(dir, 'notes.txt'), 'not DICOM\n');
    writeFileSync(join(dir, 'empty.dcm'), '');

    const r = await runCli(['store', '-q', '127.0.0.1', String(port), dir]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /C-STORE DICOMNET -> ANY-SCP@127\.0\.0\.1:\d+: 2 sent, 2 skipped, 1 failed/);
    // the skips are visible at the default level
    assert.equal(linesWith(r.stderr, 'notes.txt').length, 1, r.stderr);
    assert.equal(linesWith(r.stderr, 'empty.dcm').length, 1, r.stderr);
    assert.match(r.stderr, /dicomnet: warning: skipping .*notes\.txt/);
    // the UID warning names both
    const warning = linesWith(r.stderr, datasetUid);
    assert.equal(warning.length, 1, r.stderr);
    assert.ok(warning[0]?.includes(metaUid), warning[0]);
    // the refusal: one line, with the node's reason as Error Comment
    const failure = linesWith(r.stderr, noStudy.path);
    assert.equal(failure.length, 1, r.stderr);
    assert.match(failure[0] as string, /^dicomnet: .*0xC000.*instance has no StudyInstanceUID/);
    // the node kept the mismatched instance under its data set's UID
    assert.ok(
      existsSync(
        join(work, 'storage', mismatched.studyInstanceUid, mismatched.seriesInstanceUid, `${datasetUid}.dcm`),
      ),
    );
    assert.ok(
      existsSync(
        join(work, 'storage', good.studyInstanceUid, good.seriesInstanceUid, `${good.sopInstanceUid}.dcm`),
      ),
    );
  });

  test('--no-hostname-check warns at the default log level', async () => {
    const pki = join(work, 'pki');
    const r = await runCli([
      'echo',
      ...['--tls', '--no-hostname-check', '--ca', join(pki, 'ca.crt')],
      ...['--key', join(pki, 'client.key'), '--cert', join(pki, 'client.crt')],
      ...['127.0.0.1', String(tlsPort)],
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(linesWith(r.stderr, 'host name check disabled').length, 1, r.stderr);
    assert.match(r.stderr, /^dicomnet: warning: TLS: server host name check disabled/m);
  });
});
