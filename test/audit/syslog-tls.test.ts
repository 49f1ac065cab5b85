import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  AuditConfigError,
  FACILITY_AUTHPRIV,
  formatSyslogMessage,
  MSGID_ATNA,
  SEVERITY_NOTICE,
  SyslogTlsSender,
} from '../../src/audit/index.js';
import { createLogger } from '../../src/log.js';
import { freePort } from '../helpers/dcmtk.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { startSyslogReceiver, type SyslogReceiver } from './receiver.js';

function message(text: string): Buffer {
  return formatSyslogMessage(
    {
      facility: FACILITY_AUTHPRIV,
      severity: SEVERITY_NOTICE,
      timestamp: new Date(),
      hostname: 'test',
      appName: 'dicomnet',
      procId: String(process.pid),
      msgId: MSGID_ATNA,
    },
    text,
  );
}

/** A logger whose JSON lines are kept. */
function captureLogger() {
  const lines: { level: number; msg: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n'))
        if (l) lines.push(JSON.parse(l) as { level: number; msg: string });
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

async function until(cond: () => boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('RFC 5425 syslog-over-TLS sender against a real TLS receiver', () => {
  let pki: TestPki;
  const receivers: SyslogReceiver[] = [];
  const senders: SyslogTlsSender[] = [];
  before(async () => {
    pki = await makeTestPki(mkdtempSync(join(tmpdir(), 'audit-pki-')));
  });
  after(async () => {
    for (const s of senders) await s.close(0);
    for (const r of receivers) await r.close();
  });
  const receiver = async (options: { port?: number; mutual?: boolean; untrusted?: boolean } = {}) => {
    const r = await startSyslogReceiver({
      key: options.untrusted ? pki.untrustedServer.key : pki.server.key,
      cert: options.untrusted ? pki.untrustedServer.cert : pki.server.cert,
      ca: options.mutual ? pki.caCert : undefined,
      port: options.port,
    });
    receivers.push(r);
    return r;
  };
  const sender = (options: Partial<ConstructorParameters<typeof SyslogTlsSender>[0]> & { port: number }) => {
    const s = new SyslogTlsSender({
      host: 'localhost',
      ca: pki.caCert,
      initialBackoffMs: 100,
      maxBackoffMs: 400,
      ...options,
    });
    senders.push(s);
    return s;
  };

  test('delivers framed messages in order over a mutually authenticated connection', async () => {
    const r = await receiver({ mutual: true });
    const s = sender({ port: r.port, cert: pki.client.cert, key: pki.client.key });
    s.start();
    for (let i = 0; i < 200; i++) s.send(message(`<m n="${i}">é</m>`));
    const got = await r.waitFor(() => true, 200);
    assert.deepEqual(
      got.map((m) => m.msg),
      Array.from({ length: 200 }, (_, i) => `<m n="${i}">é</m>`),
    );
    assert.equal(got[0]?.clientCn, 'client');
    assert.equal(got[0]?.pri, 85);
    assert.deepEqual(r.errors, []);
    const stats = await s.close(5000);
    assert.equal(stats.sent, 200);
    assert.equal(stats.dropped, 0);
    assert.equal(r.connections, 1);
  });

  test('verifies the collector: an untrusted certificate gets nothing, and the cause is logged', async () => {
    const r = await receiver({ untrusted: true });
    const { logger, lines } = captureLogger();
    const s = sender({ port: r.port, logger });
    s.start();
    s.send(message('secret audit'));
    await until(
      () => lines.some((l) => l.msg.startsWith('audit syslog: cannot connect')),
      20_000,
      'a warning',
    );
    const warning = lines.find((l) => l.msg.startsWith('audit syslog: cannot connect'));
    assert.equal(warning?.level, 40);
    assert.match(warning?.msg ?? '', /certificate|self[- ]signed|issuer/i);
    assert.equal(r.messages.length, 0);
    const stats = await s.close(300);
    assert.equal(stats.sent, 0);
    assert.equal(stats.dropped, 1);
  });

  test('collector down at start: messages wait in the queue and are delivered once it comes up', async () => {
    const port = await freePort();
    const { logger, lines } = captureLogger();
    const s = sender({ port, logger, queueLimit: 100 });
    s.start();
    for (let i = 0; i < 20; i++) s.send(message(`early ${i}`));
    await until(() => s.stats.failures >= 2, 20_000, 'reconnect attempts');
    assert.equal(s.stats.queued, 20);
    // one warning for the outage, not one per attempt
    assert.equal(lines.filter((l) => l.msg.startsWith('audit syslog: cannot connect')).length, 1);
    const r = await receiver({ port });
    const got = await r.waitFor(() => true, 20);
    assert.deepEqual(
      got.map((m) => m.msg),
      Array.from({ length: 20 }, (_, i) => `early ${i}`),
    );
    await until(() => s.stats.connected && s.stats.queued === 0, 20_000, 'queue drained');
    assert.ok(lines.some((l) => l.level === 30 && l.msg.startsWith('audit syslog: connected')));
  });

  test('a full queue drops the oldest messages, counts them and says so once', async () => {
    const port = await freePort();
    const { logger, lines } = captureLogger();
    const s = sender({ port, logger, queueLimit: 10 });
    s.start();
    for (let i = 0; i < 25; i++) s.send(message(`m${i}`));
    assert.equal(s.stats.dropped, 15);
    assert.equal(s.stats.queued, 10);
    assert.equal(lines.filter((l) => l.msg.startsWith('audit syslog: queue full')).length, 1);
    const r = await receiver({ port });
    const got = await r.waitFor(() => true, 10);
    assert.deepEqual(
      got.map((m) => m.msg),
      Array.from({ length: 10 }, (_, i) => `m${i + 15}`),
    );
    await until(
      () => lines.some((l) => /15 message\(s\) were dropped/.test(l.msg)),
      20_000,
      'recovery log line',
    );
  });

  test('a collector closing an idle connection is no outage: no warning, the next message reconnects', async () => {
    const port = await freePort();
    const first = await receiver({ port });
    const { logger, lines } = captureLogger();
    const s = sender({ port, logger });
    s.start();
    s.send(message('before'));
    await first.waitFor((m) => m.msg === 'before');
    await first.close();
    await until(() => !s.stats.connected, 20_000, 'the close to be noticed');
    const second = await receiver({ port });
    s.send(message('after'));
    await second.waitFor((m) => m.msg === 'after');
    assert.equal(s.stats.connects, 2);
    assert.equal(s.stats.failures, 0);
    assert.deepEqual(
      lines.filter((l) => l.level >= 40).map((l) => l.msg),
      [],
    );
  });

  test('reconnects after the collector restarts while messages are waiting', async () => {
    const port = await freePort();
    const first = await receiver({ port });
    const s = sender({ port });
    s.start();
    s.send(message('before'));
    await first.waitFor((m) => m.msg === 'before');
    await first.close();
    await until(() => !s.stats.connected, 20_000, 'the loss to be noticed');
    s.send(message('during'));
    await until(() => s.stats.failures >= 1, 20_000, 'a failed reconnect');
    const second = await receiver({ port });
    await second.waitFor((m) => m.msg === 'during');
    assert.ok(s.stats.connects >= 2);
  });

  test('close() with the collector down returns by its deadline and reports what was not delivered', async () => {
    const s = sender({ port: await freePort() });
    s.start();
    s.send(message('lost'));
    const started = Date.now();
    const stats = await s.close(500);
    assert.ok(Date.now() - started < 3000, `close took ${Date.now() - started} ms`);
    assert.equal(stats.dropped, 1);
    assert.equal(stats.queued, 0);
    s.send(message('after close'));
    assert.equal(s.stats.dropped, 2);
  });

  test('unreadable CA, a certificate without its key, or a key that does not match is a typed configuration error', () => {
    assert.throws(
      () => new SyslogTlsSender({ host: 'localhost', ca: '/nonexistent/ca.pem' }),
      AuditConfigError,
    );
    assert.throws(
      () => new SyslogTlsSender({ host: 'localhost', ca: pki.caCert, cert: pki.client.cert }),
      AuditConfigError,
    );
    assert.throws(
      () =>
        new SyslogTlsSender({
          host: 'localhost',
          ca: pki.caCert,
          cert: pki.client.cert,
          key: pki.server.key,
        }),
      /audit syslog: unusable TLS credentials/,
    );
  });
});
