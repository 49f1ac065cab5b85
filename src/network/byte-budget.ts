/**
 * A byte budget shared by many connections: what all of them together may hold of one kind
 * of buffer. The server gives every pending connection the same budget for the A-ASSOCIATE-RQ
 * it is receiving, so that many connections each sending a large request, slowly, cannot make
 * the node hold `connections × hardMaxPduLength` bytes.
 */
export class ByteBudget {
  private taken = 0;

  /** @param max bytes the holders may take in total; 0 = no limit. */
  constructor(readonly max: number) {}

  /** Bytes currently taken. */
  get used(): number {
    return this.taken;
  }

  /** Take `n` bytes if they fit; false (nothing taken) when they would exceed {@link max}. */
  tryTake(n: number): boolean {
    if (this.max > 0 && this.taken + n > this.max) return false;
    this.taken += n;
    return true;
  }

  /** Give back `n` bytes taken earlier. */
  give(n: number): void {
    this.taken = Math.max(0, this.taken - n);
  }
}

/** What one connection holds of a {@link ByteBudget}: taken piece by piece, given back at once. */
export class BudgetHold {
  private held = 0;

  constructor(private readonly budget: ByteBudget) {}

  /** Take `n` more bytes; false (nothing taken) when they do not fit. */
  tryTake(n: number): boolean {
    if (!this.budget.tryTake(n)) return false;
    this.held += n;
    return true;
  }

  /** Give back everything held. */
  release(): void {
    if (this.held === 0) return;
    this.budget.give(this.held);
    this.held = 0;
  }
}
