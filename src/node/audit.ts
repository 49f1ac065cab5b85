import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import {
  AuditEventId,
  AuditEventType,
  AuditFileSink,
  type AuditFsyncPolicy,
  type AuditMessage,
  type AuditObject,
  AuditObjectIdType,
  type AuditOutcome,
  type AuditParticipant,
  AuditRole,
  type AuditSink,
  type SyslogAuditOptions,
  SyslogAuditSink,
  SyslogTlsSender,
  type SyslogTlsOptions,
} from '../audit/index.js';
import type { Logger } from '../log.js';
import type { NodeConfig } from './config.js';
import { ConfigError } from './errors.js';
import type { SecureLinkInfo, TlsOptions } from '../tls/types.js';

/**
 * The node's security audit trail: the events of PS3.15 A.5.3 (IHE ATNA) the node
 * produces, each written to the node's log (a pino line carrying an `audit` object, level
 * info for successes and warn for failures) and to the configured sinks: the local
 * append-only file and a syslog collector over TLS. No secrets, no query values.
 */

export type {
  AuditAction,
  AuditCode,
  AuditMessage,
  AuditObject,
  AuditOutcome,
  AuditParticipant,
  AuditSink,
} from '../audit/index.js';
export { AuditEventId, AuditEventType } from '../audit/index.js';

/** Who is on the other end of an association, as the audit trail names it. */
export interface AuditPeer {
  callingAet?: string;
  remoteAddress?: string;
  secureLink?: SecureLinkInfo;
}

/** What a User Identity item (PS3.7 D.3.3.7) asserted; never its secondary field. */
export interface AuditUserIdentity {
  /** 1 username, 2 username + passcode, 3 Kerberos, 4 SAML, 5 JWT. */
  type: number;
  /** The username of types 1 and 2. */
  username?: string;
  /** True only when something checked the identity (the node itself verifies none). */
  verified?: boolean;
}

/** The user of a Login record when nothing verified who the peer is. */
export const NOT_AUTHENTICATED = 'not authenticated';

const MAX_USERNAME = 256;

const IDENTITY_TYPES: Record<number, string> = {
  1: 'username',
  2: 'username and passcode',
  3: 'Kerberos service ticket',
  4: 'SAML assertion',
  5: 'JSON Web Token',
};

/** Where audit messages go besides the log (see {@link createAuditSinks}). */
export interface AuditOptions {
  /** Local append-only audit file (JSON lines). */
  file?: string;
  fsync?: AuditFsyncPolicy;
  /** A syslog collector over TLS (RFC 5425) receiving the DICOM audit message XML. */
  syslog?: SyslogTlsOptions & SyslogAuditOptions;
}

/**
 * Open the configured sinks (the file now, the syslog connection in the background).
 * Throws an `AuditConfigError` when the file cannot be opened or a TLS file read.
 */
export function createAuditSinks(options: AuditOptions | undefined, log: Logger): AuditSink[] {
  const sinks: AuditSink[] = [];
  if (options?.file) sinks.push(new AuditFileSink(options.file, { fsync: options.fsync, logger: log }));
  if (options?.syslog) {
    const sender = new SyslogTlsSender({ ...options.syslog, logger: options.syslog.logger ?? log });
    sender.start();
    sinks.push(new SyslogAuditSink(sender, options.syslog));
  }
  return sinks;
}

/**
 * Whether a failed TLS connection is worth a Security Alert: certificate, protocol and
 * cipher refusals are; a connection closed before or during the handshake without a
 * TLS-level reason (port probes, health checks, scanners) and handshake timeouts are not,
 * or every load-balancer probe would raise an alert. Those are still logged by the TLS layer.
 */
