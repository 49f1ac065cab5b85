/**
 * The primary of `serve --workers N`: it checks the storage directory once, forks the
 * workers, accepts every connection itself and hands its socket to the worker with the
 * fewest open connections. It holds what is counted for the node as a whole (connections per
 * minute and pending connections at accept, association slots leased over IPC, with idle
 * eviction across workers) and the audit sinks (records are written once, in one order);
 * it restarts a worker that dies, removing what that worker was receiving, and drains them
 * all on shutdown.
 */
import cluster, { type Worker } from 'node:cluster';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { AuditSink } from '../audit/index.js';
import type { Logger } from '../log.js';
import { AdmissionRefusedError, ConnectionAdmission } from '../services/admission.js';
import { AssociationSlots, isSlotRefusal, type PoolSlotLease } from '../services/association-slots.js';
import { type AuditOptions, AuditTrail, createAuditSinks, studyCounts } from './audit.js';
import { type ToPrimary, type ToWorker, WORKER_ENV, workerTempSubdir } from './cluster-ipc.js';
import type { NodeLimits } from './config.js';
import type { ConsistencySummary } from './consistency.js';
import { type Index, SqliteIndex } from './index-db.js';
import { PgIndex } from './index-pg.js';
import { RefusalFolder } from './refusal-audit.js';
import { startupCheck } from './startup-check.js';
import { FileStorage, INCOMING_DIR } from './storage.js';

/** Options of {@link startClusterPrimary}. */
export interface ClusterPrimaryOptions {
  workers: number;
  aet: string;
  port: number | false;
  tlsPort: number | false;
  /** Address of the TLS listener (default all interfaces). */
  host?: string;
  /** Address of the plain listener (default 127.0.0.1, as a single-process node). */
  plainHost?: string;
  storageDir: string;
  /** The Q/R index URL (postgres://…); absent = SQLite in `storageDir`. */
  indexUrl?: string;
  worklistDir?: string;
  limits: NodeLimits;
  audit?: AuditOptions;
  logger: Logger;
  /** How long the workers may take to start (ms; default 60 000). */
  startTimeoutMs?: number;
}

/** A running cluster (what `dicomnet serve --workers N` runs in its primary). */
export interface RunningCluster {
  ports: { plain?: number; tls?: number };
  consistency: ConsistencySummary;
  worklistItems: number;
  /** Process IDs of the workers running now, by worker number. */
  workerPids(): number[];
  /** Stop accepting, let every worker drain within `graceMs`, then stop; a second call aborts. */
  close(graceMs?: number): Promise<void>;
}

interface WorkerState {
  index: number;
  worker: Worker;
  pid: number;
  ready: boolean;
  startedAt: number;
  /** Connections handed over and not closed yet. */
  open: Set<number>;
  /** Their pending-connection counts, released once the worker says so (or exits). */
  pending: Map<number, () => void>;
  slots: Map<number, PoolSlotLease>;
}

const noop = () => undefined;

