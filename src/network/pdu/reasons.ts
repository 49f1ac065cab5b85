/** Human-readable names for A-ASSOCIATE-RJ and A-ABORT diagnostics (PS3.8 Tables 9-21 and 9-26). */

const REJECT_REASONS: Record<number, Record<number, string>> = {
  1: {
    1: 'no reason given',
    2: 'application context name not supported',
    3: 'calling AE title not recognized',
    7: 'called AE title not recognized',
  },
  2: { 1: 'no reason given', 2: 'protocol version not supported' },
  3: { 1: 'temporary congestion', 2: 'local limit exceeded' },
};

const REJECT_SOURCES: Record<number, string> = {
  1: 'service user',
  2: 'service provider (ACSE)',
  3: 'service provider (presentation)',
};

/** e.g. `called AE title not recognized` for source 1 reason 7 (PS3.8 Table 9-21). */
export function describeRejectReason(source: number, reason: number): string {
  const text = REJECT_REASONS[source]?.[reason];
  if (text) return text;
  return `reserved reason from ${REJECT_SOURCES[source] ?? `unknown source ${source}`}`;
}

const ABORT_REASONS: Record<number, string> = {
  0: 'reason not specified',
  1: 'unrecognized PDU',
  2: 'unexpected PDU',
  4: 'unrecognized PDU parameter',
  5: 'unexpected PDU parameter',
  6: 'invalid PDU parameter value',
};

/** `service user` (0), `service provider` (2) (PS3.8 Table 9-26). */
export function describeAbortSource(source: number): string {
  if (source === 0) return 'service user';
  if (source === 2) return 'service provider';
  if (source < 0) return 'transport';
  return `reserved source ${source}`;
}

/** Reason text for an A-ABORT; only a provider abort (source 2) carries a meaningful reason. */
export function describeAbortReason(source: number, reason: number): string {
  if (source !== 2) return `reason ${reason}`;
  return `${ABORT_REASONS[reason] ?? 'reserved'} (reason ${reason})`;
}

/** Presentation context results (PS3.8 Table 9-18). */
export function describeContextResult(result: number): string {
  switch (result) {
    case 0:
      return 'acceptance';
    case 1:
      return 'user rejection';
    case 2:
      return 'no reason (provider rejection)';
    case 3:
      return 'abstract syntax not supported';
    case 4:
      return 'transfer syntaxes not supported';
    default:
      return `reserved result ${result}`;
  }
}
