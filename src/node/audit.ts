import type { Logger } from '../log.js';
import type { SecureLinkInfo } from '../tls/types.js';

/**
 * Audit events of the secure node, shaped after the DICOM audit message schema (PS3.15
 * Annex A.5, the IHE ATNA profile): an event identification with a DCM coded EventID,
 * EventActionCode and EventOutcomeIndicator, the active participants (requestor and
 * the node) and the participant objects (studies, queries). They are written as pino
 * log lines carrying an `audit` object, so a log shipper can turn them into RFC 3881 /
 * DICOM XML audit messages for an Audit Record Repository. No secrets, no query values.
 */

/** A coded value (code, coding scheme, display name), as in the audit schema. */
export interface AuditCode {
  code: string;
  codeSystemName: 'DCM';
  displayName: string;
}

function dcm(code: string, displayName: string): AuditCode {
  return { code, codeSystemName: 'DCM', displayName };
}

/** EventID codes of PS3.15 A.5.3 (CID 400) the node uses. */
export const AuditEventId = {
  ApplicationActivity: dcm('110100', 'Application Activity'),
  InstancesTransferred: dcm('110104', 'DICOM Instances Transferred'),
  Query: dcm('110112', 'Query'),
  SecurityAlert: dcm('110113', 'Security Alert'),
  UserAuthentication: dcm('110114', 'User Authentication'),
} as const;

/** EventTypeCode values (CID 401, CID 403). */
export const AuditEventType = {
  ApplicationStart: dcm('110120', 'Application Start'),
  ApplicationStop: dcm('110121', 'Application Stop'),
  Login: dcm('110122', 'Login'),
  NodeAuthentication: dcm('110126', 'Node Authentication'),
} as const;

/** EventOutcomeIndicator: 0 success, 4 minor failure, 8 serious failure, 12 major failure. */
export type AuditOutcome = 0 | 4 | 8 | 12;

/** EventActionCode: Create, Read, Update, Delete, Execute. */
export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';

/** One active participant (a person or process taking part in the event). */
export interface AuditParticipant {
  /** AE title (or process name) of the participant. */
  userId: string;
  /** Certificate subject of a TLS peer, when known. */
  alternativeUserId?: string;
  userIsRequestor: boolean;
  /** Network address; type 2 = IP address. */
  networkAccessPointId?: string;
  networkAccessPointTypeCode?: '2';
  roleIdCode?: AuditCode;
}

/** A participant object: a study, a query, the node itself. */
export interface AuditObject {
  /** 1 person, 2 system object. */
  typeCode: 1 | 2;
  /** e.g. 'Study Instance UID', 'SOP Class UID'. */
  idTypeCode: string;
  id: string;
  /** Extra detail (counts, query level, keywords; never values). */
  detail?: Record<string, string | number>;
}

/** The `audit` object of an audit log line. */
export interface AuditMessage {
  eventId: AuditCode;
  eventTypeCode?: AuditCode;
  eventActionCode: AuditAction;
  eventDateTime: string;
  eventOutcomeIndicator: AuditOutcome;
  /** Why it failed, when it did. */
  eventOutcomeDescription?: string;
  auditSourceId: string;
  activeParticipants: AuditParticipant[];
  participantObjects?: AuditObject[];
}

const ROLE_SOURCE = dcm('110153', 'Source Role ID');
const ROLE_DESTINATION = dcm('110152', 'Destination Role ID');
const ROLE_APPLICATION = dcm('110150', 'Application');

/** Who is on the other end of an association, as the audit trail names it. */
export interface AuditPeer {
  callingAet?: string;
  remoteAddress?: string;
  secureLink?: SecureLinkInfo;
}

/**
 * Writes audit events to the node's logger (level info for successes, warn for failures)
 * with the message `audit: <display name>`.
 */
export class AuditTrail {
  constructor(
    private readonly log: Logger,
    /** AE title of the node: the audit source and the local participant. */
    private readonly aet: string,
  ) {}

  /** Node start / stop (Application Activity). */
  applicationActivity(kind: 'start' | 'stop', detail?: Record<string, string | number>): void {
    this.emit({
      eventId: AuditEventId.ApplicationActivity,
      eventTypeCode: kind === 'start' ? AuditEventType.ApplicationStart : AuditEventType.ApplicationStop,
      eventActionCode: 'E',
      eventOutcomeIndicator: 0,
      activeParticipants: [{ userId: this.aet, userIsRequestor: false, roleIdCode: ROLE_APPLICATION }],
      participantObjects: detail
        ? [{ typeCode: 2, idTypeCode: 'Application', id: this.aet, detail }]
        : undefined,
    });
  }