export function isTlsAuthenticationFailure(err: { code?: string; cause?: unknown }): boolean {
  if (err.code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return false;
  if (err.code !== 'ERR_TLS_HANDSHAKE') return true;
  const cause = err.cause as { code?: string } | undefined;
  return !(cause === undefined || cause.code === 'ECONNRESET' || cause.code === 'EPIPE');
}

function firstLine(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? '';
  } catch (err) {
    throw new ConfigError(`config ${what}: cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The audit sinks a node configuration asks for: the file (default `<storage>/audit.log`)
 * and the syslog collector, verified against `audit.syslog.ca` (else the node's `tls.ca`)
 * and authenticated with `audit.syslog.cert/key`, else the key and certificate the node
 * uses as a TLS client (`clientTls`), else the node's own TLS pair, if any.
 */
export function auditOptionsFromConfig(config: NodeConfig, clientTls?: TlsOptions): AuditOptions {
  const a = config.audit;
  const out: AuditOptions = { fsync: a.fsync };
  if (a.file !== false) out.file = a.file ?? join(resolve(config.storage), 'audit.log');
  const s = a.syslog;
  if (!s) return out;
  const ca = s.ca.length > 0 ? s.ca : config.tls.ca;
  if (ca.length === 0)
    throw new ConfigError(
      'config audit.syslog.ca: the collector certificate must be verified; give its CA (or tls.ca)',
    );
  const syslog: NonNullable<AuditOptions['syslog']> = {
    host: s.host,
    port: s.port,
    ca,
    queueLimit: s.queueLimit,
    bom: s.bom,
  };
  if (s.servername) syslog.servername = s.servername;
  if (s.cert && s.key) {
    syslog.cert = s.cert;
    syslog.key = s.key;
    if (s.passphraseFile) syslog.passphrase = firstLine(s.passphraseFile, 'audit.syslog.passphraseFile');
  } else if (clientTls?.key !== undefined && clientTls.cert !== undefined && !Array.isArray(clientTls.cert)) {
    syslog.cert = clientTls.cert;
    syslog.key = clientTls.key;
    if (clientTls.passphrase !== undefined) syslog.passphrase = clientTls.passphrase;
  } else if (config.tls.cert && config.tls.key) {
    syslog.cert = config.tls.cert;
    syslog.key = config.tls.key;
    if (config.tls.passphraseFile)
      syslog.passphrase = firstLine(config.tls.passphraseFile, 'tls.passphraseFile');
  }
  out.syslog = syslog;
  return out;
}

function launcher(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    // no passwd entry for the uid (some containers)
    return undefined;
  }
}

/** Builds the node's audit events and hands each to the log and the sinks. */
export class AuditTrail {
  readonly #sinks: AuditSink[];

  constructor(
    private readonly log: Logger,
    /** AE title of the node: the audit source and the local participant. */
    private readonly aet: string,
    sinks: AuditSink[] = [],
  ) {
    this.#sinks = sinks;
  }

  /** Node start / stop (Application Activity, A.5.3.1). */
  applicationActivity(kind: 'start' | 'stop', detail?: Record<string, string | number>): void {
    const participants: AuditParticipant[] = [
      {
        userId: this.aet,
        alternativeUserId: String(process.pid),
        userIsRequestor: false,
        roleIdCode: AuditRole.Application,
      },
    ];
    const user = launcher();
    if (user)
      participants.push({ userId: user, userIsRequestor: true, roleIdCode: AuditRole.ApplicationLauncher });
    this.emit({
      eventId: AuditEventId.ApplicationActivity,
      eventTypeCode: kind === 'start' ? AuditEventType.ApplicationStart : AuditEventType.ApplicationStop,
      eventActionCode: 'E',
      eventOutcomeIndicator: 0,
      activeParticipants: participants,
      participantObjects: detail
        ? [{ typeCode: 2, typeCodeRole: 4, idTypeCode: AuditObjectIdType.NodeId, id: this.aet, detail }]
        : undefined,
    });
  }

  /**
   * An association was accepted (User Authentication / Login, A.5.3.12). The record says
   * what was verified, never more: with a verified TLS client certificate the login is a
   * Success and the user is the certificate subject; otherwise nothing authenticated the
   * peer, and the record is a minor failure naming it `not authenticated`. The calling AE
   * title is what the peer claimed (AlternativeUserID `AETITLES=…`, as PS3.15 A.5.2 writes
   * the AE titles of a process); `aeTitleBound` says an AE-title binding checked it against
   * the certificate.
   */
  associationAccepted(peer: AuditPeer, verified: { aeTitleBound?: boolean } = {}): void {
    const subject = peer.secureLink?.peerCertificate?.subject;
    const user: AuditParticipant = {
      userId: subject ?? NOT_AUTHENTICATED,
      userIsRequestor: true,
    };
    if (peer.callingAet !== undefined) user.alternativeUserId = `AETITLES=${peer.callingAet}`;
    this.addAddress(user, peer.remoteAddress);
    const aet = peer.callingAet === undefined ? 'no AE title' : `AE title ${peer.callingAet}`;
    let description: string;
    if (subject !== undefined)
      description = `TLS client certificate verified; ${aet} ${verified.aeTitleBound ? 'bound to the certificate (peers.identity)' : 'as claimed, not bound to the certificate'}`;
    else
      description = `not authenticated: association accepted ${peer.secureLink ? 'over TLS without a client certificate' : 'over plain TCP'}; ${aet} as claimed, not verified`;
    this.emit(
      {
        eventId: AuditEventId.UserAuthentication,
        eventTypeCode: AuditEventType.Login,
        eventActionCode: 'E',
        eventOutcomeIndicator: subject !== undefined ? 0 : 4,
        eventOutcomeDescription: description,
        activeParticipants: [user, { userId: this.aet, userIsRequestor: false }],
      },
      // an accepted unauthenticated association is routine where the plain port is open
      'info',
    );
  }

  /** An association request was rejected (Login, minor failure, with the reason). */
  associationRejected(peer: AuditPeer, reason: string): void {
    this.emit({
      eventId: AuditEventId.UserAuthentication,
      eventTypeCode: AuditEventType.Login,
      eventActionCode: 'E',
      eventOutcomeIndicator: 4,
      eventOutcomeDescription: reason,
      activeParticipants: this.authParticipants(peer),
    });
  }

  /**
   * An A-ASSOCIATE-RQ carried a User Identity item (User Authentication / Login). The node
   * verifies no username, passcode or token, so unless the caller says one was
   * (`identity.verified`), the record is a minor failure: the user is `not authenticated`,
   * the asserted username is its UserName, the claimed AE title and a verified certificate
   * subject its AlternativeUserID.
   */
  userAuthentication(
    peer: AuditPeer,
    identity: AuditUserIdentity,
    outcome?: AuditOutcome,
    description?: string,
  ): void {
    const kind = IDENTITY_TYPES[identity.type] ?? `type ${identity.type}`;
    // the peer chooses the username's length: keep one record small
    const username = identity.username?.slice(0, MAX_USERNAME);
    const verified = identity.verified === true;
    const user: AuditParticipant = {
      userId: verified ? (username ?? `(${kind})`) : NOT_AUTHENTICATED,
      userIsRequestor: true,
    };
    if (username !== undefined) user.userName = username;
    const alternative = [
      peer.callingAet === undefined ? undefined : `AETITLES=${peer.callingAet}`,
      peer.secureLink?.peerCertificate?.subject,
    ]
      .filter(Boolean)
      .join('; ');
    if (alternative) user.alternativeUserId = alternative;
    this.addAddress(user, peer.remoteAddress);
    this.emit(
      {
        eventId: AuditEventId.UserAuthentication,
        eventTypeCode: AuditEventType.Login,
        eventActionCode: 'E',
        eventOutcomeIndicator: outcome ?? (verified ? 0 : 4),
        eventOutcomeDescription:
          description ??
          (verified
            ? `User Identity (${kind}) verified`
            : `not authenticated: User Identity (${kind}) asserted in the association request, not verified by this node`),
        activeParticipants: [user, { userId: this.aet, userIsRequestor: false }],
      },
      'info',
    );
  }

  /**
   * A TLS handshake failed or a peer certificate was refused (Security Alert / Node
   * Authentication, A.5.3.11): the peer's address and, when it sent one, its certificate subject.
   */
  tlsFailure(remoteAddress: string | undefined, reason: string, peerCertificateSubject?: string): void {
    const address = remoteAddress?.replace(/^::ffff:/, '');
    const peer: AuditParticipant = { userId: address ?? 'unknown', userIsRequestor: true };
    if (peerCertificateSubject) peer.alternativeUserId = peerCertificateSubject;
    this.addAddress(peer, remoteAddress);
    const alertSubject: AuditObject = {
      typeCode: 2,
      typeCodeRole: 13,
      idTypeCode: AuditObjectIdType.NodeId,
      id: address ?? 'unknown',
      detail: { 'Alert Description': reason },
    };
    if (peerCertificateSubject) alertSubject.name = peerCertificateSubject;
    this.emit({
      eventId: AuditEventId.SecurityAlert,
      eventTypeCode: AuditEventType.NodeAuthentication,
      eventActionCode: 'E',
      eventOutcomeIndicator: 8,
      eventOutcomeDescription: reason,
      activeParticipants: [peer, { userId: this.aet, userIsRequestor: false }],
      participantObjects: [alertSubject],
    });
  }

  /**
   * Connections refused by an admission limit (Security Alert / Use of Restricted Function,
   * A.5.3.11), folded by the caller (`RefusalFolder`): `refusals` counts the refusals this
   * record stands for.
   *
   * Why a Security Alert and not a rejected Login (as for an A-ASSOCIATE-RJ): the connection
   * is closed before any A-ASSOCIATE-RQ is read, so no one tried to authenticate and there is
   * no calling AE title to name; what happened is that the node defended itself against
   * a network peer using more of it than allowed, which is what A.5.3.11 reports. Outcome 4
   * (minor failure) is A.5.3.11's "mitigation was effective": the connection was refused.
   * Node Authentication is kept for TLS certificate failures, so that a collector's rules
   * on it keep meaning certificates; Use of Restricted Function (CID 403) is the nearest
   * type for a resource limit. The alert subject is the peer's address, the detail names
   * the limit and the count.
   */
  admissionRefused(refused: {
    remoteAddress: string | undefined;
    limit: string;
    refusals: number;
    reason: string;
  }): void {
    const address = refused.remoteAddress?.replace(/^::ffff:/, '');
    const description =
      refused.refusals === 1
        ? refused.reason
        : `${refused.refusals} connections${address ? ` from ${address}` : ''} refused by ${refused.limit} since the previous record; the last: ${refused.reason}`;
    const peer: AuditParticipant = { userId: address ?? '(other addresses)', userIsRequestor: true };
    this.addAddress(peer, refused.remoteAddress);
    this.emit({
      eventId: AuditEventId.SecurityAlert,
      eventTypeCode: AuditEventType.UseOfRestrictedFunction,
      eventActionCode: 'E',
      eventOutcomeIndicator: 4,
      eventOutcomeDescription: description,
      activeParticipants: [peer, { userId: this.aet, userIsRequestor: false }],
      participantObjects: [
        {
          typeCode: 2,
          typeCodeRole: 13,
          idTypeCode: AuditObjectIdType.NodeId,
          id: address ?? '(other addresses)',
          detail: { 'Alert Description': description, limit: refused.limit, refusals: refused.refusals },
        },
      ],
    });
  }

  /**
   * The access policy refused a service (Security Alert / Use of Restricted Function,
   * A.5.3.11): at negotiation (presentation contexts rejected, perhaps the whole association)
   * or on one request (a C-MOVE destination, an MPPS step of another AE). The requestor is the
   * calling AE with its address and certificate subject; the alert subject names the
   * services and the rule that refused. Outcome 4: the refusal was the mitigation.
   */
  accessRefused(refusal: {
    callingAet: string;
    remoteAddress: string;
    peerCertificateSubject?: string;
    services: readonly string[];
    rule: string;
    reason: string;
  }): void {
    const requestor = this.requestor({
      callingAet: refusal.callingAet,
      remoteAddress: refusal.remoteAddress,
    });
    if (refusal.peerCertificateSubject) requestor.alternativeUserId = refusal.peerCertificateSubject;
    const alertSubject: AuditObject = {
      typeCode: 2,
      typeCodeRole: 13,
      idTypeCode: AuditObjectIdType.NodeId,
      id: refusal.callingAet,
      detail: {
        'Alert Description': refusal.reason,
        services: refusal.services.join(', '),
        rule: refusal.rule,
      },
    };
    if (refusal.peerCertificateSubject) alertSubject.name = refusal.peerCertificateSubject;
    this.emit({
      eventId: AuditEventId.SecurityAlert,
      eventTypeCode: AuditEventType.UseOfRestrictedFunction,
      eventActionCode: 'E',
      eventOutcomeIndicator: 4,
      eventOutcomeDescription: refusal.reason,
      activeParticipants: [requestor, { userId: this.aet, userIsRequestor: false }],
      participantObjects: [alertSubject],
    });
  }

  /**
   * Instances received (action C: the peer is the source, the node the destination; U: they
   * replaced earlier instances of the same SOP Instance UIDs) or
   * sent by C-MOVE / C-GET (action R: the node is the source, `destination` the
   * destination): DICOM Instances Transferred (A.5.3.7; A.5.3.13 in older editions). The
   * message has exactly one Patient participant object, so a transfer of several patients'
   * studies is one record per patient, each with its study objects; studies whose patient
   * is unknown share one record without a patient object. With no study at all (nothing
   * was sent) it is one record without objects.
   */
  instancesTransferred(
    action: 'C' | 'U' | 'R',
    peer: AuditPeer,
    studies: ReadonlyMap<string, number | StudyTransfer>,
    options: { outcome?: AuditOutcome; destination?: string; description?: string } = {},
  ): void {
    const groups = byPatient(studies);
    if (groups.length === 0) groups.push({ patient: undefined, studies: [] });
    for (const group of groups) {
      const objects = studyObjects(group.studies);
      if (group.patient) objects.push(patientObject(group.patient));
      this.emit({
        eventId: AuditEventId.InstancesTransferred,
        eventActionCode: action,
        eventOutcomeIndicator: options.outcome ?? 0,
        eventOutcomeDescription: options.description,
        activeParticipants: this.transferParticipants(action, peer, options.destination),
        participantObjects: objects,
      });
    }
  }

  private transferParticipants(
    action: 'C' | 'U' | 'R',
    peer: AuditPeer,
    destination: string | undefined,
  ): AuditParticipant[] {
    const requestor = this.requestor(peer);
    const participants: AuditParticipant[] = [requestor];
    const node: AuditParticipant = { userId: this.aet, userIsRequestor: false };
    if (action !== 'R') {
      requestor.roleIdCode = AuditRole.Source;
      node.roleIdCode = AuditRole.Destination;
      participants.push(node);
    } else {
      node.roleIdCode = AuditRole.Source;
      participants.push(node);
      if (destination !== undefined && destination === peer.callingAet)
        requestor.roleIdCode = AuditRole.Destination; // C-GET: the requestor receives
      else if (destination !== undefined)
        participants.push({ userId: destination, userIsRequestor: false, roleIdCode: AuditRole.Destination });
    }
    return participants;
  }

  /** A C-FIND was performed: the SOP class, level, keys asked for (no values) and the match count (Query, A.5.3.10). */
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
    const requestor = this.requestor(peer);
    requestor.roleIdCode = AuditRole.Source;
    this.emit({
      eventId: AuditEventId.Query,
      eventActionCode: 'E',
      eventOutcomeIndicator: outcome,
      eventOutcomeDescription: description,
      activeParticipants: [
        requestor,
        { userId: this.aet, userIsRequestor: false, roleIdCode: AuditRole.Destination },
      ],
      participantObjects: [
        {
          typeCode: 2,
          typeCodeRole: 24,
          idTypeCode: AuditObjectIdType.SopClassUid,
          id: sopClassUid,
          detail: objectDetail,
        },
      ],
    });
  }

  /** Instances the node removed itself (DICOM Study Deleted, A.5.3.8), e.g. index rows whose file vanished. */
  instancesDeleted(studies: ReadonlyMap<string, number | StudyTransfer>, reason: string): void {
    if (studies.size === 0) return;
    for (const group of byPatient(studies)) {
      const objects = studyObjects(group.studies);
      if (group.patient) objects.push(patientObject(group.patient));
      this.emit({
        eventId: AuditEventId.StudyDeleted,
        eventActionCode: 'D',
        eventOutcomeIndicator: 0,
        eventOutcomeDescription: reason,
        activeParticipants: [
          {
            userId: this.aet,
            alternativeUserId: String(process.pid),
            userIsRequestor: true,
            roleIdCode: AuditRole.Application,
          },
        ],
        participantObjects: objects,
      });
    }
  }

  /** Flush and close the sinks (the syslog queue gets up to `deadlineMs`). */
  async close(deadlineMs = 5000): Promise<void> {
    await Promise.all(
      this.#sinks.map((s) =>
        s.close(deadlineMs).catch((err: unknown) => this.log.warn({ err }, 'audit: closing a sink failed')),
      ),
    );
  }

  private requestor(peer: AuditPeer): AuditParticipant {
    const requestor: AuditParticipant = {
      userId: peer.callingAet ?? peer.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown',
      userIsRequestor: true,
    };
    this.addAddress(requestor, peer.remoteAddress);
    const subject = peer.secureLink?.peerCertificate?.subject;
    if (subject) requestor.alternativeUserId = subject;
    return requestor;
  }

  private authParticipants(peer: AuditPeer): AuditParticipant[] {
    return [this.requestor(peer), { userId: this.aet, userIsRequestor: false }];
  }

  private addAddress(participant: AuditParticipant, address: string | undefined): void {
    if (!address) return;
    participant.networkAccessPointId = address.replace(/^::ffff:/, '');
    participant.networkAccessPointTypeCode = '2';
  }

  private emit(
    message: Omit<AuditMessage, 'eventDateTime' | 'auditSourceId'>,
    logLevel: 'info' | 'warn' = message.eventOutcomeIndicator === 0 ? 'info' : 'warn',
  ): void {
    const audit: AuditMessage = {
      ...message,
      eventDateTime: new Date().toISOString(),
      auditSourceId: this.aet,
    };
    for (const key of Object.keys(audit) as (keyof AuditMessage)[])
      if (audit[key] === undefined) delete audit[key];
    const logged = withoutPatients(audit);
    const line = `audit: ${message.eventId.displayName}${message.eventTypeCode ? ` (${message.eventTypeCode.displayName})` : ''}`;
    this.log[logLevel]({ audit: logged }, line);
    for (const sink of this.#sinks) {
      try {
        sink.write(audit);
      } catch (err) {
        // a sink must not throw; if one does, the event still reached the others and the log
        this.log.error({ err }, 'audit: a sink failed to take a message');
      }
    }
  }
}

/** The instances of one study in a transfer and the patient they belong to, when known. */
export interface StudyTransfer {
  instances: number;
  patientId?: string;
  issuerOfPatientId?: string;
  patientName?: string;
}

/** What an item needs for {@link studyCounts}: its study and, when known, its patient. */
export interface StudyMember {
  studyInstanceUid: string;
  patientId?: string | null;
  issuerOfPatientId?: string | null;
  patientName?: string | null;
}

/** Count one instance of `item`'s study in `studies` (its patient taken from the first one seen). */
export function countStudyInstance(studies: Map<string, StudyTransfer>, item: StudyMember): void {
  const known = studies.get(item.studyInstanceUid);
  if (known) {
    known.instances++;
    return;
  }
  const study: StudyTransfer = { instances: 1 };
  if (item.patientId) study.patientId = item.patientId;
  if (item.issuerOfPatientId) study.issuerOfPatientId = item.issuerOfPatientId;
  if (item.patientName) study.patientName = item.patientName;
  studies.set(item.studyInstanceUid, study);
}

/** Instances (and patient) per Study Instance UID. */
export function studyCounts(items: Iterable<StudyMember>): Map<string, StudyTransfer> {
  const studies = new Map<string, StudyTransfer>();
  for (const item of items) countStudyInstance(studies, item);
  return studies;
}

interface PatientGroup {
  patient: StudyTransfer | undefined;
  studies: [string, number][];
}

/** Studies grouped by patient (ID and issuer), in the order first seen; unknown patients last. */
function byPatient(studies: ReadonlyMap<string, number | StudyTransfer>): PatientGroup[] {
  const groups = new Map<string, PatientGroup>();
  let unknown: PatientGroup | undefined;
  for (const [uid, entry] of studies) {
    const study = typeof entry === 'number' ? { instances: entry } : entry;
    if (study.patientId === undefined) {
      unknown ??= { patient: undefined, studies: [] };
      unknown.studies.push([uid, study.instances]);
      continue;
    }
    const key = `${study.patientId}\0${study.issuerOfPatientId ?? ''}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { patient: study, studies: [] }));
    group.studies.push([uid, study.instances]);
  }
  const out = [...groups.values()];
  if (unknown) out.push(unknown);
  return out;
}

