import { EventEmitter } from 'node:events';
import type {
  AssociationChannel,
  ChannelCloseReason,
  NegotiatedAssociation,
  NegotiatedContext,
  Pdv,
} from '../../src/network/channel.js';

/** Presentation contexts both fake ends agree on. */
export const TEST_CONTEXTS: NegotiatedContext[] = [
  ctx(1, '1.2.840.10008.1.1', '1.2.840.10008.1.2'),
  ctx(3, '1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.1.2.1'),
  ctx(5, '1.2.840.10008.5.1.4.1.2.2.1', '1.2.840.10008.1.2.1'),
  ctx(7, '1.2.840.10008.5.1.4.1.2.2.3', '1.2.840.10008.1.2.1'),
  {
    id: 9,
    abstractSyntax: '1.2.840.10008.5.1.4.1.1.4',
    result: 3,
    requestorIsScu: true,
    requestorIsScp: false,
  },
  ctx(11, '1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.1.2.1.99'),
];

export const VERIFICATION_CONTEXT = 1;
export const STORAGE_CONTEXT = 3;
export const FIND_CONTEXT = 5;
export const GET_CONTEXT = 7;
export const REJECTED_CONTEXT = 9;
export const DEFLATED_STORAGE_CONTEXT = 11;

function ctx(id: number, abstractSyntax: string, transferSyntax: string): NegotiatedContext {
  return { id, abstractSyntax, transferSyntax, result: 0, requestorIsScu: true, requestorIsScp: true };
}

export interface FakeChannelOptions {
  /** Largest PDV data length either side may send (the peer max PDU minus 6). Default 16378. */
  maxPdvLength?: number;
  /** Asynchronous operations window as the requestor (side A) negotiated it: invoked by A / performed by A. Default 1/1. */
  maxOperationsInvoked?: number;
  maxOperationsPerformed?: number;
  /** Undelivered bytes at the receiver above which sendPdvs waits (models the socket buffers). Default 1 MiB. */
  highWaterBytes?: number;
  /** Overwrite each delivered PDV's bytes after the listener returned, to catch receivers that keep slices. Default true. */
  poison?: boolean;
  /** Keep every PDV sent (for assertions). Default false. */
  record?: boolean;
}

interface Queued {
  pdvs: Pdv[];
  bytes: number;
}

/**
 * One end of an in-memory association: PDVs sent on one end arrive
 * asynchronously, grouped as P-DATA-TF PDUs of the negotiated size, at the
 * other; pause() stops delivery and a full receiver makes sendPdvs wait.
 */
export class FakeChannel extends EventEmitter implements AssociationChannel {
  readonly negotiated: NegotiatedAssociation;
  readonly maxSendPdvDataLength: number;
  peer!: FakeChannel;
  paused = false;
  pauseCount = 0;
  resumeCount = 0;
  /** Largest number of undelivered bytes seen at this end. */
  maxInboxBytes = 0;
  aborts = 0;
  sent: Pdv[] = [];
  closedReason: ChannelCloseReason | undefined;
  private inbox: Queued[] = [];
  private inboxBytes = 0;
  private scheduled = false;
  private drainWaiters: (() => void)[] = [];
  private readonly highWater: number;
  private readonly poison: boolean;
  private readonly record: boolean;

  constructor(negotiated: NegotiatedAssociation, options: FakeChannelOptions) {
    super();
    this.negotiated = negotiated;
    this.maxSendPdvDataLength = options.maxPdvLength ?? 16378;
    this.highWater = options.highWaterBytes ?? 1024 * 1024;
    this.poison = options.poison ?? true;
    this.record = options.record ?? false;
  }

