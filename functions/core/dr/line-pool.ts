/**
 * Line buffers of one source's object records, reused once the part holding them is stored: fresh
 * 1.3 MiB lines, dead by the dozen between two collections, are what made a long snapshot's RSS grow
 * past a short one's. At most `max` pooled buffers exist (handed out or free); past that, and for
 * lines that do not fit or are too small to be worth a pooled buffer, a line is a fresh buffer as before.
 */
export class LinePool {
  readonly #capacity: number;
  readonly #max: number;
  readonly #free: Buffer[] = [];
  #created = 0;

  constructor(options: { capacity: number; max: number }) {
    this.#capacity = options.capacity;
    this.#max = options.max;
  }

  /** A buffer of `bytes` bytes, with `release` when it is pooled (call it once nothing reads the bytes any more). */
  take(bytes: number): { buffer: Buffer; release?: () => void } {
    if (bytes > this.#capacity || bytes * 2 < this.#capacity) return { buffer: Buffer.allocUnsafe(bytes) };
    let pooled = this.#free.pop();
    if (!pooled) {
      if (this.#created >= this.#max) return { buffer: Buffer.allocUnsafe(bytes) };
      this.#created += 1;
      pooled = Buffer.allocUnsafe(this.#capacity);
    }
    const owned = pooled;
    return { buffer: owned.subarray(0, bytes), release: () => void this.#free.push(owned) };
  }
}
