/**
 * The audit message as plain data, shaped after the DICOM audit message schema (PS3.15
 * Annex A.5.1, the IHE ATNA profile, itself derived from RFC 3881): an event
 * identification with a DCM coded EventID, the active participants, the audit source
 * and the participant objects. This object is the JSON form written to the local audit
 * file; {@link auditMessageXml} turns it into the XML a syslog collector expects.
 */

/** A coded value (code, coding scheme, display name), as in the audit schema. */
export interface AuditCode {
  code: string;
  codeSystemName: 'DCM' | 'RFC-3881';
  displayName: string;
}

function dcm(code: string, displayName: string): AuditCode {
  return { code, codeSystemName: 'DCM', displayName };
}

/** EventID codes of PS3.15 A.5.3 (PS3.16 CID 400). */
export const AuditEventId = {
  ApplicationActivity: dcm('110100', 'Application Activity'),
  BeginTransferringInstances: dcm('110102', 'Begin Transferring DICOM Instances'),
  InstancesAccessed: dcm('110103', 'DICOM Instances Accessed'),
  InstancesTransferred: dcm('110104', 'DICOM Instances Transferred'),
  StudyDeleted: dcm('110105', 'DICOM Study Deleted'),
  Query: dcm('110112', 'Query'),
  SecurityAlert: dcm('110113', 'Security Alert'),
  UserAuthentication: dcm('110114', 'User Authentication'),
} as const;

/** EventTypeCode values (PS3.15 A.5.3: Application Activity, User Authentication, Security Alert). */
export const AuditEventType = {
  ApplicationStart: dcm('110120', 'Application Start'),
  ApplicationStop: dcm('110121', 'Application Stop'),
  Login: dcm('110122', 'Login'),
  Logout: dcm('110123', 'Logout'),
  NodeAuthentication: dcm('110126', 'Node Authentication'),
  UseOfRestrictedFunction: dcm('110132', 'Use of Restricted Function'),
} as const;

/** RoleIDCode values of active participants (CID 402). */
export const AuditRole = {
  Application: dcm('110150', 'Application'),
  ApplicationLauncher: dcm('110151', 'Application Launcher'),
  Destination: dcm('110152', 'Destination Role ID'),
  Source: dcm('110153', 'Source Role ID'),
} as const;

/** ParticipantObjectIDTypeCode values (DCM codes, and the RFC 3881 §5.5.4 Patient Number). */
export const AuditObjectIdType = {
  PatientNumber: { code: '2', codeSystemName: 'RFC-3881', displayName: 'Patient Number' } as AuditCode,
  StudyInstanceUid: dcm('110180', 'Study Instance UID'),
  SopClassUid: dcm('110181', 'SOP Class UID'),
  NodeId: dcm('110182', 'Node ID'),
} as const;

/** EventOutcomeIndicator: 0 success, 4 minor failure, 8 serious failure, 12 major failure. */
export type AuditOutcome = 0 | 4 | 8 | 12;

/** EventActionCode: Create, Read, Update, Delete, Execute. */
export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';

/** One active participant (a person or process taking part in the event). */
export interface AuditParticipant {
  /** AE title (or process name, user name) of the participant. */
  userId: string;
  /** Certificate subject of a TLS peer, or the process ID of the node. */
  alternativeUserId?: string;
  /** A human-readable name (e.g. the user name a User Identity item asserted). */
  userName?: string;
  userIsRequestor: boolean;
  /** Network address; type 1 = machine name, 2 = IP address. */
  networkAccessPointId?: string;
  networkAccessPointTypeCode?: '1' | '2';
  roleIdCode?: AuditCode;
}

/** A participant object: a patient, a study, a query, the node itself. */
export interface AuditObject {
  /** 1 person, 2 system object, 3 organization, 4 other. */
  typeCode: 1 | 2 | 3 | 4;
  /** RFC 3881 role: 1 patient, 3 report, 4 resource, 13 security resource, 24 query… */
  typeCodeRole?: number;
  idTypeCode: AuditCode;
  id: string;
  /** ParticipantObjectName (e.g. the query level). */
  name?: string;
  /** Extra detail (counts, query level, keywords; never query values or secrets). */
  detail?: Record<string, string | number>;
  /** SOP classes and instance counts inside a study object. */
  sopClasses?: { uid: string; instances: number }[];
}

/** One audit event (the JSON form written to the audit file). */
export interface AuditMessage {
  eventId: AuditCode;
  eventTypeCode?: AuditCode;
  eventActionCode: AuditAction;
  /** ISO 8601 date-time in UTC. */
  eventDateTime: string;
  eventOutcomeIndicator: AuditOutcome;
  /** Why it failed, when it did. */
  eventOutcomeDescription?: string;
  /** AuditSourceID: the node's AE title. */
  auditSourceId: string;
  /** AuditEnterpriseSiteID, when configured. */
  auditEnterpriseSiteId?: string;
  activeParticipants: AuditParticipant[];
  participantObjects?: AuditObject[];
}

/**
 * Where audit messages go besides the node's log: the local file, a syslog collector.
 * `write` must never throw nor block: a failing destination is that destination's problem.
 */
export interface AuditSink {
  write(message: AuditMessage): void;
  /** Flush what is pending within `deadlineMs`, then release the destination. */
  close(deadlineMs: number): Promise<void>;
}
