/** A referenced instance of a Storage Commitment request (Referenced SOP Sequence item). */
export interface CommitmentReference {
  sopClassUid: string;
  sopInstanceUid: string;
}

/** Failure Reason (0008,1197) values the check produces (PS3.4 J.3.2.1.4 / C.14.1.1). */
export const CommitmentFailureReason = {
  ProcessingFailure: 0x0110,
  NoSuchObjectInstance: 0x0112,
  ClassInstanceConflict: 0x0119,
} as const;

export interface CommitmentFailure extends CommitmentReference {
  reason: number;
}

/** What the N-EVENT-REPORT lists: Referenced SOP Sequence and Failed SOP Sequence. */
export interface CommitmentResult {
  success: CommitmentReference[];
  failed: CommitmentFailure[];
}

/** What a commitment check needs to know about a stored instance. */
export interface CommittedInstanceLookup {
  /** The stored SOP Class UID and file of an instance, or undefined if it is not stored. */
  lookup(
    sopInstanceUid: string,
  ):
    | Promise<{ sopClassUid: string; path: string } | undefined>
    | { sopClassUid: string; path: string }
    | undefined;
}

/**
 * Decide, per reference, whether the node has safely stored the instance: unknown →
 * 0x0112 no such object instance; stored under another SOP Class → 0x0119 class/instance
 * conflict; with `fileExists`, an indexed instance whose file is gone → 0x0110.
 */
export async function checkCommitment(
  index: CommittedInstanceLookup,
  refs: readonly CommitmentReference[],
  fileExists?: (path: string) => boolean,
): Promise<CommitmentResult> {
  const result: CommitmentResult = { success: [], failed: [] };
  for (const ref of refs) {
    const stored = await index.lookup(ref.sopInstanceUid);
    const plain = { sopClassUid: ref.sopClassUid, sopInstanceUid: ref.sopInstanceUid };
    if (stored === undefined)
      result.failed.push({ ...plain, reason: CommitmentFailureReason.NoSuchObjectInstance });
    else if (stored.sopClassUid !== ref.sopClassUid)
      result.failed.push({ ...plain, reason: CommitmentFailureReason.ClassInstanceConflict });
    else if (fileExists !== undefined && !fileExists(stored.path))
      result.failed.push({ ...plain, reason: CommitmentFailureReason.ProcessingFailure });
    else result.success.push(plain);
  }
  return result;
}
