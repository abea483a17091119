/**
 * A listing read at most once per `maxAgeMs`, and again at once after a write through the store it
 * lists (`writes()`, a count the store bumps on every change it makes). For readers that consult a
 * small, rarely changed list on every event (the relay's subscriptions, the embedded EventBridge's
 * trigger rules): a change made in this process is seen at the next read, one made elsewhere (another
 * Lambda, another process on the same table) within `maxAgeMs`. Concurrent reads share one load.
 */
export class ListingCache<T> {
  readonly #load: () => Promise<T[]>;
  readonly #writes: () => number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  #cached: { items: T[]; writes: number; at: number } | undefined;
  #loading: { promise: Promise<T[]>; writes: number } | undefined;

  constructor(options: { load: () => Promise<T[]>; writes: () => number; maxAgeMs: number; now?: () => number }) {
    this.#load = options.load;
    this.#writes = options.writes;
    this.#maxAgeMs = options.maxAgeMs;
    this.#now = options.now ?? Date.now;
  }

  list(): Promise<T[]> {
    const writes = this.#writes();
    const cached = this.#cached;
    if (cached && cached.writes === writes && this.#now() - cached.at < this.#maxAgeMs) return Promise.resolve(cached.items);
    if (this.#loading?.writes === writes) return this.#loading.promise;
    // The count is read before the load: a write that lands while loading makes the next read load again.
    const at = this.#now();
    const promise = this.#load().then(
      (items) => {
        if (this.#loading?.promise === promise) this.#loading = undefined;
        if (!this.#cached || this.#cached.at <= at) this.#cached = { items, writes, at };
        return items;
      },
      (error: unknown) => {
        if (this.#loading?.promise === promise) this.#loading = undefined;
        throw error;
      },
    );
    this.#loading = { promise, writes };
    return promise;
  }
}