function studyObjects(studies: readonly [string, number][]): AuditObject[] {
  return studies.map(([uid, instances]) => ({
    typeCode: 2,
    typeCodeRole: 3,
    idTypeCode: AuditObjectIdType.StudyInstanceUid,
    id: uid,
    detail: { instances },
  }));
}

/**
 * The Patient participant object (PS3.15 A.5.3: type 1 person, role 1 patient, ID type
 * RFC 3881 Patient Number): the Patient ID, in HL7 CX form with its issuer when there is
 * one (`ID^^^ISSUER`), and the patient's name when known.
 */
function patientObject(study: StudyTransfer): AuditObject {
  const id = study.issuerOfPatientId
    ? `${study.patientId}^^^${study.issuerOfPatientId}`
    : String(study.patientId);
  const patient: AuditObject = {
    typeCode: 1,
    typeCodeRole: 1,
    idTypeCode: AuditObjectIdType.PatientNumber,
    id,
  };
  if (study.patientName) patient.name = study.patientName;
  return patient;
}

/**
 * The audit message as the log line carries it: patient objects keep their type but lose
 * their ID and name. The audit file and the collector are the protected record of who
 * accessed which patient; a log is not, and carries no PHI.
 */
function withoutPatients(message: AuditMessage): AuditMessage {
  const objects = message.participantObjects;
  if (!objects?.some((o) => o.typeCode === 1)) return message;
  return {
    ...message,
    participantObjects: objects.map((o) =>
      o.typeCode === 1
        ? { typeCode: o.typeCode, typeCodeRole: o.typeCodeRole, idTypeCode: o.idTypeCode, id: '[patient]' }
        : o,
    ),
  };
}
