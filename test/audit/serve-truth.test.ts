import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { AuditMessage } from '../../src/audit/index.js';
import { runCli } from '../helpers/cli.js';
import { freePort, hasDcmtk, run } from '../helpers/dcmtk.js';
import { type ServeProcess, startServe } from '../interop/node-helpers.js';

const skip = hasDcmtk() ? false : 'DCMTK is not installed';

function records(path: string): AuditMessage[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditMessage);
}

/** A plain-TCP `dicomnet serve` whose config names VIEWER as a peer (it may query). */
async function serve(work: string): Promise<{ s: ServeProcess; port: number; auditFile: string }> {
  const port = await freePort();
  const auditFile = join(work, 'audit.log');
  const config = join(work, 'node.json');
  writeFileSync(
    config,
    JSON.stringify({ peers: { VIEWER: { host: '127.0.0.1', port: await freePort(), tls: false } } }),
  );
  const s = await startServe(
    [
      ...['--storage', join(work, 'storage'), '--host', '127.0.0.1'],
      ...['--port', String(port), '--tls-port', 'off', '--audit-file', auditFile, '--config', config],
    ],
    { cwd: work, waitPort: port, timeoutMs: 30_000 },
  );
  return { s, port, auditFile };
}

describe('dicomnet serve: the audit trail and the log carry query keys, never their values', { skip }, () => {
  const serves: ServeProcess[] = [];
  after(async () => {
    for (const s of serves) await s.kill9();
  });

  test('findscu with a malformed PatientBirthDate: refused, and the value reaches neither the log nor the audit file', async () => {
    const work = mkdtempSync(join(tmpdir(), 'audit-phi-'));
    const node = await serve(work);
    serves.push(node.s);
    const found = await run('findscu', [
      '-v',
      '-P',
      ...['-aet', 'VIEWER', '-aec', 'DICOMNET', '127.0.0.1', String(node.port)],
      ...['-k', 'QueryRetrieveLevel=PATIENT', '-k', 'PatientBirthDate=19700132', '-k', 'PatientID'],
    ]);
    assert.match(
      found.stdout + found.stderr,
      /0xc000|Unable to process|Failed/i,
      found.stdout + found.stderr,
    );
    assert.equal(await node.s.stop('SIGTERM'), 0, node.s.stderr().slice(-2000));

    const log = node.s.stderr() + node.s.stdout();
    const file = readFileSync(node.auditFile, 'utf8');
    assert.ok(log.includes('PatientBirthDate'), 'the log names the key');
    assert.ok(!log.includes('19700132'), `the value is not in the log:\n${log}`);
    assert.ok(!file.includes('19700132'), 'the value is not in the audit file');
    const query = records(node.auditFile).find((m) => m.eventId.code === '110112');
    assert.equal(query?.eventOutcomeIndicator, 4);
    assert.match(query?.eventOutcomeDescription ?? '', /PatientBirthDate \(DA\)/);
    assert.match(String(query?.participantObjects?.[0]?.detail?.keys), /PatientBirthDate/);

    // the file the node wrote is one hash chain, whose head the node logged when it stopped
    const verified = await runCli(['audit', 'verify', node.auditFile]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    const n = records(node.auditFile).length;
    assert.match(verified.stdout, new RegExp(`^ok ${n} records\n`));
    const head = /head: seq (\d+) sha256 ([0-9a-f]{64})/.exec(verified.stdout);
    assert.ok(
      node.s.logLines().some((l) => l.seq === Number(head?.[1]) && l.sha256 === head?.[2]),
      'the chain head is in the log',
    );
  });
});