/** Start the primary: check storage, fork `workers` workers, wait for them, then listen. */
export async function startClusterPrimary(options: ClusterPrimaryOptions): Promise<RunningCluster> {
  const log = options.logger;
  const { limits } = options;
  const sinks: AuditSink[] = createAuditSinks(options.audit, log);
  const audit = new AuditTrail(log, options.aet, sinks);
  const storage = new FileStorage(options.storageDir);

  // once, before any worker receives into the directory
  const index: Index =
    options.indexUrl === undefined
      ? new SqliteIndex(options.storageDir)
      : await PgIndex.open(options.indexUrl, { localDir: options.storageDir, log });
  let consistency: ConsistencySummary;
  let worklistItems = 0;
  try {
    consistency = await startupCheck(storage, index, log);
    if (options.worklistDir) {
      worklistItems = index.worklist.loadDirectory(options.worklistDir);
      log.info({ worklistDir: options.worklistDir, items: worklistItems }, 'worklist loaded');
    }
  } finally {
    await index.close();
  }

  const admission = new ConnectionAdmission({
    maxAssociationsPerMinutePerAddress: limits.maxAssociationsPerMinutePerAddress || undefined,
    maxPendingConnections: limits.maxPendingConnections || undefined,
  });
  const slots = new AssociationSlots({
    maxAssociations: limits.maxAssociations,
    maxAssociationsPerAddress: limits.maxAssociationsPerAddress,
    idleEvictMs: limits.idleEvictSeconds * 1000,
  });
  const refusals = new RefusalFolder((folded) => audit.admissionRefused(folded));
  const workers: (WorkerState | undefined)[] = new Array<WorkerState | undefined>(options.workers);
  let nextConnection = 1;
  let nextSlot = 1;
  let nextPick = 0;
  let stopping = false;
  const crashes: number[] = [];
  let readyWaiter: (() => void) | undefined;
  let startFailure: ((err: Error) => void) | undefined;

  const onMessage = (w: WorkerState, message: ToPrimary) => {
    switch (message.t) {
      case 'ready':
        w.ready = true;
        log.info({ worker: w.index, workerPid: w.pid }, `worker ${w.index} ready (pid ${w.pid})`);
        if (workers.every((x) => x?.ready)) readyWaiter?.();
        return;
      case 'pending-end':
        w.pending.get(message.id)?.();
        w.pending.delete(message.id);
        return;
      case 'closed':
        w.pending.get(message.id)?.();
        w.pending.delete(message.id);
        w.open.delete(message.id);
        return;
      case 'slot-acquire': {
        const lease = slots.acquire(message.address);
        if (isSlotRefusal(lease)) {
          send(w, { t: 'slot', req: message.req, refused: lease.refused });
          return;
        }
        const slot = nextSlot++;
        w.slots.set(slot, lease);
        send(w, { t: 'slot', req: message.req, slot });
        return;
      }
      case 'slot-evictable':
        w.slots.get(message.slot)?.evictable((why) => {
          w.slots.delete(message.slot);
          send(w, { t: 'evict', slot: message.slot, why });
        });
        return;
      case 'slot-state':
        w.slots.get(message.slot)?.report(message.running, message.at);
        return;
      case 'slot-release':
        w.slots.get(message.slot)?.release();
        w.slots.delete(message.slot);
        return;
      case 'audit':
        for (const sink of sinks) {
          try {
            sink.write(message.message);
          } catch (err) {
            log.error({ err }, 'audit: a sink failed to take a message');
          }
        }
        return;
    }
  };

  const send = (w: WorkerState, message: ToWorker, handle?: Socket, done?: (err: Error | null) => void) => {
    if (!w.worker.isConnected()) {
      done?.(new Error('worker disconnected'));
      return;
    }
    try {
      if (handle) w.worker.send(message, handle, done);
      else w.worker.send(message, done);
    } catch (err) {
      done?.(err as Error);
    }
  };

  const fork = (index: number): WorkerState => {
    const worker = cluster.fork({ [WORKER_ENV]: String(index) });
    const w: WorkerState = {
      index,
      worker,
      pid: worker.process.pid ?? 0,
      ready: false,
      startedAt: Date.now(),
      open: new Set(),
      pending: new Map(),
      slots: new Map(),
    };
    workers[index] = w;
    log.info({ worker: index, workerPid: w.pid }, `worker ${index} started (pid ${w.pid})`);
    worker.on('message', (message: ToPrimary) => onMessage(w, message));
    worker.on('error', (err) => log.warn({ err, worker: index }, 'worker IPC error'));
    worker.on('exit', (code, signal) => exited(w, code, signal));
    return w;
  };

  const exited = (w: WorkerState, code: number | null, signal: string | null) => {
    for (const end of w.pending.values()) end();
    w.pending.clear();
    for (const lease of w.slots.values()) lease.release();
    w.slots.clear();
    // what it was receiving: never renamed into place, so never an instance; the files go
    rmSync(join(storage.root, INCOMING_DIR, workerTempSubdir(w.pid)), { recursive: true, force: true });
    if (workers[w.index] === w) workers[w.index] = undefined;
    if (stopping) return;
    if (!w.ready) {
      startFailure?.(new Error(`worker ${w.index} exited while starting (code ${code}, signal ${signal})`));
      if (startFailure) return;
    }
    const now = Date.now();
    crashes.push(now);
    while (crashes.length > 0 && (crashes[0] as number) < now - 60_000) crashes.shift();
    const delayMs = Math.min(10_000, 100 * 2 ** Math.min(crashes.length - 1, 7));
    log.error(
      { worker: w.index, workerPid: w.pid, code, signal, restartInMs: delayMs },
      `worker ${w.index} (pid ${w.pid}) exited (${signal ?? `code ${code}`}): restarting it`,
    );
    setTimeout(() => {
      if (!stopping) fork(w.index);
    }, delayMs).unref();
  };

  const pick = (): WorkerState | undefined => {
    let best: WorkerState | undefined;
    for (let i = 0; i < workers.length; i++) {
      const w = workers[(nextPick + i) % workers.length];
      if (w?.ready && w.worker.isConnected() && (!best || w.open.size < best.open.size)) best = w;
    }
    nextPick = (nextPick + 1) % workers.length;
    return best;
  };

  const onConnection = (socket: Socket, secure: boolean) => {
    socket.on('error', noop);
    const address = socket.remoteAddress ?? '?';
    let refused = admission.connectionArrived(address);
    let endPending: () => void = noop;
    if (!refused) {
      try {
        endPending = admission.startPending(address);
      } catch (err) {
        refused = err as AdmissionRefusedError;
      }
    }
    if (refused) {
      log.warn({ remoteAddress: address, code: refused.code }, refused.message);
      if (refused instanceof AdmissionRefusedError) refusals.refused(address, refused.limit, refused.message);
      socket.destroy();
      return;
    }
    const w = pick();
    if (!w) {
      endPending();
      log.warn({ remoteAddress: address }, `connection from ${address} closed: no worker is running`);
      socket.destroy();
      return;
    }
    const id = nextConnection++;
    w.pending.set(id, endPending);
    w.open.add(id);
    send(w, { t: 'connection', id, secure }, socket, (err) => {
      if (!err) return;
      w.pending.get(id)?.();
      w.pending.delete(id);
      w.open.delete(id);
      socket.destroy();
    });
  };

  // workers first: a connection accepted before one is ready would have nowhere to go
  const started = new Promise<void>((resolve, reject) => {
    readyWaiter = resolve;
    startFailure = reject;
  });
  for (let i = 0; i < options.workers; i++) fork(i);
  const timeout = setTimeout(
    () => startFailure?.(new Error('the workers did not start in time')),
    options.startTimeoutMs ?? 60_000,
  );
  const servers: Server[] = [];
  const stopWorkers = async (graceMs: number) => {
    stopping = true;
    const alive = workers.filter((w): w is WorkerState => w !== undefined);
    await Promise.all(
      alive.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.worker.isDead()) {
              resolve();
              return;
            }
            w.worker.once('exit', () => resolve());
            send(w, { t: 'shutdown', graceMs });
            setTimeout(() => w.worker.process.kill('SIGKILL'), graceMs + 20_000).unref();
          }),
      ),
    );
  };
  try {
    await started;
  } catch (err) {
    clearTimeout(timeout);
    await stopWorkers(0);
    await audit.close(1000);
    throw err;
  } finally {
    clearTimeout(timeout);
    startFailure = undefined;
    readyWaiter = undefined;
  }

  const listen = async (port: number, host: string | undefined, secure: boolean): Promise<number> => {
    const server = createServer({ pauseOnConnect: true, noDelay: true }, (socket) =>
      onConnection(socket, secure),
    );
    server.on('error', (err) => log.error({ err }, 'listener error'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    servers.push(server);
    const addr = server.address();
    const bound = typeof addr === 'object' && addr ? addr.port : port;
    log.info({ port: bound, secure, workers: options.workers }, 'listening');
    return bound;
  };
  const ports: RunningCluster['ports'] = {};
  try {
    if (options.port !== false)
      ports.plain = await listen(options.port, options.plainHost ?? '127.0.0.1', false);
    if (options.tlsPort !== false) ports.tls = await listen(options.tlsPort, options.host, true);
  } catch (err) {
    for (const s of servers) s.close();
    await stopWorkers(0);
    await audit.close(1000);
    throw err;
  }
  audit.applicationActivity('start', { ...ports, storage: storage.root, workers: options.workers });
  if (consistency.rowsRemoved > 0)
    audit.instancesDeleted(
      studyCounts(consistency.missingFiles),
      'instance files missing at start-up: their index rows were removed',
    );

  let closing: Promise<void> | undefined;
  return {
    ports,
    consistency,
    worklistItems,
    workerPids: () => workers.map((w) => w?.pid ?? 0),
    close(graceMs = 10_000) {
      if (closing) {
        for (const w of workers) if (w) send(w, { t: 'abort' });
        return closing;
      }
      closing = (async () => {
        const listenersClosed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
        await stopWorkers(graceMs);
        await Promise.all(listenersClosed);
        refusals.flush();
        audit.applicationActivity('stop');
        await audit.close(Math.max(1_000, Math.min(graceMs, 5_000)));
      })();
      return closing;
    },
  };
}
