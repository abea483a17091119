import { createHash } from 'node:crypto';

const MODULUS = 1n << 256n;

/**
 * An order-independent digest of a set of records: the sum, modulo 2^256, of each record's SHA-256.
 * A scan of the restored copy returns records in another order than the snapshot did; equal sets
 * still give equal digests, in constant memory.
 */
export class ContentDigest {
  #sum = 0n;
  #count = 0;

  /** Adds one record (its canonical line, as text or as its UTF-8 bytes); returns the record's own SHA-256. */
  add(line: string | Uint8Array): string {
    const hash = createHash('sha256').update(line).digest('hex');
    this.#sum = (this.#sum + BigInt(`0x${hash}`)) % MODULUS;
    this.#count += 1;
    return hash;
  }

  get count(): number {
    return this.#count;
  }

  get hex(): string {
    return this.#sum.toString(16).padStart(64, '0');
  }
}
