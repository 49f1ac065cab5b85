/** Pure negotiation helpers shared by requestor and acceptor (PS3.7 Annex D.3.3, PS3.8 9.3). */

/** Minimum of two operation window values where 0 means unlimited (PS3.7 D.3.3.3). */
export function minWindow(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

/** Default roles when no role selection was negotiated: requestor SCU, acceptor SCP (PS3.7 D.3.3.4). */
export const DEFAULT_ROLES = { requestorIsScu: true, requestorIsScp: false } as const;

/** Default maximum length we advertise: 16384, as DCMTK. */
export const DEFAULT_MAX_PDU_LENGTH = 16384;

/** Assumed peer limit when its A-ASSOCIATE PDU carries no maximum length sub-item. */
export const ASSUMED_PEER_MAX_PDU_LENGTH = 16384;