  /** An association was accepted (User Authentication / Login, success). */
  associationAccepted(peer: AuditPeer): void {
    this.emit({
      eventId: AuditEventId.UserAuthentication,
      eventTypeCode: AuditEventType.Login,
      eventActionCode: 'E',
      eventOutcomeIndicator: 0,
      activeParticipants: this.participants(peer),
    });
  }

  /** An association request was rejected (Login, minor failure). */
  associationRejected(peer: AuditPeer, reason: string): void {
    this.emit({
      eventId: AuditEventId.UserAuthentication,
      eventTypeCode: AuditEventType.Login,
      eventActionCode: 'E',
      eventOutcomeIndicator: 4,
      eventOutcomeDescription: reason,
      activeParticipants: this.participants(peer),
    });
  }

  /** A TLS handshake failed or a peer certificate was refused (Security Alert / Node Authentication). */
  tlsFailure(remoteAddress: string | undefined, reason: string): void {
    this.emit({
      eventId: AuditEventId.SecurityAlert,
      eventTypeCode: AuditEventType.NodeAuthentication,
      eventActionCode: 'E',
      eventOutcomeIndicator: 8,
      eventOutcomeDescription: reason,
      activeParticipants: this.participants({ remoteAddress }),
    });
  }

  /** Instances received (action C) or sent by C-MOVE / C-GET (action R), one object per study. */
  instancesTransferred(
    action: 'C' | 'R',
    peer: AuditPeer,
    studies: ReadonlyMap<string, number>,
    options: { outcome?: AuditOutcome; destination?: string; description?: string } = {},
  ): void {
    const participants = this.participants(peer);
    if (options.destination)
      participants.push({
        userId: options.destination,
        userIsRequestor: false,
        roleIdCode: ROLE_DESTINATION,
      });
    this.emit({
      eventId: AuditEventId.InstancesTransferred,
      eventActionCode: action,
      eventOutcomeIndicator: options.outcome ?? 0,
      eventOutcomeDescription: options.description,
      activeParticipants: participants,
      participantObjects: [...studies].map(([uid, instances]) => ({
        typeCode: 2,
        idTypeCode: 'Study Instance UID',
        id: uid,
        detail: { instances },
      })),
    });
  }

  /** A C-FIND was performed: the SOP class, level, keys asked for (no values) and the match count. */
  query(
    peer: AuditPeer,
    sopClassUid: string,
    detail: { level?: string; keys: string[]; matches?: number },
    outcome: AuditOutcome = 0,
    description?: string,
  ): void {
    const objectDetail: Record<string, string | number> = { keys: detail.keys.join(',') };
    if (detail.level) objectDetail.level = detail.level;
    if (detail.matches !== undefined) objectDetail.matches = detail.matches;
    this.emit({
      eventId: AuditEventId.Query,
      eventActionCode: 'E',
      eventOutcomeIndicator: outcome,
      eventOutcomeDescription: description,
      activeParticipants: this.participants(peer),
      participantObjects: [
        { typeCode: 2, idTypeCode: 'SOP Class UID', id: sopClassUid, detail: objectDetail },
      ],
    });
  }

  private participants(peer: AuditPeer): AuditParticipant[] {
    const requestor: AuditParticipant = {
      userId: peer.callingAet ?? peer.remoteAddress ?? 'unknown',
      userIsRequestor: true,
      roleIdCode: ROLE_SOURCE,
    };
    if (peer.remoteAddress) {
      requestor.networkAccessPointId = peer.remoteAddress;
      requestor.networkAccessPointTypeCode = '2';
    }
    const subject = peer.secureLink?.peerCertificate?.subject;
    if (subject) requestor.alternativeUserId = subject;
    return [requestor, { userId: this.aet, userIsRequestor: false, roleIdCode: ROLE_DESTINATION }];
  }

  private emit(message: Omit<AuditMessage, 'eventDateTime' | 'auditSourceId'>): void {
    const audit: AuditMessage = {
      ...message,
      eventDateTime: new Date().toISOString(),
      auditSourceId: this.aet,
    };
    for (const key of Object.keys(audit) as (keyof AuditMessage)[])
      if (audit[key] === undefined) delete audit[key];
    const line = `audit: ${message.eventId.displayName}${message.eventTypeCode ? ` (${message.eventTypeCode.displayName})` : ''}`;
    if (message.eventOutcomeIndicator === 0) this.log.info({ audit }, line);
    else this.log.warn({ audit }, line);
  }
}
