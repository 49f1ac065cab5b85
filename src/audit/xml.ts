import type { AuditCode, AuditMessage, AuditObject, AuditParticipant } from './message.js';

/**
 * The DICOM audit message XML (PS3.15 A.5.1) of an {@link AuditMessage}: element and
 * attribute names of the schema, coded values as `csd-code` / `codeSystemName` /
 * `originalText`, ParticipantObjectDetail values base64 as the schema types them.
 */
export function auditMessageXml(message: AuditMessage): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>', '<AuditMessage>'];
  out.push(
    `<EventIdentification${attrs({
      EventActionCode: message.eventActionCode,
      EventDateTime: message.eventDateTime,
      EventOutcomeIndicator: String(message.eventOutcomeIndicator),
    })}>`,
  );
  out.push(coded('EventID', message.eventId));
  if (message.eventTypeCode) out.push(coded('EventTypeCode', message.eventTypeCode));
  if (message.eventOutcomeDescription !== undefined)
    out.push(`<EventOutcomeDescription>${text(message.eventOutcomeDescription)}</EventOutcomeDescription>`);
  out.push('</EventIdentification>');
  for (const p of message.activeParticipants) out.push(participant(p));
  out.push(
    `<AuditSourceIdentification${attrs({
      AuditEnterpriseSiteID: message.auditEnterpriseSiteId,
      AuditSourceID: message.auditSourceId,
    })}>`,
    // RFC 3881 audit source type 4: application server process
    '<AuditSourceTypeCode csd-code="4" originalText="Application Server Process"/>',
    '</AuditSourceIdentification>',
  );
  for (const o of message.participantObjects ?? []) out.push(participantObject(o));
  out.push('</AuditMessage>');
  return out.join('');
}

function participant(p: AuditParticipant): string {
  const open = `<ActiveParticipant${attrs({
    UserID: p.userId,
    AlternativeUserID: p.alternativeUserId,
    UserName: p.userName,
    UserIsRequestor: String(p.userIsRequestor),
    NetworkAccessPointID: p.networkAccessPointId,
    NetworkAccessPointTypeCode: p.networkAccessPointTypeCode,
  })}`;
  return p.roleIdCode ? `${open}>${coded('RoleIDCode', p.roleIdCode)}</ActiveParticipant>` : `${open}/>`;
}

function participantObject(o: AuditObject): string {
  const parts = [
    `<ParticipantObjectIdentification${attrs({
      ParticipantObjectID: o.id,
      ParticipantObjectTypeCode: String(o.typeCode),
      ParticipantObjectTypeCodeRole: o.typeCodeRole === undefined ? undefined : String(o.typeCodeRole),
    })}>`,
    coded('ParticipantObjectIDTypeCode', o.idTypeCode),
  ];
  if (o.name !== undefined) parts.push(`<ParticipantObjectName>${text(o.name)}</ParticipantObjectName>`);
  for (const [type, value] of Object.entries(o.detail ?? {}))
    parts.push(
      `<ParticipantObjectDetail${attrs({ type, value: Buffer.from(String(value), 'utf8').toString('base64') })}/>`,
    );
  for (const c of o.sopClasses ?? [])
    parts.push(`<SOPClass${attrs({ UID: c.uid, NumberOfInstances: String(c.instances) })}/>`);
  parts.push('</ParticipantObjectIdentification>');
  return parts.join('');
}

function coded(element: string, code: AuditCode): string {
  return `<${element}${attrs({
    'csd-code': code.code,
    codeSystemName: code.codeSystemName,
    originalText: code.displayName,
  })}/>`;
}

function attrs(values: Record<string, string | undefined>): string {
  let out = '';
  for (const [name, value] of Object.entries(values))
    if (value !== undefined) out += ` ${name}="${attribute(value)}"`;
  return out;
}

// Characters XML 1.0 cannot carry at all (C0 controls but TAB, LF, CR; lone surrogates;
// U+FFFE/U+FFFF) become U+FFFD: a peer-supplied AE title or certificate subject must not
// make the message unparseable.
const NOT_XML =
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Escape character data. */
export function text(value: string): string {
  return value.replace(NOT_XML, '\ufffd').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escape an attribute value (double-quoted); TAB/LF/CR as references so they survive normalization. */
export function attribute(value: string): string {
  return text(value)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');
}
