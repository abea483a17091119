// Durable home of a stand-in's resources: one 0600 JSON document per resource
// (a function, a parameter, an alarm) under one directory, all held in memory.
// A change becomes visible only once it is on disk, and changes to one
// resource run one after another, so a read-check-write is never torn.

import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { z } from 'zod';
import { writePrivateFileAtomic } from '../kms/atomic-file.ts';
import { KeyedMutex } from '../s3/keyed-mutex.ts';

// File names stop at 255 bytes on common file systems; leave room for the temp-file affixes.
const MAX_ENCODED_NAME = 160;

export interface DocumentStoreOptions<Document> {
  directory: string;
  /** Validates every file at start-up; a bad file stops the start, naming the file. */
  schema: z.ZodType<Document>;
  /** The resource key a document belongs to (its name). */
  keyOf(document: Document): string;
  /** For error messages, e.g. "Lambda stand-in". */
  owner: string;
}

/** What an update decides: write this document, delete it, or leave it as it is. */
export type UpdateDecision<Document, Result> = { write: Document; result: Result } | { remove: true; result: Result } | { result: Result };

export class DocumentStore<Document> {
  readonly #options: DocumentStoreOptions<Document>;
  readonly #documents = new Map<string, Document>();
  readonly #mutex = new KeyedMutex();
  readonly #pending = new Set<Promise<unknown>>();

  private constructor(options: DocumentStoreOptions<Document>) {
    this.#options = options;
  }

  static async open<Document>(options: DocumentStoreOptions<Document>): Promise<DocumentStore<Document>> {
    const store = new DocumentStore(options);
    await mkdir(options.directory, { recursive: true, mode: 0o700 });
    await store.#load();
    return store;
  }

  get(key: string): Document | undefined {
    return this.#documents.get(key);
  }

  /** All documents, sorted by key. */
  list(): Document[] {
    return [...this.#documents.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, document]) => document);
  }

  /**
   * Runs `decide` on the current document under the key's lock and makes its
   * decision durable before returning the result; `decide` may throw to refuse.
   */
  update<Result>(key: string, decide: (current: Document | undefined) => UpdateDecision<Document, Result>): Promise<Result> {
    const work = this.#mutex.run(key, async () => {
      const decision = decide(this.#documents.get(key));
      if ('write' in decision) {
        await writePrivateFileAtomic(this.#pathOf(key), JSON.stringify(decision.write, null, 2));
        this.#documents.set(key, decision.write);
      } else if ('remove' in decision) {
        await rm(this.#pathOf(key), { force: true });
        this.#documents.delete(key);
      }
      return decision.result;
    });
    this.#pending.add(work);
    const forget = () => this.#pending.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Resolves once every change started so far has finished. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  // Resource names carry '/', ':' and such; the file name is the key in base64url, or for a key
  // too long for a file name (SSM names reach 2048 characters) its SHA-256. base64url has no '.',
  // so the two forms never collide.
  #pathOf(key: string): string {
    const encoded = Buffer.from(key, 'utf8').toString('base64url');
    const name = encoded.length <= MAX_ENCODED_NAME ? `${encoded}.json` : `${createHash('sha256').update(key).digest('hex')}.long.json`;
    return join(this.#options.directory, name);
  }

  async #load(): Promise<void> {
    const { directory, schema, keyOf, owner } = this.#options;
    // Dot-files are unfinished atomic writes and hold nothing committed.
    const names = (await readdir(directory)).filter((name) => name.endsWith('.json') && !name.startsWith('.'));
    for (const name of names) {
      const path = join(directory, name);
      let document: Document;
      try {
        document = schema.parse(JSON.parse(await readFile(path, 'utf8')));
      } catch (error) {
        // Refuse to start rather than silently drop a resource.
        throw new Error(`${owner}: cannot load ${path}: ${(error as Error).message}`, { cause: error });
      }
      const key = keyOf(document);
      if (this.#pathOf(key) !== path) throw new Error(`${owner}: ${path} holds '${key}', which belongs in another file`);
      this.#documents.set(key, document);
    }
  }
}
