/**
 * The worker side of `serve --workers N`: association slots leased from the primary, audit
 * records sent to it, and the connections it hands over.
 */
import type { Socket } from 'node:net';
import type { AuditMessage, AuditSink } from '../audit/index.js';
import type { AssociationSlotPool, SlotLease, SlotRefusal } from '../services/association-slots.js';
import { type ToPrimary, type ToWorker, workerTempSubdir } from './cluster-ipc.js';

/** What {@link startNode} needs to run as one worker of a cluster. */
export interface NodeClusterRole {
  /** Association slots, leased from the primary. */
  slots: AssociationSlotPool;
  /** The audit sinks (the primary's, over IPC). */
  auditSinks: AuditSink[];
  /** This worker runs the storage commitment retry queue (exactly one does). */
  leader: boolean;
  /** Subdirectory of `STORAGE/.incoming` this worker receives into. */
  tempSubdir: string;
  /** Register the function that serves each connection the primary hands over. */
  serve(handler: (socket: Socket, secure: boolean, endPending: () => void) => void): void;
}

/** How often (at most) a slot's activity is reported to the primary, ms; eviction is decided in seconds. */
const STATE_INTERVAL_MS = 500;

type Send = (message: ToPrimary, callback?: (err: Error | null) => void) => boolean;

/** The IPC side of one worker (see {@link clusterWorkerRole}). */
class WorkerLink {
  readonly #send: Send;
  #nextRequest = 1;
  readonly #requests = new Map<number, (r: SlotLease | SlotRefusal) => void>();
  readonly #leases = new Map<number, RemoteLease>();
  #handler: ((socket: Socket, secure: boolean, endPending: () => void) => void) | undefined;
  #unsent = 0;
  #drained: (() => void)[] = [];

  constructor(send: Send) {
    this.#send = send;
  }

  send(message: ToPrimary): void {
    if (!process.connected) return;
    this.#unsent++;
    try {
      this.#send(message, () => this.#sent());
    } catch {
      this.#sent();
    }
  }

  #sent(): void {
    this.#unsent--;
    if (this.#unsent === 0) for (const d of this.#drained.splice(0)) d();
  }

  /** Resolves once every message sent so far has left, or after `deadlineMs`. */
  drained(deadlineMs: number): Promise<void> {
    if (this.#unsent === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, deadlineMs);
      this.#drained.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  acquire(address: string): Promise<SlotLease | SlotRefusal> {
    if (!process.connected) return Promise.resolve({ refused: 'the node is stopping' });
    const req = this.#nextRequest++;
    return new Promise((resolve) => {
      this.#requests.set(req, resolve);
      this.send({ t: 'slot-acquire', req, address });
    });
  }

  forget(slot: number): void {
    this.#leases.delete(slot);
  }

  onMessage(message: ToWorker, handle: unknown): boolean {
    switch (message.t) {
      case 'connection': {
        const socket = handle as Socket | undefined;
        if (!socket) return true;
        const id = message.id;
        let pending = true;
        const endPending = () => {
          if (!pending) return;
          pending = false;
          this.send({ t: 'pending-end', id });
        };
        socket.once('close', () => {
          endPending();
          this.send({ t: 'closed', id });
        });
        if (this.#handler) this.#handler(socket, message.secure, endPending);
        else socket.destroy();
        return true;
      }
      case 'slot': {
        const resolve = this.#requests.get(message.req);
        this.#requests.delete(message.req);
        if (message.slot === undefined) resolve?.({ refused: message.refused ?? 'refused by the primary' });
        else {
          const lease = new RemoteLease(this, message.slot);
          this.#leases.set(message.slot, lease);
          resolve?.(lease);
        }
        return true;
      }
      case 'evict':
        this.#leases.get(message.slot)?.evicted(message.why);
        return true;
      default:
        return false;
    }
  }

  serve(handler: (socket: Socket, secure: boolean, endPending: () => void) => void): void {
    this.#handler = handler;
  }

  /** The primary is gone: nothing will answer the slot requests still waiting. */
  disconnected(): void {
    for (const resolve of this.#requests.values()) resolve({ refused: 'the node is stopping' });
    this.#requests.clear();
  }
}

/** A slot held in the primary's pool; activity is reported at most every {@link STATE_INTERVAL_MS}. */
class RemoteLease implements SlotLease {
  #running = 0;
  #last = Date.now();
  #sentAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #evict: ((why: string) => void) | undefined;
  #released = false;

  constructor(
    private readonly link: WorkerLink,
    private readonly slot: number,
  ) {}

  touch(): void {
    this.#last = Date.now();
    this.#report();
  }

  busy(delta: 1 | -1): void {
    this.#running += delta;
    this.#last = Date.now();
    this.#report();
  }

  evictable(evict: (why: string) => void): void {
    this.#evict = evict;
    if (!this.#released) this.link.send({ t: 'slot-evictable', slot: this.slot });
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#stopTimer();
    this.link.forget(this.slot);
    this.link.send({ t: 'slot-release', slot: this.slot });
  }

  /** The primary gave this slot to a newcomer. */
  evicted(why: string): void {
    this.#released = true;
    this.#stopTimer();
    this.link.forget(this.slot);
    this.#evict?.(why);
  }

  #report(): void {
    if (this.#released || this.#timer) return;
    const wait = this.#sentAt + STATE_INTERVAL_MS - this.#last;
    if (wait <= 0) this.#sendState();
    else {
      // the latest state goes out at the end of the interval, so the last change is never lost
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#sendState();
      }, wait);
      this.#timer.unref();
    }
  }

  #sendState(): void {
    if (this.#released) return;
    this.#sentAt = Date.now();
    this.link.send({ t: 'slot-state', slot: this.slot, running: this.#running, at: this.#last });
  }

  #stopTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** Audit records go to the primary, which writes them to the node's sinks once. */
class IpcAuditSink implements AuditSink {
  constructor(private readonly link: WorkerLink) {}

  write(message: AuditMessage): void {
    this.link.send({ t: 'audit', message });
  }

  close(deadlineMs: number): Promise<void> {
    return this.link.drained(deadlineMs);
  }
}

/** A running worker's role and its control channel. */
export interface ClusterWorker {
  role: NodeClusterRole;
  /** Tell the primary the node is up. */
  ready(): void;
  /** Called once for `shutdown` (with its grace) and `abort` messages, and when the primary is gone (grace 0). */
  onStop(handler: (graceMs: number, abort: boolean) => void): void;
}

/** The role of this process as worker `index` of a cluster (call once, in the worker). */
export function clusterWorkerRole(index: number): ClusterWorker {
  if (!process.send) throw new Error('a cluster worker needs an IPC channel to its primary');
  const send = process.send.bind(process) as Send;
  const link = new WorkerLink(send);
  let stop: ((graceMs: number, abort: boolean) => void) | undefined;
  process.on('message', (message: ToWorker, handle: unknown) => {
    if (link.onMessage(message, handle)) return;
    if (message.t === 'shutdown') stop?.(message.graceMs, false);
    else if (message.t === 'abort') stop?.(0, true);
  });
  process.on('disconnect', () => {
    link.disconnected();
    stop?.(0, true);
  });
  return {
    role: {
      slots: { acquire: (address) => link.acquire(address) },
      auditSinks: [new IpcAuditSink(link)],
      leader: index === 0,
      tempSubdir: workerTempSubdir(process.pid),
      serve: (handler) => link.serve(handler),
    },
    ready: () => link.send({ t: 'ready' }),
    onStop: (handler) => {
      stop = handler;
    },
  };
}
