import type { Database } from 'better-sqlite3';
import type { CommitmentReference, CommitmentResult } from './commitment.js';

/** A storage commitment transaction whose N-EVENT-REPORT has not reached the requestor yet. */
export interface PendingCommitment {
  transactionUid: string;
  callingAet: string;
  references: CommitmentReference[];
  /** The result decided when the request was first checked (reports repeat it, not a new check). */
  result?: CommitmentResult;
  attempts: number;
  lastError?: string;
  requestedAt: string;
}

/**
 * Storage commitment transactions as the SCP persists them, so that a report that could
 * not be delivered survives a restart and is sent again (storage-agnostic; the SQLite
 * table is {@link CommitmentLogStore}).
 */
export interface CommitmentLog {
  /** A request was accepted (a repeated Transaction UID starts over). */
  requested(transactionUid: string, callingAet: string, references: readonly CommitmentReference[]): void;
  /** The check's result, kept for every later delivery attempt. */
  decided(transactionUid: string, result: CommitmentResult): void;
  /** The report reached the requestor. */
  delivered(transactionUid: string): void;
  /** A delivery attempt failed. */
  undelivered(transactionUid: string, reason: string): void;
  /** Transactions not yet reported, oldest first, with fewer than `maxAttempts` attempts. */
  pending(maxAttempts: number): PendingCommitment[];
  /** One transaction, delivered or not (tests, tools). */
  get(transactionUid: string): (PendingCommitment & { deliveredAt?: string }) | undefined;
}

interface CommitmentRow {
  transaction_uid: string;
  calling_aet: string;
  references_json: string;
  result_json: string | null;
  requested_at: string;
  delivered_at: string | null;
  attempts: number;
  last_error: string | null;
}

function fromRow(row: CommitmentRow): PendingCommitment & { deliveredAt?: string } {
  const out: PendingCommitment & { deliveredAt?: string } = {
    transactionUid: row.transaction_uid,
    callingAet: row.calling_aet,
    references: JSON.parse(row.references_json) as CommitmentReference[],
    attempts: row.attempts,
    requestedAt: row.requested_at,
  };
  if (row.result_json !== null) out.result = JSON.parse(row.result_json) as CommitmentResult;
  if (row.last_error !== null) out.lastError = row.last_error;
  if (row.delivered_at !== null) out.deliveredAt = row.delivered_at;
  return out;
}

function prepare(db: Database) {
  return {
    upsert: db.prepare<[string, string, string, string]>(
      'INSERT OR REPLACE INTO commitment (transaction_uid, calling_aet, references_json, requested_at) VALUES (?, ?, ?, ?)',
    ),
    decide: db.prepare<[string, string]>('UPDATE commitment SET result_json = ? WHERE transaction_uid = ?'),
    deliver: db.prepare<[string, string]>(
      'UPDATE commitment SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE transaction_uid = ?',
    ),
    fail: db.prepare<[string, string]>(
      'UPDATE commitment SET attempts = attempts + 1, last_error = ? WHERE transaction_uid = ?',
    ),
    pending: db.prepare<[number], CommitmentRow>(
      'SELECT * FROM commitment WHERE delivered_at IS NULL AND attempts < ? ORDER BY requested_at, rowid',
    ),
    get: db.prepare<[string], CommitmentRow>('SELECT * FROM commitment WHERE transaction_uid = ?'),
  };
}

/** The `commitment` table of the SQLite index (statements prepared on first use). */
export class CommitmentLogStore implements CommitmentLog {
  #statements: ReturnType<typeof prepare> | undefined;

  constructor(private readonly db: Database) {}

  get #s(): ReturnType<typeof prepare> {
    this.#statements ??= prepare(this.db);
    return this.#statements;
  }

  requested(transactionUid: string, callingAet: string, references: readonly CommitmentReference[]): void {
    this.#s.upsert.run(transactionUid, callingAet, JSON.stringify(references), new Date().toISOString());
  }

  decided(transactionUid: string, result: CommitmentResult): void {
    this.#s.decide.run(JSON.stringify(result), transactionUid);
  }

  delivered(transactionUid: string): void {
    this.#s.deliver.run(new Date().toISOString(), transactionUid);
  }

  undelivered(transactionUid: string, reason: string): void {
    this.#s.fail.run(reason, transactionUid);
  }

  pending(maxAttempts: number): PendingCommitment[] {
    return this.#s.pending.all(maxAttempts).map(fromRow);
  }

  get(transactionUid: string): (PendingCommitment & { deliveredAt?: string }) | undefined {
    const row = this.#s.get.get(transactionUid);
    return row === undefined ? undefined : fromRow(row);
  }
}
