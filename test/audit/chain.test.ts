import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  AuditFileSink,
  type AuditMessage,
  type ChainedAuditRecord,
  chainedLine,
  GENESIS,
  lineHash,
  verifyAuditChain,
} from '../../src/audit/index.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { AuditTrail } from '../../src/node/audit.js';
import { runCli } from '../helpers/cli.js';

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'audit-chain-'));
}

/** Write `n` Login records (calling AEs AE1..AEn) through a real sink. */
async function writeRecords(path: string, n: number, from = 1): Promise<void> {
  const sink = new AuditFileSink(path, { fsync: 'none' });
  const audit = new AuditTrail(silentLogger(), 'DICOMNET', [sink]);
  for (let i = from; i < from + n; i++) audit.associationRejected({ callingAet: `AE${i}` }, 'test');
  await audit.close();
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}

function writeLines(path: string, content: string[]): void {
  writeFileSync(path, content.map((l) => `${l}\n`).join(''));
}

describe('audit file hash chain', () => {
  test('each line carries its seq and the SHA-256 of the line before; readers still see the audit message', async () => {
    const path = join(dir(), 'audit.log');
    await writeRecords(path, 3);
    const got = lines(path);
    assert.equal(got.length, 3);
    const records = got.map((l) => JSON.parse(l) as ChainedAuditRecord);
    assert.deepEqual(
      records.map((r) => r.chain),
      [
        { seq: 1, prev: GENESIS },
        { seq: 2, prev: lineHash(got[0] as string) },
        { seq: 3, prev: lineHash(got[1] as string) },
      ],
    );
    assert.equal(records[1]?.eventId.code, '110114');
    assert.equal(records[1]?.activeParticipants[0]?.userId, 'AE2');
    assert.deepEqual(await verifyAuditChain([path]), {
      ok: true,
      records: 3,
      unchained: 0,
      first: { seq: 1, prev: GENESIS },
      head: { seq: 3, hash: lineHash(got[2] as string) },
    });
    // the head file beside it holds the same head
    assert.deepEqual(JSON.parse(readFileSync(`${path}.head`, 'utf8')), {
      seq: 3,
      hash: lineHash(got[2] as string),
    });
  });

  test('a restarted node appends and carries the chain on', async () => {
    const path = join(dir(), 'audit.log');
    await writeRecords(path, 2);
    await writeRecords(path, 2, 3);
    const got = lines(path);
    assert.equal((JSON.parse(got[2] as string) as ChainedAuditRecord).chain.seq, 3);
    const verdict = await verifyAuditChain([path]);
    assert.equal(verdict.ok && verdict.records, 4);
  });

  test('verify names the first line that was changed, removed or inserted', async () => {
    const work = dir();
    const path = join(work, 'audit.log');
    await writeRecords(path, 6);
    const original = lines(path);
    const tampered = join(work, 'tampered.log');

    // changed: line 3 says AE9 instead of AE3 (its own link untouched)
    writeLines(
      tampered,
      original.map((l, i) => (i === 2 ? l.replace('"AE3"', '"AE9"') : l)),
    );
    assert.deepEqual(pick(await verifyAuditChain([tampered])), { line: 3, problem: 'changed' });

    // removed: line 4 deleted
    writeLines(
      tampered,
      original.filter((_, i) => i !== 3),
    );
    const removed = await verifyAuditChain([tampered]);
    assert.deepEqual(pick(removed), { line: 4, problem: 'removed' });
    assert.match(
      removed.ok ? '' : removed.message,
      /1 record\(s\) removed before this line \(seq 4 missing\)/,
    );

    // inserted: a well-formed record forged after line 2, linked to it
    const forged = chainedLine(JSON.parse(original[1] as string) as AuditMessage, {
      seq: 2,
      hash: lineHash(original[1] as string),
    });
    writeLines(tampered, [...original.slice(0, 2), forged, ...original.slice(2)]);
    assert.deepEqual(pick(await verifyAuditChain([tampered])), { line: 3, problem: 'inserted' });

    // a line that is not a record at all
    writeLines(tampered, [...original.slice(0, 4), 'hello', ...original.slice(4)]);
    assert.deepEqual(pick(await verifyAuditChain([tampered])), { line: 5, problem: 'not-a-record' });

    // two lines swapped: the first out of place is reported
    writeLines(tampered, [original[0], original[2], original[1], ...original.slice(3)] as string[]);
    assert.equal((await verifyAuditChain([tampered])).ok, false);

    // the last line changed: no later line notices; the head differs from the one the node logged
    writeLines(
      tampered,
      original.map((l, i) => (i === 5 ? l.replace('"AE6"', '"AE7"') : l)),
    );
    const tail = await verifyAuditChain([tampered]);
    assert.ok(tail.ok);
    assert.notEqual(tail.head.hash, lineHash(original[5] as string));
  });

  test("rotation: the new file starts with the hash of the old one's last record; verify checks across files", async () => {
    const work = dir();
    const path = join(work, 'audit.log');
    await writeRecords(path, 3);
    const oldLast = lines(path)[2] as string;
    renameSync(path, join(work, 'audit.log.1'));
    await writeRecords(path, 2, 4);
    const first = JSON.parse(lines(path)[0] as string) as ChainedAuditRecord;
    assert.deepEqual(first.chain, { seq: 4, prev: lineHash(oldLast) });

    const alone = await verifyAuditChain([path]);
    assert.ok(alone.ok);
    assert.deepEqual(alone.first, { seq: 4, prev: lineHash(oldLast) });
    const both = await verifyAuditChain([join(work, 'audit.log.1'), path]);
    assert.equal(both.ok && both.records, 5);
    const reversed = await verifyAuditChain([path, join(work, 'audit.log.1')]);
    assert.equal(reversed.ok, false);
  });

  test('a file written before the chain existed: the chain starts after its lines; a torn last record is ended and reported', async () => {
    const work = dir();
    const path = join(work, 'audit.log');
    const legacy = { eventId: { code: '110100' }, eventActionCode: 'E' };
    writeLines(path, [JSON.stringify(legacy), JSON.stringify(legacy)]);
    await writeRecords(path, 2);
    const verdict = await verifyAuditChain([path]);
    assert.ok(verdict.ok);
    assert.deepEqual([verdict.records, verdict.unchained], [2, 2]);

    appendFileSync(path, '{"eventId":{"code":"1101');
    await writeRecords(path, 1, 9);
    assert.equal(readFileSync(path, 'utf8').endsWith('\n'), true);
    assert.deepEqual(pick(await verifyAuditChain([path])), { line: 5, problem: 'not-a-record' });
  });

  test("two sinks taking turns on one file: each links to the other's last line and warns; a file cut under a sink is reported", async () => {
    const work = dir();
    const path = join(work, 'audit.log');
    const logged: string[] = [];
    const logger = createLogger({
      level: 'warn',
      destination: { write: (l: string) => void logged.push(l) },
    });
    const a = new AuditTrail(logger, 'DICOMNET', [new AuditFileSink(path, { fsync: 'none', logger })]);
    const b = new AuditTrail(logger, 'DICOMNET', [new AuditFileSink(path, { fsync: 'none', logger })]);
    for (let i = 0; i < 3; i++) {
      a.associationRejected({ callingAet: `A${i}` }, 'test');
      b.associationRejected({ callingAet: `B${i}` }, 'test');
    }
    const verdict = await verifyAuditChain([path]);
    assert.equal(verdict.ok && verdict.records, 6);
    assert.ok(logged.some((l) => l.includes('appended to by another writer')));

    writeFileSync(path, readFileSync(path, 'utf8').split('\n').slice(0, 2).join('\n') + '\n');
    a.associationRejected({ callingAet: 'AFTER' }, 'test');
    assert.ok(logged.some((l) => /shrank from \d+ to \d+ bytes while open/.test(l)));
    assert.equal((await verifyAuditChain([path])).ok, false, 'the line after the cut shows it');
    await a.close();
    await b.close();
  });

  test('dicomnet audit verify: "ok N records" and exit 0, or the first broken line and exit 1', async () => {
    const work = dir();
    const path = join(work, 'audit.log');
    await writeRecords(path, 4);
    const ok = await runCli(['audit', 'verify', path]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^ok 4 records\nhead: seq 4 sha256 [0-9a-f]{64}\n$/);

    const original = lines(path);
    writeLines(
      path,
      original.filter((_, i) => i !== 1),
    );
    const bad = await runCli(['audit', 'verify', path]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, `${path} line 2: 1 record(s) removed before this line (seq 2 missing)\n`);

    const missing = await runCli(['audit', 'verify', join(work, 'nope.log')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot open .*nope\.log: ENOENT/);
  });
});

function pick(v: Awaited<ReturnType<typeof verifyAuditChain>>): { line: number; problem: string } | 'ok' {
  return v.ok ? 'ok' : { line: v.line, problem: v.problem };
}
