/**
 * At most `limit` writes under way at once. A failure is reported by the next `add` or by `drain`, and
 * only once every write under way has settled, so nothing is still writing when the caller gives up
 * (a failed restore discards its copy right after).
 */
export class Bounded {
  readonly #limit: number;
  readonly #running = new Set<Promise<void>>();
  #failure: { error: unknown } | undefined;

  constructor(limit: number) {
    this.#limit = limit;
  }

  async add(write: () => Promise<unknown>): Promise<void> {
    await this.#throwIfFailed();
    while (this.#running.size >= this.#limit) {
      await Promise.race(this.#running);
      await this.#throwIfFailed();
    }
    const running: Promise<void> = write().then(
      () => undefined,
      (error: unknown) => {
        this.#failure ??= { error };
      },
    );
    const tracked = running.finally(() => this.#running.delete(tracked));
    this.#running.add(tracked);
  }

  /** Waits for every write; throws the first failure. */
  async drain(): Promise<void> {
    await this.settle();
    await this.#throwIfFailed();
  }

  /** Waits for every write, whatever happened (for `finally`). */
  async settle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
  }

  async #throwIfFailed(): Promise<void> {
    if (!this.#failure) return;
    await this.settle();
    throw this.#failure.error;
  }
}

/** Runs `run` on every item, at most `limit` at once; the first failure is thrown once all have settled. */
export async function inParallel<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  const writes = new Bounded(limit);
  try {
    for (const item of items) await writes.add(() => run(item));
    await writes.drain();
  } finally {
    await writes.settle();
  }
}