  // EventEmitter's listener type (any[]) does not fit the contract's never[] parameter list.
  override off(event: string, listener: (...args: never[]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  async sendPdvs(pdvs: Pdv[]): Promise<void> {
    if (this.closedReason) throw new Error('fake channel: send on a closed channel');
    let group: Pdv[] = [];
    let groupBytes = 0;
    const pduLimit = this.maxSendPdvDataLength + 6;
    for (const pdv of pdvs) {
      if (pdv.data.length > this.maxSendPdvDataLength) {
        throw new RangeError(
          `fake channel: PDV of ${pdv.data.length} bytes exceeds ${this.maxSendPdvDataLength}`,
        );
      }
      if (this.record) this.sent.push({ ...pdv, data: Buffer.from(pdv.data) });
      const size = pdv.data.length + 6;
      if (groupBytes + size > pduLimit && group.length > 0) {
        this.peer.enqueue(group, groupBytes);
        group = [];
        groupBytes = 0;
      }
      group.push({ ...pdv, data: Buffer.from(pdv.data) });
      groupBytes += size;
    }
    if (group.length > 0) this.peer.enqueue(group, groupBytes);
    while (this.peer.inboxBytes > this.peer.highWater && !this.closedReason) {
      await new Promise<void>((resolve) => this.peer.drainWaiters.push(resolve));
    }
    if (this.closedReason) throw new Error('fake channel: closed while sending');
  }

  /** Deliver raw PDVs to this end as if the peer had sent them (no checks): for protocol-violation tests. */
  inject(pdvs: Pdv[]): void {
    this.enqueue(
      pdvs.map((p) => ({ ...p, data: Buffer.from(p.data) })),
      pdvs.reduce((n, p) => n + p.data.length + 6, 0),
    );
  }

  pause(): void {
    if (!this.paused) this.pauseCount++;
    this.paused = true;
  }

  resume(): void {
    if (this.paused) this.resumeCount++;
    this.paused = false;
    this.schedule();
  }

  async release(): Promise<void> {
    this.closeBoth({ kind: 'released' }, { kind: 'released' });
  }

  respondRelease(): void {
    this.closeBoth({ kind: 'released' }, { kind: 'released' });
  }

  abort(reason = 0): void {
    this.aborts++;
    this.closeBoth(
      { kind: 'aborted', source: 0, reason, byPeer: false, message: 'A-ABORT sent' },
      { kind: 'aborted', source: 0, reason, byPeer: true, message: 'A-ABORT received' },
    );
  }

  /** Simulate a broken connection on both ends. */
  fail(error: Error): void {
    this.closeBoth({ kind: 'transport-error', error }, { kind: 'transport-error', error });
  }

  private closeBoth(own: ChannelCloseReason, peer: ChannelCloseReason): void {
    if (this.closedReason) return;
    this.close(own);
    this.peer.close(peer);
  }

  private close(reason: ChannelCloseReason): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    this.inbox = [];
    this.inboxBytes = 0;
    for (const w of this.drainWaiters.splice(0)) w();
    for (const w of this.peer.drainWaiters.splice(0)) w();
    setImmediate(() => this.emit('closed', reason));
  }

  private enqueue(pdvs: Pdv[], bytes: number): void {
    if (this.closedReason) return;
    this.inbox.push({ pdvs, bytes });
    this.inboxBytes += bytes;
    this.maxInboxBytes = Math.max(this.maxInboxBytes, this.inboxBytes);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.paused || this.inbox.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.deliver());
  }

  private deliver(): void {
    this.scheduled = false;
    let budget = 256 * 1024;
    while (!this.paused && !this.closedReason && budget > 0) {
      const next = this.inbox.shift();
      if (!next) break;
      this.inboxBytes -= next.bytes;
      budget -= next.bytes;
      this.emit('pdvs', next.pdvs);
      if (this.poison) for (const pdv of next.pdvs) pdv.data.fill(0xee);
    }
    if (this.inboxBytes <= this.highWater) for (const w of this.drainWaiters.splice(0)) w();
    this.schedule();
  }
}

/** Two connected fake channels: `[requestor, acceptor]`. */
export function createChannelPair(options: FakeChannelOptions = {}): [FakeChannel, FakeChannel] {
  const contexts = new Map(TEST_CONTEXTS.map((c) => [c.id, c]));
  const invoked = options.maxOperationsInvoked ?? 1;
  const performed = options.maxOperationsPerformed ?? 1;
  const base = {
    callingAet: 'SCU',
    calledAet: 'SCP',
    contexts,
    peerMaxPduLength: (options.maxPdvLength ?? 16378) + 6,
    ownMaxPduLength: (options.maxPdvLength ?? 16378) + 6,
  };
  const a = new FakeChannel(
    { ...base, maxOperationsInvoked: invoked, maxOperationsPerformed: performed },
    options,
  );
  const b = new FakeChannel(
    { ...base, maxOperationsInvoked: performed, maxOperationsPerformed: invoked },
    options,
  );
  a.peer = b;
  b.peer = a;
  return [a, b];
}
