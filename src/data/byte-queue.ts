/** A FIFO of received chunks that hands out contiguous views without concatenating more than asked. */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private first = 0;
  private head = 0;
  /** Bytes queued and not yet consumed. */
  available = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.available += chunk.length;
  }

  /** The next `n` bytes without consuming them (a view when they lie in one chunk). */
  peek(n: number): Buffer {
    const c = this.chunks[this.first]!;
    if (c.length - this.head >= n) return c.subarray(this.head, this.head + n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let i = this.first;
    let from = this.head;
    while (filled < n) {
      const src = this.chunks[i]!;
      const count = Math.min(n - filled, src.length - from);
      src.copy(out, filled, from, from + count);
      filled += count;
      i++;
      from = 0;
    }
    return out;
  }

  /** Consume `n` bytes. */
  skip(n: number): void {
    this.available -= n;
    while (n > 0) {
      const c = this.chunks[this.first]!;
      const left = c.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks[this.first] = undefined as unknown as Buffer;
      this.first++;
      this.head = 0;
    }
    if (this.first > 64 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }

  /** Consume and return up to `max` bytes from the front chunk (zero-copy view). */
  takeSome(max: number): Buffer {
    const c = this.chunks[this.first]!;
    const n = Math.min(max, c.length - this.head);
    const out = c.subarray(this.head, this.head + n);
    this.skip(n);
    return out;
  }
}
