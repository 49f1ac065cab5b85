import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  AuditConfigError,
  AuditFileSink,
  type AuditMessage,
  FACILITY_AUTHPRIV,
  formatSyslogMessage,
  frameOctetCounted,
  MSGID_ATNA,
  OctetCountedParser,
  parseSyslogMessage,
  SEVERITY_NOTICE,
  SyslogFrameError,
} from '../../src/audit/index.js';

const header = {
  facility: FACILITY_AUTHPRIV,
  severity: SEVERITY_NOTICE,
  timestamp: new Date('2026-01-02T03:04:05.678Z'),
  hostname: 'pacs.example.org',
  appName: 'dicomnet',
  procId: '4242',
  msgId: MSGID_ATNA,
};

describe('RFC 5424 messages and RFC 5425 octet-counting frames', () => {
  test('header: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG, authpriv.notice = 85', () => {
    const msg = formatSyslogMessage(header, '<AuditMessage/>');
    assert.equal(
      msg.toString('utf8'),
      '<85>1 2026-01-02T03:04:05.678Z pacs.example.org dicomnet 4242 IHE+RFC-3881 - <AuditMessage/>',
    );
    const parsed = parseSyslogMessage(msg);
    assert.equal(parsed.pri, 85);
    assert.equal(parsed.msgId, 'IHE+RFC-3881');
    assert.equal(parsed.msg, '<AuditMessage/>');
    assert.equal(parsed.bom, false);
  });

  test('header fields are printable US-ASCII, bounded, NILVALUE when empty; MSG may carry a BOM', () => {
    const msg = formatSyslogMessage(
      { ...header, hostname: 'bad host\u00e9', appName: '', procId: 'x'.repeat(200) },
      'é',
      {
        bom: true,
      },
    );
    const parsed = parseSyslogMessage(msg);
    assert.equal(parsed.hostname, 'bad_host_');
    assert.equal(parsed.appName, '-');
    assert.equal(parsed.procId.length, 128);
    assert.equal(parsed.bom, true);
    assert.equal(parsed.msg, 'é');
  });

  test('frames count octets, not characters, and the parser reassembles any split', () => {
    const messages = ['<a>é€😀</a>', 'x', 'y'.repeat(5000)].map((m) => formatSyslogMessage(header, m));
    const stream = Buffer.concat(messages.map(frameOctetCounted));
    assert.match(stream.toString('latin1'), /^\d+ <85>1 /);
    const first = messages[0] as Buffer;
    assert.ok(stream.toString('latin1').startsWith(`${first.length} `));
    for (const step of [1, 7, 4096, stream.length]) {
      const parser = new OctetCountedParser();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += step) out.push(...parser.push(stream.subarray(i, i + step)));
      assert.deepEqual(
        out.map((b) => b.toString('hex')),
        messages.map((b) => b.toString('hex')),
      );
    }
  });

  test('the parser refuses a bad MSG-LEN and an oversized frame with a typed error', () => {
    assert.throws(() => new OctetCountedParser().push(Buffer.from('012 abc')), SyslogFrameError);
    assert.throws(() => new OctetCountedParser().push(Buffer.from('<85>1 no frame')), SyslogFrameError);
    assert.throws(() => new OctetCountedParser(100).push(Buffer.from('101 ')), /more than the 100 allowed/);
    assert.throws(() => new OctetCountedParser().push(Buffer.from('12345678901')), SyslogFrameError);
  });
});

describe('the local audit file', () => {
  const message = (n: number): AuditMessage => ({
    eventId: { code: '110100', codeSystemName: 'DCM', displayName: 'Application Activity' },
    eventActionCode: 'E',
    eventDateTime: new Date().toISOString(),
    eventOutcomeIndicator: 0,
    auditSourceId: `N${n}`,
    activeParticipants: [{ userId: 'line\nbreak', userIsRequestor: false }],
  });

  test('appends one JSON record per line, keeps what was there, creates the file 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-file-'));
    const path = join(dir, 'sub', 'audit.log');
    const first = new AuditFileSink(path);
    first.write(message(1));
    await first.close();
    if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o600);
    for (const fsync of ['always', 'batch', 'none'] as const) {
      const again = new AuditFileSink(path, { fsync });
      again.write(message(2));
      again.write(message(3));
      await again.close();
    }
    const lines = readFileSync(path, 'utf8').split('\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as AuditMessage).auditSourceId),
      ['N1', 'N2', 'N3', 'N2', 'N3', 'N2', 'N3'],
    );
  });

  test('a file that cannot be opened is a typed configuration error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'audit-file-'));
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, '');
    assert.throws(() => new AuditFileSink(join(blocker, 'audit.log')), AuditConfigError);
  });

  test('writes after close are ignored, not thrown', async () => {
    const sink = new AuditFileSink(join(mkdtempSync(join(tmpdir(), 'audit-file-')), 'a.log'));
    await sink.close();
    sink.write(message(9));
    assert.equal(sink.failures, 0);
  });
});
