/**
 * Connections refused by an admission limit (per-minute rate, pending cap, TLS handshakes)
 * are audited, but a flood of them must not flood the audit trail: at most one record per
 * remote address and limit per window (a minute). The first refusal is recorded at once;
 * the ones after it within the window are folded into one record written when the window is
 * over, carrying how many they were. Beyond {@link RefusalFoldOptions.maxTracked} addresses
 * at once, new addresses share one entry per limit, so the records per window stay bounded
 * however many addresses a flood comes from.
 */

/** One audit record's worth of refusals. */
export interface FoldedRefusals {
  /** The refused peer; undefined for the entry shared by addresses beyond `maxTracked`. */
  remoteAddress: string | undefined;
  /** The limit that refused them, named as its option (e.g. `maxPendingConnections`). */
  limit: string;
  /** Refusals since the previous record of this address and limit (1 for the first). */
  refusals: number;
  /** The message of the last of them. */
  reason: string;
}

/** Options of {@link RefusalFolder}. */
export interface RefusalFoldOptions {
  /** Default 60 000 ms. */
  windowMs?: number;
  /** Addresses followed at once before new ones share an entry (default 1024). */
  maxTracked?: number;
}

interface Entry {
  remoteAddress: string | undefined;
  limit: string;
  folded: number;
  reason: string;
  timer: NodeJS.Timeout;
}

/** Folds admission refusals into at most one audit record per address, limit and window. */
export class RefusalFolder {
  private readonly entries = new Map<string, Entry>();
  private readonly windowMs: number;
  private readonly maxTracked: number;

  constructor(
    private readonly record: (refusals: FoldedRefusals) => void,
    options: RefusalFoldOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 60_000;
    this.maxTracked = options.maxTracked ?? 1024;
  }

  /** A connection from `remoteAddress` was refused by `limit`. */
  refused(remoteAddress: string, limit: string, reason: string): void {
    let address: string | undefined = remoteAddress;
    let key = `${limit}\0${remoteAddress}`;
    if (!this.entries.has(key) && this.entries.size >= this.maxTracked) {
      address = undefined;
      key = `${limit}\0`;
    }
    const entry = this.entries.get(key);
    if (entry) {
      entry.folded++;
      entry.reason = reason;
      return;
    }
    this.record({ remoteAddress: address, limit, refusals: 1, reason });
    this.entries.set(key, { remoteAddress: address, limit, folded: 0, reason, timer: this.timer(key) });
  }

  /** Record what is folded now (the node is stopping) and forget every entry. */
  flush(): void {
    for (const entry of this.entries.values()) {
      clearTimeout(entry.timer);
      if (entry.folded > 0) this.recordFolded(entry);
    }
    this.entries.clear();
  }

  private timer(key: string): NodeJS.Timeout {
    return setTimeout(() => this.windowOver(key), this.windowMs).unref();
  }

  private windowOver(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    if (entry.folded === 0) {
      // a quiet window: forget the address, its next refusal is recorded at once
      this.entries.delete(key);
      return;
    }
    this.recordFolded(entry);
    entry.folded = 0;
    entry.timer = this.timer(key);
  }

  private recordFolded(entry: Entry): void {
    this.record({
      remoteAddress: entry.remoteAddress,
      limit: entry.limit,
      refusals: entry.folded,
      reason: entry.reason,
    });
  }
}
