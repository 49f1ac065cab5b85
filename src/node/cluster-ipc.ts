/**
 * The messages between a `serve --workers N` primary and its workers (node:cluster IPC).
 * The primary accepts every connection and hands its socket to a worker; it holds what must
 * be counted for the node as a whole (connections per minute, pending connections,
 * association slots) and the audit sinks, so records are written once, by one process.
 */
import type { AuditMessage } from '../audit/index.js';

/** Primary → worker. */
export type ToWorker =
  /** A connection (its socket is the message's handle), already counted as pending. */
  | { t: 'connection'; id: number; secure: boolean }
  /** The answer to a `slot-acquire`. */
  | { t: 'slot'; req: number; slot?: number; refused?: string }
  /** Abort this slot's association: its slot went to a newcomer (already released). */
  | { t: 'evict'; slot: number; why: string }
  /** Stop: no new work, running associations get `graceMs`, then exit. */
  | { t: 'shutdown'; graceMs: number }
  /** Cut every association now (a second shutdown signal). */
  | { t: 'abort' };

/** Worker → primary. */
export type ToPrimary =
  | { t: 'ready' }
  /** Connection `id` is no longer pending (its association was decided, or it closed). */
  | { t: 'pending-end'; id: number }
  /** Connection `id` closed. */
  | { t: 'closed'; id: number }
  | { t: 'slot-acquire'; req: number; address: string }
  /** The slot's association is established: it may be evicted from now on. */
  | { t: 'slot-evictable'; slot: number }
  /** The slot's activity as the worker sees it: operations running and the Date.now() of the last activity. */
  | { t: 'slot-state'; slot: number; running: number; at: number }
  | { t: 'slot-release'; slot: number }
  | { t: 'audit'; message: AuditMessage };

/** Environment variable carrying a worker's number (0 … N-1; 0 runs the commitment retry queue). */
export const WORKER_ENV = 'DICOMNET_WORKER';

/** The temp subdirectory of `STORAGE/.incoming` a worker receives into (removed by the primary when it exits). */
export function workerTempSubdir(pid: number): string {
  return `worker-${pid}`;
}
