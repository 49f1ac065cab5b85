import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AuditMessage, type AuditSink, auditMessageXml } from '../../src/audit/index.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { AuditTrail, isTlsAuthenticationFailure } from '../../src/node/audit.js';
import { TlsError } from '../../src/tls/errors.js';
import type { SecureLinkInfo } from '../../src/tls/types.js';
import { assertWellFormed, eventIdOf } from './receiver.js';

/** A sink that keeps what it is given. */
function memorySink(): AuditSink & { messages: AuditMessage[] } {
  const messages: AuditMessage[] = [];
  return { messages, write: (m) => messages.push(m), close: async () => undefined };
}

function trail() {
  const sink = memorySink();
  return { audit: new AuditTrail(silentLogger(), 'DICOMNET', [sink]), sink };
}

const secureLink = {
  protocol: 'TLSv1.3',
  cipherSuite: 'TLS_AES_256_GCM_SHA384',
  peerCertificate: { subject: 'CN=modality, O=Hospital' },
} as SecureLinkInfo;

const peer = { callingAet: 'MODALITY', remoteAddress: '::ffff:10.0.0.7', secureLink };

/** The single message a call produced, its XML checked for well-formedness. */
function only(sink: { messages: AuditMessage[] }): { m: AuditMessage; xml: string } {
  assert.equal(sink.messages.length, 1);
  const m = sink.messages[0] as AuditMessage;
  const xml = auditMessageXml(m);
  assertWellFormed(xml);
  assert.equal(eventIdOf(xml), m.eventId.code);
  assert.match(m.eventDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(m.auditSourceId, 'DICOMNET');
  assert.match(xml, /<AuditSourceIdentification AuditSourceID="DICOMNET"><AuditSourceTypeCode csd-code="4"/);
  return { m, xml };
}

describe('audit events (PS3.15 A.5.3): JSON form and DICOM audit message XML', () => {
  test('Application Activity: start and stop, the node as Application, its launcher', () => {
    const { audit, sink } = trail();
    audit.applicationActivity('start', { plain: 11112, tls: 2762 });
    const { m, xml } = only(sink);
    assert.equal(m.eventId.code, '110100');
    assert.equal(m.eventTypeCode?.code, '110120');
    assert.equal(m.eventActionCode, 'E');
    assert.equal(m.eventOutcomeIndicator, 0);
    const node = m.activeParticipants[0];
    assert.equal(node?.userId, 'DICOMNET');
    assert.equal(node?.alternativeUserId, String(process.pid));
    assert.equal(node?.roleIdCode?.code, '110150');
    assert.match(
      xml,
      /<EventIdentification EventActionCode="E" EventDateTime="[^"]+" EventOutcomeIndicator="0"><EventID csd-code="110100" codeSystemName="DCM" originalText="Application Activity"\/><EventTypeCode csd-code="110120" codeSystemName="DCM" originalText="Application Start"\/><\/EventIdentification>/,
    );
    assert.match(
      xml,
      /<ActiveParticipant UserID="DICOMNET" AlternativeUserID="\d+" UserIsRequestor="false"><RoleIDCode csd-code="110150" codeSystemName="DCM" originalText="Application"\/><\/ActiveParticipant>/,
    );
    // detail values are base64 in the XML (ValuePair)
    assert.match(
      xml,
      new RegExp(
        `<ParticipantObjectDetail type="plain" value="${Buffer.from('11112').toString('base64')}"/>`,
      ),
    );
    sink.messages.length = 0;
    audit.applicationActivity('stop');
    assert.equal(only(sink).m.eventTypeCode?.code, '110121');
  });

  test('association accepted: a Success only with a verified client certificate, whose subject is the user; the AE title is what the peer claimed', () => {
    const { audit, sink } = trail();
    audit.associationAccepted(peer);
    const accepted = only(sink);
    assert.equal(accepted.m.eventId.code, '110114');
    assert.equal(accepted.m.eventTypeCode?.code, '110122');
    assert.equal(accepted.m.eventOutcomeIndicator, 0);
    const requestor = accepted.m.activeParticipants[0];
    assert.deepEqual(requestor, {
      userId: 'CN=modality, O=Hospital',
      userIsRequestor: true,
      alternativeUserId: 'AETITLES=MODALITY',
      networkAccessPointId: '10.0.0.7',
      networkAccessPointTypeCode: '2',
    });
    assert.match(
      accepted.m.eventOutcomeDescription ?? '',
      /certificate verified; AE title MODALITY as claimed/,
    );
    assert.match(
      accepted.xml,
      /<ActiveParticipant UserID="CN=modality, O=Hospital" AlternativeUserID="AETITLES=MODALITY" UserIsRequestor="true" NetworkAccessPointID="10.0.0.7" NetworkAccessPointTypeCode="2"\/>/,
    );
    sink.messages.length = 0;
    audit.associationAccepted(peer, { aeTitleBound: true });
    assert.match(only(sink).m.eventOutcomeDescription ?? '', /AE title MODALITY bound to the certificate/);

    // plain TCP, and TLS without a client certificate: nothing verified, never a Success
    for (const [link, how] of [
      [undefined, /over plain TCP/],
      [{ ...secureLink, peerCertificate: undefined }, /over TLS without a client certificate/],
    ] as const) {
      sink.messages.length = 0;
      audit.associationAccepted({ callingAet: 'MODALITY', remoteAddress: '10.0.0.9', secureLink: link });
      const plain = only(sink);
      assert.equal(plain.m.eventOutcomeIndicator, 4);
      assert.equal(plain.m.activeParticipants[0]?.userId, 'not authenticated');
      assert.equal(plain.m.activeParticipants[0]?.alternativeUserId, 'AETITLES=MODALITY');
      assert.match(plain.m.eventOutcomeDescription ?? '', /^not authenticated: /);
      assert.match(plain.m.eventOutcomeDescription ?? '', how);
    }
  });

  test('association rejected: User Authentication (Login), minor failure with the reason', () => {
    const { audit, sink } = trail();
    audit.associationRejected(
      { callingAet: 'INTRUDER', remoteAddress: '10.0.0.8' },
      'called AE title not recognized',
    );
    const rejected = only(sink);
    assert.equal(rejected.m.eventOutcomeIndicator, 4);
    assert.equal(rejected.m.activeParticipants[0]?.userId, 'INTRUDER');
    assert.match(
      rejected.xml,
      /<EventOutcomeDescription>called AE title not recognized<\/EventOutcomeDescription>/,
    );
  });

  test('user identity negotiation: the asserted user is recorded as asserted, not authenticated, never a Success, never a passcode', () => {
    const { audit, sink } = trail();
    audit.userAuthentication(peer, { type: 2, username: 'jdoe' });
    const { m, xml } = only(sink);
    assert.equal(m.eventId.code, '110114');
    assert.equal(m.eventOutcomeIndicator, 4, 'nothing verified the passcode');
    assert.equal(m.activeParticipants[0]?.userId, 'not authenticated');
    assert.equal(m.activeParticipants[0]?.userName, 'jdoe');
    assert.equal(m.activeParticipants[0]?.alternativeUserId, 'AETITLES=MODALITY; CN=modality, O=Hospital');
    assert.match(m.eventOutcomeDescription ?? '', /not verified by this node/);
    assert.match(xml, /UserName="jdoe"/);
    sink.messages.length = 0;
    audit.userAuthentication(peer, { type: 5 });
    assert.equal(only(sink).m.activeParticipants[0]?.userId, 'not authenticated');
    assert.match(sink.messages[0]?.eventOutcomeDescription ?? '', /JSON Web Token/);
    sink.messages.length = 0;
    audit.userAuthentication(peer, { type: 1, username: 'x'.repeat(70_000) });
    assert.equal(only(sink).m.activeParticipants[0]?.userName?.length, 256);
    // an identity something did verify is a Success under its username
    sink.messages.length = 0;
    audit.userAuthentication(peer, { type: 2, username: 'jdoe', verified: true });
    const ok = only(sink).m;
    assert.equal(ok.eventOutcomeIndicator, 0);
    assert.equal(ok.activeParticipants[0]?.userId, 'jdoe');
  });

  test('TLS authentication failure: Security Alert / Node Authentication with the peer address and certificate subject', () => {
    const { audit, sink } = trail();
    audit.tlsFailure(
      '::ffff:192.0.2.9',
      'TLS: client certificate issuer is not trusted',
      'CN=mallory, O=Evil',
    );
    const { m, xml } = only(sink);
    assert.equal(m.eventId.code, '110113');
    assert.equal(m.eventTypeCode?.code, '110126');
    assert.equal(m.eventOutcomeIndicator, 8);
    assert.equal(m.activeParticipants[0]?.networkAccessPointId, '192.0.2.9');
    assert.equal(m.activeParticipants[0]?.alternativeUserId, 'CN=mallory, O=Evil');
    const alert = m.participantObjects?.[0];
    assert.equal(alert?.idTypeCode.code, '110182');
    assert.equal(alert?.typeCodeRole, 13);
    assert.match(
      xml,
      /<ParticipantObjectIdentification ParticipantObjectID="192.0.2.9" ParticipantObjectTypeCode="2" ParticipantObjectTypeCodeRole="13"><ParticipantObjectIDTypeCode csd-code="110182" codeSystemName="DCM" originalText="Node ID"\/><ParticipantObjectName>CN=mallory, O=Evil<\/ParticipantObjectName>/,
    );
  });

  test('admission refusal: Security Alert / Use of Restricted Function naming the limit and the refusals it stands for', () => {
    const { audit, sink } = trail();
    audit.admissionRefused({
      remoteAddress: '::ffff:192.0.2.10',
      limit: 'maxAssociationsPerMinutePerAddress',
      refusals: 42,
      reason: 'connection from ::ffff:192.0.2.10 refused: more than 5 association attempts',
    });
    const { m, xml } = only(sink);
    assert.equal(m.eventId.code, '110113');
    assert.equal(m.eventTypeCode?.code, '110132');
    assert.equal(m.eventOutcomeIndicator, 4, 'minor failure: the mitigation worked');
    assert.match(
      m.eventOutcomeDescription ?? '',
      /^42 connections from 192\.0\.2\.10 refused by maxAssociationsPerMinutePerAddress since the previous record; the last: connection from/,
    );
    assert.equal(m.activeParticipants[0]?.userId, '192.0.2.10');
    assert.equal(m.activeParticipants[0]?.networkAccessPointId, '192.0.2.10');
    const alert = m.participantObjects?.[0];
    assert.equal(alert?.typeCodeRole, 13);
    assert.equal(alert?.id, '192.0.2.10');
    assert.equal(alert?.detail?.limit, 'maxAssociationsPerMinutePerAddress');
    assert.equal(alert?.detail?.refusals, 42);
    assert.match(
      xml,
      /<EventTypeCode csd-code="110132" codeSystemName="DCM" originalText="Use of Restricted Function"\/>/,
    );
  });

  test('instances stored: DICOM Instances Transferred (C), the peer as Source, the node as Destination, one object per study', () => {
    const { audit, sink } = trail();
    audit.instancesTransferred(
      'C',
      peer,
      new Map([
        ['1.2.3', 10],
        ['1.2.4', 2],
      ]),
    );
    const { m, xml } = only(sink);
    assert.equal(m.eventId.code, '110104');
    assert.equal(m.eventActionCode, 'C');
    assert.equal(m.activeParticipants[0]?.roleIdCode?.code, '110153');
    assert.equal(m.activeParticipants[1]?.roleIdCode?.code, '110152');
    assert.equal(m.participantObjects?.length, 2);
    assert.match(
      xml,
      /<ParticipantObjectIdentification ParticipantObjectID="1.2.3" ParticipantObjectTypeCode="2" ParticipantObjectTypeCodeRole="3"><ParticipantObjectIDTypeCode csd-code="110180" codeSystemName="DCM" originalText="Study Instance UID"\/>/,
    );
  });

  test('instances transferred carry the Patient participant object (ID in CX form, name); one record per patient; the log line has no patient data', () => {
    const sink = memorySink();
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } });
    const audit = new AuditTrail(logger, 'DICOMNET', [sink]);
    audit.instancesTransferred(
      'C',
      peer,
      new Map([
        ['1.2.3', { instances: 10, patientId: 'PAT1', patientName: 'DOE^JANE' }],
        ['1.2.4', { instances: 2, patientId: 'PAT2', issuerOfPatientId: 'HOSP', patientName: 'ROE^RICHARD' }],
        ['1.2.5', { instances: 1, patientId: 'PAT1', patientName: 'DOE^JANE' }],
      ]),
    );
    assert.equal(sink.messages.length, 2, 'one record per patient');
    const [jane, richard] = sink.messages as [AuditMessage, AuditMessage];
    assert.deepEqual(
      jane.participantObjects?.map((o) => o.id),
      ['1.2.3', '1.2.5', 'PAT1'],
    );
    const patient = jane.participantObjects?.[2];
    assert.deepEqual(patient, {
      typeCode: 1,
      typeCodeRole: 1,
      idTypeCode: { code: '2', codeSystemName: 'RFC-3881', displayName: 'Patient Number' },
      id: 'PAT1',
      name: 'DOE^JANE',
    });
    assert.equal(richard.participantObjects?.[1]?.id, 'PAT2^^^HOSP');
    const xml = auditMessageXml(jane);
    assertWellFormed(xml);
    assert.match(
      xml,
      /<ParticipantObjectIdentification ParticipantObjectID="PAT1" ParticipantObjectTypeCode="1" ParticipantObjectTypeCodeRole="1"><ParticipantObjectIDTypeCode csd-code="2" codeSystemName="RFC-3881" originalText="Patient Number"\/><ParticipantObjectName>DOE\^JANE<\/ParticipantObjectName>/,
    );
    const log = lines.join('');
    assert.equal(lines.length, 2);
    assert.ok(!/PAT1|PAT2|DOE|ROE/.test(log), `no patient data in the log: ${log}`);
    assert.match(log, /"id":"\[patient\]"/);
    assert.match(log, /"id":"1\.2\.3"/, 'the log keeps the study objects');
  });

  test('instances retrieved: C-MOVE (node Source, move destination Destination) and C-GET (requestor Destination)', () => {
    const { audit, sink } = trail();
    audit.instancesTransferred('R', peer, new Map([['1.2.3', 4]]), { destination: 'STORESCP' });
    const move = only(sink).m;
    assert.equal(move.eventActionCode, 'R');
    assert.deepEqual(
      move.activeParticipants.map((p) => [p.userId, p.userIsRequestor, p.roleIdCode?.code]),
      [
        ['MODALITY', true, undefined],
        ['DICOMNET', false, '110153'],
        ['STORESCP', false, '110152'],
      ],
    );
    sink.messages.length = 0;
    audit.instancesTransferred('R', peer, new Map([['1.2.3', 4]]), { destination: 'MODALITY' });
    assert.deepEqual(
      only(sink).m.activeParticipants.map((p) => [p.userId, p.userIsRequestor, p.roleIdCode?.code]),
      [
        ['MODALITY', true, '110152'],
        ['DICOMNET', false, '110153'],
      ],
    );
  });

  test('query: Query (E), the SOP class as object (role 24), keys and counts but no values', () => {
    const { audit, sink } = trail();
    audit.query(peer, '1.2.840.10008.5.1.4.1.2.2.1', {
      level: 'STUDY',
      keys: ['PatientID', 'StudyDate'],
      matches: 3,
    });
    const { m, xml } = only(sink);
    assert.equal(m.eventId.code, '110112');
    const o = m.participantObjects?.[0];
    assert.equal(o?.idTypeCode.code, '110181');
    assert.equal(o?.typeCodeRole, 24);
    assert.deepEqual(o?.detail, { keys: 'PatientID,StudyDate', level: 'STUDY', matches: 3 });
    assert.match(xml, /ParticipantObjectID="1.2.840.10008.5.1.4.1.2.2.1"/);
  });

  test('deleted: DICOM Study Deleted (D), the node as requestor', () => {
    const { audit, sink } = trail();
    audit.instancesDeleted(new Map([['1.2.9', 3]]), 'files missing at start-up');
    const { m } = only(sink);
    assert.equal(m.eventId.code, '110105');
    assert.equal(m.eventActionCode, 'D');
    assert.equal(m.activeParticipants[0]?.userIsRequestor, true);
    assert.equal(m.participantObjects?.[0]?.id, '1.2.9');
    sink.messages.length = 0;
    audit.instancesDeleted(new Map(), 'nothing');
    assert.equal(sink.messages.length, 0);
  });

  test('XML escaping: hostile AE titles, subjects and reasons stay data', () => {
    const { audit, sink } = trail();
    audit.tlsFailure(
      '10.0.0.1',
      'reason <script>&"quoted" \'single\'\u0000\u0007 end',
      'CN=a"b<c>&d, O=x\ty\nz',
    );
    audit.associationRejected({ callingAet: '<EventID/>&amp;' }, ']]> <!-- -->');
    for (const m of sink.messages) {
      const xml = auditMessageXml(m);
      assertWellFormed(xml);
      assert.equal((xml.match(/<EventID /g) ?? []).length, 1);
    }
    const xml = auditMessageXml(sink.messages[0] as AuditMessage);
    assert.match(xml, /AlternativeUserID="CN=a&quot;b&lt;c&gt;&amp;d, O=x&#9;y&#10;z"/);
    assert.match(
      xml,
      /<EventOutcomeDescription>reason &lt;script&gt;&amp;"quoted" 'single'\ufffd\ufffd end<\/EventOutcomeDescription>/,
    );
    assert.match(auditMessageXml(sink.messages[1] as AuditMessage), /UserID="&lt;EventID\/&gt;&amp;amp;"/);
  });

  test('a sink that throws does not stop the others or the caller', () => {
    const good = memorySink();
    const bad: AuditSink = {
      write: () => {
        throw new Error('boom');
      },
      close: async () => undefined,
    };
    const audit = new AuditTrail(silentLogger(), 'DICOMNET', [bad, good]);
    audit.associationAccepted(peer);
    assert.equal(good.messages.length, 1);
  });

  test('which TLS failures are Security Alerts: certificate and negotiation refusals, not probes that hang up', () => {
    const probe = new TlsError(
      'ERR_TLS_HANDSHAKE',
      'TLS: client closed the connection during the TLS handshake',
      {
        cause: Object.assign(new Error('socket disconnected'), { code: 'ECONNRESET' }),
      },
    );
    assert.equal(isTlsAuthenticationFailure(probe), false);
    assert.equal(isTlsAuthenticationFailure(new TlsError('ERR_TLS_HANDSHAKE', 'closed')), false);
    assert.equal(isTlsAuthenticationFailure(new TlsError('ERR_TLS_HANDSHAKE_TIMEOUT', 'timed out')), false);
    for (const code of [
      'ERR_TLS_UNTRUSTED_ISSUER',
      'ERR_TLS_CERT_EXPIRED',
      'ERR_TLS_PEER_CERT_REQUIRED',
      'ERR_TLS_NO_SHARED_CIPHER',
      'ERR_TLS_PLAINTEXT_ON_TLS_PORT',
    ] as const)
      assert.equal(isTlsAuthenticationFailure(new TlsError(code, code)), true, code);
    const odd = new TlsError('ERR_TLS_HANDSHAKE', 'TLS: handshake failed: bad record mac', {
      cause: new Error('bad record mac'),
    });
    assert.equal(isTlsAuthenticationFailure(odd), true);
  });
});
