/**
 * Association slots: how many associations may run at once, in total and per remote
 * address, and which idle association gives its slot up when the total is reached. One
 * pool may serve several processes (a cluster primary holds it and its workers lease slots
 * from it over IPC), so it only knows addresses, times and an eviction callback.
 */

/** Limits of an {@link AssociationSlots} pool; undefined or 0 = no limit (eviction: never). */
export interface AssociationSlotLimits {
  maxAssociations?: number;
  maxAssociationsPerAddress?: number;
  /**
   * When all {@link maxAssociations} slots are taken, an association without DIMSE activity
   * for this long (ms) is aborted to admit the newcomer, the longest-idle first. Undefined
   * or 0: the newcomer is rejected instead.
   */
  idleEvictMs?: number;
}

/** One association's slot. */
export interface SlotLease {
  /** DIMSE activity now (a P-DATA arrived, a message was sent). */
  touch(): void;
  /** An operation started (+1) or ended (-1): an association with one running is never idle. */
  busy(delta: 1 | -1): void;
  /**
   * The association is established and may be evicted from now on: `evict` aborts it (the
   * slot is already released when it is called). Before this, the slot is never evicted.
   */
  evictable(evict: (why: string) => void): void;
  /** Give the slot back (again: nothing). */
  release(): void;
}

/** A lease of an {@link AssociationSlots} pool, which a proxy in another process also reports to. */
export interface PoolSlotLease extends SlotLease {
  /** The activity as another process saw it: operations running, Date.now() of the last activity. */
  report(running: number, at: number): void;
}

/** A refusal of a slot: why, in words. */
export interface SlotRefusal {
  refused: string;
}

/** Where a server leases its association slots: an {@link AssociationSlots} or a proxy of one in another process. */
export interface AssociationSlotPool {
  acquire(address: string): SlotLease | SlotRefusal | Promise<SlotLease | SlotRefusal>;
}

interface Slot {
  address: string;
  /** Date.now() of the last activity (a time shared by the processes of one machine). */
  last: number;
  running: number;
  evict?: (why: string) => void;
  released: boolean;
}

/** The slot pool of one server or node (see the module comment). */
export class AssociationSlots implements AssociationSlotPool {
  readonly #slots = new Set<Slot>();
  readonly #byAddress = new Map<string, number>();

  constructor(
    private readonly limits: AssociationSlotLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Slots taken now. */
  get active(): number {
    return this.#slots.size;
  }

  /** Take a slot for an association from `address`, evicting an idle one if the total is reached. */
  acquire(address: string): PoolSlotLease | SlotRefusal {
    const { maxAssociations, maxAssociationsPerAddress, idleEvictMs } = this.limits;
    const fromAddress = this.#byAddress.get(address) ?? 0;
    if (maxAssociationsPerAddress && fromAddress >= maxAssociationsPerAddress)
      return {
        refused: `local limit exceeded: ${fromAddress} associations running from ${address} (maxAssociationsPerAddress ${maxAssociationsPerAddress})`,
      };
    if (maxAssociations && this.#slots.size >= maxAssociations) {
      const victim = idleEvictMs ? this.#longestIdle(idleEvictMs) : undefined;
      if (!victim)
        return {
          refused: `local limit exceeded: ${this.#slots.size} associations running (maxAssociations ${maxAssociations})`,
        };
      const idleS = Math.round((this.now() - victim.last) / 1000);
      this.#release(victim);
      victim.evict?.(
        `idle for ${idleS} s while all ${maxAssociations} association slots were taken (maxAssociations ${maxAssociations}, idleEvictSeconds ${Math.round((idleEvictMs ?? 0) / 1000)}): released for a new association from ${address}`,
      );
    }
    const slot: Slot = { address, last: this.now(), running: 0, released: false };
    this.#slots.add(slot);
    this.#byAddress.set(address, fromAddress + 1);
    return {
      touch: () => {
        slot.last = this.now();
      },
      busy: (delta) => {
        slot.running += delta;
        slot.last = this.now();
      },
      report: (running, at) => {
        slot.running = running;
        slot.last = at;
      },
      evictable: (evict) => {
        slot.evict = evict;
      },
      release: () => this.#release(slot),
    };
  }

  #longestIdle(idleMs: number): Slot | undefined {
    const before = this.now() - idleMs;
    let victim: Slot | undefined;
    for (const s of this.#slots)
      if (s.evict && s.running === 0 && s.last <= before && (!victim || s.last < victim.last)) victim = s;
    return victim;
  }

  #release(slot: Slot): void {
    if (slot.released) return;
    slot.released = true;
    this.#slots.delete(slot);
    const n = (this.#byAddress.get(slot.address) ?? 1) - 1;
    if (n <= 0) this.#byAddress.delete(slot.address);
    else this.#byAddress.set(slot.address, n);
  }
}

/** Whether an acquire answered a refusal. */
export function isSlotRefusal<L extends SlotLease>(r: L | SlotRefusal): r is SlotRefusal {
  return typeof (r as SlotRefusal).refused === 'string';
}
