/**
 * Upper layer PDUs (PS3.8 9.3) as plain data. No behaviour lives here: the
 * codec ({@link ./decode.js}, {@link ./encode.js}) converts between these
 * objects and bytes, the association acts on them.
 */
import type { Pdv } from '../channel.js';

/** PDU type codes (PS3.8 Table 9-11 ff., first byte of every PDU). */
export const PduType = {
  AssociateRq: 0x01,
  AssociateAc: 0x02,
  AssociateRj: 0x03,
  PDataTf: 0x04,
  ReleaseRq: 0x05,
  ReleaseRp: 0x06,
  Abort: 0x07,
} as const;

/** Item and sub-item type codes (PS3.8 9.3.2, PS3.7 Annex D.3.3). */
export const ItemType = {
  ApplicationContext: 0x10,
  PresentationContextRq: 0x20,
  PresentationContextAc: 0x21,
  AbstractSyntax: 0x30,
  TransferSyntax: 0x40,
  UserInformation: 0x50,
  MaximumLength: 0x51,
  ImplementationClassUid: 0x52,
  AsyncOperationsWindow: 0x53,
  RoleSelection: 0x54,
  ImplementationVersionName: 0x55,
  SopClassExtendedNegotiation: 0x56,
  SopClassCommonExtendedNegotiation: 0x57,
  UserIdentityRq: 0x58,
  UserIdentityAc: 0x59,
} as const;

/** User identity types (PS3.7 D.3.3.7.1). */
export const UserIdentityType = {
  Username: 1,
  UsernameAndPasscode: 2,
  Kerberos: 3,
  Saml: 4,
  Jwt: 5,
} as const;

/** A presentation context as proposed in A-ASSOCIATE-RQ (item 20H). */
export interface PresentationContextRqItem {
  /** Odd, 1..255. */
  id: number;
  abstractSyntax: string;
  transferSyntaxes: string[];
}

/** A presentation context as answered in A-ASSOCIATE-AC (item 21H). */
export interface PresentationContextAcItem {
  id: number;
  /** 0 acceptance, 1 user rejection, 2 no reason, 3 abstract syntax not supported, 4 transfer syntaxes not supported. */
  result: number;
  /** Absent (encoded as an empty sub-item) when the context is rejected. */
  transferSyntax?: string;
}

/** SCP/SCU role selection sub-item (54H, PS3.7 D.3.3.4). */
export interface RoleSelectionItem {
  sopClassUid: string;
  scuRole: boolean;
  scpRole: boolean;
}

/** SOP class extended negotiation sub-item (56H, PS3.7 D.3.3.5). */
export interface SopClassExtendedNegotiationItem {
  sopClassUid: string;
  /** Service-class-application-information, opaque to the upper layer. */
  applicationInfo: Buffer;
}

/** SOP class common extended negotiation sub-item (57H, PS3.7 D.3.3.6); RQ only. */
export interface SopClassCommonExtendedNegotiationItem {
  /** Sub-item version (the reserved byte after the type); 0 today. */
  version: number;
  sopClassUid: string;
  serviceClassUid: string;
  relatedGeneralSopClassUids: string[];
}

/** User identity negotiation sub-item, A-ASSOCIATE-RQ form (58H, PS3.7 D.3.3.7.1). */
export interface UserIdentityRqItem {
  /** 1 username, 2 username + passcode, 3 Kerberos ticket, 4 SAML assertion, 5 JSON Web Token. */
  type: number;
  positiveResponseRequested: boolean;
  primaryField: Buffer;
  /** Passcode for type 2; empty for the others. */
  secondaryField: Buffer;
}

/** A user information sub-item this implementation does not know, kept verbatim. */
export interface UnknownItem {
  type: number;
  data: Buffer;
}

/** User information item (50H) contents. Lists are empty, never absent. */
export interface UserInformation {
  /** Maximum length received (51H); 0 = unlimited. */
  maxLength?: number;
  implementationClassUid?: string;
  implementationVersionName?: string;
  asyncOpsWindow?: { invoked: number; performed: number };
  roleSelections: RoleSelectionItem[];
  extendedNegotiations: SopClassExtendedNegotiationItem[];
  commonExtendedNegotiations: SopClassCommonExtendedNegotiationItem[];
  userIdentity?: UserIdentityRqItem;
  /** User identity server response (59H, AC only). */
  userIdentityResponse?: Buffer;
  unknownItems: UnknownItem[];
}

export interface AssociateRqPdu {
  type: 'A-ASSOCIATE-RQ';
  protocolVersion: number;
  calledAet: string;
  callingAet: string;
  applicationContext: string;
  presentationContexts: PresentationContextRqItem[];
  userInfo: UserInformation;
}

export interface AssociateAcPdu {
  type: 'A-ASSOCIATE-AC';
  protocolVersion: number;
  /** Echo of the RQ's called AE title (not to be tested on receipt, PS3.8 9.3.3). */
  calledAet: string;
  callingAet: string;
  applicationContext: string;
  presentationContexts: PresentationContextAcItem[];
  userInfo: UserInformation;
}

export interface AssociateRjPdu {
  type: 'A-ASSOCIATE-RJ';
  /** 1 rejected-permanent, 2 rejected-transient. */
  result: number;
  /** 1 service user, 2 service provider (ACSE), 3 service provider (presentation). */
  source: number;
  reason: number;
}

export interface PDataTfPdu {
  type: 'P-DATA-TF';
  pdvs: Pdv[];
}

export interface ReleaseRqPdu {
  type: 'A-RELEASE-RQ';
}

export interface ReleaseRpPdu {
  type: 'A-RELEASE-RP';
}

export interface AbortPdu {
  type: 'A-ABORT';
  /** 0 service user, 2 service provider. */
  source: number;
  /** Meaningful when source is 2 (PS3.8 Table 9-26). */
  reason: number;
}

/** Any upper layer PDU. */
export type Pdu =
  AssociateRqPdu | AssociateAcPdu | AssociateRjPdu | PDataTfPdu | ReleaseRqPdu | ReleaseRpPdu | AbortPdu;

/** An empty {@link UserInformation}. */
export function emptyUserInformation(): UserInformation {
  return {
    roleSelections: [],
    extendedNegotiations: [],
    commonExtendedNegotiations: [],
    unknownItems: [],
  };
}
