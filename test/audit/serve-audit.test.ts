import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AuditMessage } from '../../src/audit/index.js';
import { freePort, hasDcmtk, run } from '../helpers/dcmtk.js';
import { makeTestPki, type TestPki } from '../helpers/pki.js';
import { makeStudy } from '../helpers/samples.js';
import { type ServeProcess, startServe } from '../interop/node-helpers.js';
import {
  assertWellFormed,
  eventIdOf,
  type ReceivedMessage,
  startSyslogReceiver,
  type SyslogReceiver,
} from './receiver.js';

const skip = hasDcmtk() ? false : 'DCMTK is not installed';

function readAuditFile(path: string): AuditMessage[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditMessage);
}

async function until<T>(probe: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The EventOutcomeIndicator of an audit XML. */
function outcomeOf(xml: string): number {
  return Number(/EventOutcomeIndicator="(\d+)"/.exec(xml)?.[1]);
}

describe(
  'dicomnet serve sends its audit trail to a syslog collector over TLS and to its file',
  { skip },
  () => {
    const work = mkdtempSync(join(tmpdir(), 'audit-serve-'));
    let pki: TestPki;
    const receivers: SyslogReceiver[] = [];
    const serves: ServeProcess[] = [];

    before(async () => {
      pki = await makeTestPki(mkdtempSync(join(work, 'pki-')));
    });
    after(async () => {
      for (const s of serves) await s.kill9();
      for (const r of receivers) await r.close();
    });

    async function serve(name: string, syslogPort: number, extra: Record<string, unknown> = {}) {
      const dir = join(work, name);
      mkdirSync(dir);
      const auditFile = join(dir, 'audit', 'audit.log');
      const config = join(dir, 'node.json');
      writeFileSync(
        config,
        JSON.stringify({
          acceptAnyCalledAet: false,
          // C-FIND over plain TCP needs a configured peer
          peers: { VIEWER: {} },
          audit: {
            file: auditFile,
            syslog: { host: 'localhost', port: syslogPort, ca: pki.caCert, ...extra },
          },
        }),
      );
      const plainPort = await freePort();
      const tlsPort = await freePort();
      const s = await startServe(
        [
          ...['--storage', join(dir, 'storage'), '--host', '127.0.0.1'],
          ...['--port', String(plainPort), '--tls-port', String(tlsPort)],
          ...['--key', pki.server.key, '--cert', pki.server.cert, '--ca', pki.caCert, '--require-peer-cert'],
          ...['--client-key', pki.client.key, '--client-cert', pki.client.cert, '--config', config],
        ],
        { cwd: dir, waitPort: tlsPort, timeoutMs: 30_000 },
      );
      serves.push(s);
      return { s, plainPort, tlsPort, auditFile };
    }

    const dcmtkTls = (): string[] => ['+tls', pki.client.key, pki.client.cert, '+cf', pki.caCert];

    test('rejected association, untrusted TLS client, C-STORE with user identity, C-FIND and stop: framed RFC 5424 messages with the right EventIDs, the same records in the file', async () => {
      const collector = await startSyslogReceiver({
        key: pki.server.key,
        cert: pki.server.cert,
        ca: pki.caCert,
      });
      receivers.push(collector);
      const node = await serve('main', collector.port);
      const study = makeStudy(join(work, 'study'), 3, { pixelBytes: 1024, patientId: 'AUDIT1' });

      // 1. wrong called AE title
      const rejected = await run('echoscu', [
        '-aet',
        'PROBE',
        '-aec',
        'WRONG',
        '127.0.0.1',
        String(node.plainPort),
      ]);
      assert.notEqual(rejected.code, 0);
      // 2. a client certificate from a CA nobody trusts
      const untrusted = await run('echoscu', [
        '+tls',
        pki.untrustedClient.key,
        pki.untrustedClient.cert,
        '+cf',
        pki.caCert,
        '-aec',
        'DICOMNET',
        '127.0.0.1',
        String(node.tlsPort),
      ]);
      assert.notEqual(untrusted.code, 0);
      // 3. C-STORE over TLS with a User Identity item (username + passcode)
      const stored = await run(
        'storescu',
        [
          ...dcmtkTls(),
          ...['-usr', 'jdoe', '-pwd', 'not-in-the-audit'],
          ...['-aet', 'MODALITY', '-aec', 'DICOMNET', '127.0.0.1', String(node.tlsPort)],
          ...study.map((i) => i.path),
        ],
        { timeoutMs: 60_000 },
      );
      assert.equal(stored.code, 0, stored.stdout + stored.stderr);
      // 4. C-FIND
      const found = await run('findscu', [
        '-S',
        ...['-aet', 'VIEWER', '-aec', 'DICOMNET', '127.0.0.1', String(node.plainPort)],
        ...['-k', 'QueryRetrieveLevel=STUDY', '-k', 'PatientID=AUDIT1', '-k', 'StudyInstanceUID'],
      ]);
      assert.equal(found.code, 0, found.stdout + found.stderr);
      // the stored event is written when the association has ended
      await collector.waitFor((m) => eventIdOf(m.msg) === '110104');
      await collector.waitFor((m) => eventIdOf(m.msg) === '110112');
      // 5. stop: the Application Stop message is flushed before the process exits
      assert.equal(await node.s.stop('SIGTERM'), 0, node.s.stderr().slice(-2000));

      const received = collector.messages;
      assert.deepEqual(collector.errors, []);
      for (const m of received) {
        assert.equal(m.version, 1);
        assert.equal(
          m.pri,
          outcomeOf(m.msg) === 0 ? 85 : 84,
          'authpriv.notice, authpriv.warning for failures',
        );
        assert.equal(m.msgId, 'IHE+RFC-3881');
        assert.equal(m.appName, 'dicomnet');
        assert.equal(m.procId, String(node.s.child.pid));
        assert.equal(
          m.clientCn,
          'client',
          'the node authenticates to the collector with its client certificate',
        );
        assertWellFormed(m.msg);
        assert.ok(!m.msg.includes('not-in-the-audit'), 'never the passcode');
      }
      const xmlOf = (pred: (m: ReceivedMessage) => boolean, what: string): string => {
        const m = received.find(pred);
        assert.ok(m, `${what} received; got ${received.map((r) => eventIdOf(r.msg)).join(', ')}`);
        return m.msg;
      };
      const ev =
        (id: string, extra: RegExp = /./) =>
        (m: ReceivedMessage) =>
          eventIdOf(m.msg) === id && extra.test(m.msg);
      xmlOf(ev('110100', /csd-code="110120"/), 'Application Start');
      const reject = xmlOf(
        ev('110114', /EventOutcomeIndicator="4"[^]*UserID="PROBE"/),
        'rejected association (Login failure)',
      );
      assert.match(reject, /UserID="PROBE"/);
      assert.match(reject, /called AE title not recognized/);
      const alert = xmlOf(ev('110113'), 'Security Alert');
      assert.match(alert, /<EventTypeCode csd-code="110126"/);
      assert.match(alert, /NetworkAccessPointID="127.0.0.1"/);
      assert.match(alert, /AlternativeUserID="[^"]*CN=untrusted[^"]*"/i);
      assert.match(alert, /<ParticipantObjectName>[^<]*CN=/);
      xmlOf(
        ev(
          '110114',
          /EventOutcomeIndicator="0"[^]*UserID="CN=client[^"]*" AlternativeUserID="AETITLES=MODALITY"/,
        ),
        'TLS association accepted (Login): the verified certificate subject is the user',
      );
      const identity = xmlOf(ev('110114', /UserName="jdoe"/), 'User Identity (Login)');
      assert.match(identity, /UserID="not authenticated"/);
      assert.match(
        identity,
        /EventOutcomeIndicator="4"/,
        'an unverified username and passcode is not a Success',
      );
      const storedXml = xmlOf(ev('110104', /EventActionCode="C"/), 'Instances Transferred (create)');
      assert.match(
        storedXml,
        new RegExp(`ParticipantObjectID="${(study[0] as { studyInstanceUid: string }).studyInstanceUid}"`),
      );
      // the Patient participant object (PS3.15 A.5.3.13)
      assert.match(
        storedXml,
        /<ParticipantObjectIdentification ParticipantObjectID="AUDIT1" ParticipantObjectTypeCode="1" ParticipantObjectTypeCodeRole="1">/,
      );
      assert.ok(
        !node.s.stderr().includes('AUDIT1'),
        'the log lines carry no patient data (the file and the collector do)',
      );
      xmlOf(ev('110112', /UserID="VIEWER"/), 'Query');
      xmlOf(ev('110100', /csd-code="110121"/), 'Application Stop');

      // the local file holds the same records, in the same order
      const file = readAuditFile(node.auditFile);
      assert.deepEqual(
        file.map((m) => [m.eventId.code, m.eventOutcomeIndicator, m.eventDateTime]),
        received.map((m) => [eventIdOf(m.msg), outcomeOf(m.msg), /EventDateTime="([^"]+)"/.exec(m.msg)?.[1]]),
      );
      assert.ok(!readFileSync(node.auditFile, 'utf8').includes('not-in-the-audit'));
    });

    test('collector down at start: the node serves anyway, queues (dropping the oldest beyond the limit) and delivers once the collector is up', async () => {
      const syslogPort = await freePort();
      const node = await serve('down', syslogPort, { queueLimit: 3 });
      // Application Start + 3 logins = 4 messages for a queue of 3: the oldest (start) is dropped
      for (const aet of ['ONE', 'TWO', 'THREE']) {
        const r = await run('echoscu', [
          '-aet',
          aet,
          '-aec',
          'DICOMNET',
          '127.0.0.1',
          String(node.plainPort),
        ]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
      }
      await until(
        () => node.s.logLines().find((l) => String(l.msg).startsWith('audit syslog: queue full')),
        'the queue-full warning',
      );
      assert.ok(node.s.logLines().some((l) => String(l.msg).startsWith('audit syslog: cannot connect')));
      const collector = await startSyslogReceiver({
        key: pki.server.key,
        cert: pki.server.cert,
        ca: pki.caCert,
        port: syslogPort,
      });
      receivers.push(collector);
      const got = await collector.waitFor(() => true, 3, 30_000);
      assert.deepEqual(
        got.map((m) => /AlternativeUserID="AETITLES=([^"]+)"/.exec(m.msg)?.[1]),
        ['ONE', 'TWO', 'THREE'],
      );
      await until(
        () => node.s.logLines().find((l) => /1 message\(s\) were dropped/.test(String(l.msg))),
        'the recovery line counting the dropped message',
      );
      assert.equal(await node.s.stop('SIGTERM'), 0);
      await collector.waitFor((m) => /csd-code="110121"/.test(m.msg));
      // the file has everything, the dropped start included
      const file = readAuditFile(node.auditFile);
      assert.deepEqual(
        file.map((m) =>
          m.eventId.code === '110114'
            ? m.activeParticipants[0]?.alternativeUserId?.replace('AETITLES=', '')
            : m.eventTypeCode?.code,
        ),
        ['110120', 'ONE', 'TWO', 'THREE', '110121'],
      );
    });
  },
);
