import { TransferSyntax } from '../data/index.js';
import { COMMON_STORAGE_SOP_CLASSES, SopClass } from './sop-classes.js';

/** A presentation context a requestor proposes. */
export interface ProposedContext {
  abstractSyntax: string;
  transferSyntaxes: string[];
  /** Propose SCU role (default true). */
  scuRole?: boolean;
  /** Propose SCP role (C-GET: the requestor receives C-STOREs). */
  scpRole?: boolean;
}

/** Uncompressed transfer syntaxes in the order a DCMTK SCU proposes them (explicit first). */
export const UNCOMPRESSED_TRANSFER_SYNTAXES: readonly string[] = [
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ImplicitVRLittleEndian,
];

/**
 * Verification, Q/R (patient and study root FIND/MOVE/GET), worklist, commitment and MPPS;
 * `only` narrows them to these abstract syntaxes (a requestor proposing just what it will
 * use does not make the acceptor refuse — and audit — services it never meant to ask for).
 */
export function serviceContexts(only?: readonly string[]): ProposedContext[] {
  const ts = [...UNCOMPRESSED_TRANSFER_SYNTAXES];
  const all = [
    SopClass.Verification,
    SopClass.StudyRootFind,
    SopClass.PatientRootFind,
    SopClass.StudyRootMove,
    SopClass.PatientRootMove,
    SopClass.StudyRootGet,
    SopClass.PatientRootGet,
    SopClass.ModalityWorklistFind,
    SopClass.StorageCommitmentPushModel,
    SopClass.ModalityPerformedProcedureStep,
  ];
  return all
    .filter((uid) => only === undefined || only.includes(uid))
    .map((abstractSyntax) => ({ abstractSyntax, transferSyntaxes: [...ts] }));
}

/** Storage contexts with SCU and SCP role, for C-GET sub-operations and plain C-STORE alike. */
export function commonStorageContexts(options: { scpRole?: boolean } = {}): ProposedContext[] {
  return COMMON_STORAGE_SOP_CLASSES.map((abstractSyntax) => ({
    abstractSyntax,
    transferSyntaxes: [...UNCOMPRESSED_TRANSFER_SYNTAXES],
    scuRole: true,
    scpRole: options.scpRole ?? false,
  }));
}

/** What `connect()` proposes when the caller names no contexts. */
export function defaultContexts(): ProposedContext[] {
  return [...serviceContexts(), ...commonStorageContexts({ scpRole: true })];
}

/** A file's storage identity, as read from its meta header. */
export interface StorableFile {
  sopClassUid: string;
  transferSyntaxUid: string;
}

/**
 * Contexts for storing `files`, as DCMTK storescu proposes them: per SOP class,
 * one context with the files' own transfer syntax(es) and, when those are
 * uncompressed, a second one offering the uncompressed fall-backs.
 */
export function storageContextsFor(files: Iterable<StorableFile>): ProposedContext[] {
  const bySopClass = new Map<string, Set<string>>();
  for (const f of files) {
    let set = bySopClass.get(f.sopClassUid);
    if (!set) {
      set = new Set();
      bySopClass.set(f.sopClassUid, set);
    }
    set.add(f.transferSyntaxUid);
  }
  const contexts: ProposedContext[] = [];
  for (const [abstractSyntax, syntaxes] of bySopClass) {
    for (const ts of syntaxes) {
      contexts.push({ abstractSyntax, transferSyntaxes: [ts] });
    }
    const fallbacks = UNCOMPRESSED_TRANSFER_SYNTAXES.filter((ts) => !syntaxes.has(ts));
    if (fallbacks.length > 0) contexts.push({ abstractSyntax, transferSyntaxes: [...fallbacks] });
  }
  return contexts;
}
