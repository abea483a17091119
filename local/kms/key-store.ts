// Durable home of keys and aliases: one 0600 JSON file per key under keys/,
// and all aliases in aliases.json. Everything is held in memory after start-up;
// a single emulator process owns a data directory.

import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { writePrivateFileAtomic } from './atomic-file.ts';
import { generateKeyMaterial, loadKeyMaterial } from './key-material.ts';
import type { KeyMaterial, StoredKeyMaterial } from './key-material.ts';
import { KEY_SPEC_PROFILES } from './key-specs.ts';
import type { KmsKeyUsage, SupportedKeySpec } from './key-specs.ts';
import { isKeyId } from './kms-arns.ts';

const FORMAT_VERSION = 1;
const KEYS_DIRECTORY = 'keys';
const ALIASES_FILE = 'aliases.json';

export interface LocalKmsKey {
  keyId: string;
  createdAt: Date;
  description: string;
  keySpec: SupportedKeySpec;
  keyUsage: KmsKeyUsage;
  material: KeyMaterial;
}

export interface LocalKmsAlias {
  aliasName: string;
  targetKeyId: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewKeyRequest {
  keySpec: SupportedKeySpec;
  description: string;
}

const keyFileSchema = z.object({
  formatVersion: z.literal(FORMAT_VERSION),
  keyId: z.string().refine(isKeyId, 'not a key id'),
  createdAt: z.iso.datetime(),
  description: z.string(),
  material: z.discriminatedUnion('keySpec', [
    z.object({ keySpec: z.literal('ECC_NIST_P256'), privateKeyJwk: z.record(z.string(), z.unknown()) }),
    z.object({ keySpec: z.literal('HMAC_256'), secretBase64: z.string() }),
  ]),
});

const aliasesFileSchema = z.object({
  formatVersion: z.literal(FORMAT_VERSION),
  aliases: z.array(
    z.object({
      aliasName: z.string(),
      targetKeyId: z.string(),
      createdAt: z.iso.datetime(),
      updatedAt: z.iso.datetime(),
    }),
  ),
});

export class KeyStore {
  readonly #dataDir: string;
  readonly #keys = new Map<string, LocalKmsKey>();
  readonly #aliases = new Map<string, LocalKmsAlias>();
  // Alias writes replace one shared file, so they run one after another.
  #aliasWrites: Promise<void> = Promise.resolve();
  readonly #pendingWrites = new Set<Promise<unknown>>();

  private constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  static async open(dataDir: string): Promise<KeyStore> {
    const store = new KeyStore(dataDir);
    await mkdir(join(dataDir, KEYS_DIRECTORY), { recursive: true, mode: 0o700 });
    await store.#loadKeys();
    await store.#loadAliases();
    return store;
  }

  getKey(keyId: string): LocalKmsKey | undefined {
    return this.#keys.get(keyId);
  }

  getAlias(aliasName: string): LocalKmsAlias | undefined {
    return this.#aliases.get(aliasName);
  }

  /** Keys in creation order. */
  listKeys(): LocalKmsKey[] {
    return [...this.#keys.values()];
  }

  /** Aliases sorted by name. */
  listAliases(): LocalKmsAlias[] {
    return [...this.#aliases.values()].sort((a, b) => a.aliasName.localeCompare(b.aliasName));
  }

  async createKey(request: NewKeyRequest): Promise<LocalKmsKey> {
    const stored = generateKeyMaterial(request.keySpec);
    const key: LocalKmsKey = {
      keyId: randomUUID(),
      createdAt: new Date(),
      description: request.description,
      keySpec: request.keySpec,
      keyUsage: KEY_SPEC_PROFILES[request.keySpec].keyUsage,
      material: loadKeyMaterial(stored),
    };
    const file = {
      formatVersion: FORMAT_VERSION,
      keyId: key.keyId,
      createdAt: key.createdAt.toISOString(),
      description: key.description,
      material: stored,
    };
    // The key becomes visible only once it is on disk, so nothing is ever
    // signed with a key a restart would lose.
    await this.#track(writePrivateFileAtomic(this.#keyPath(key.keyId), JSON.stringify(file, null, 2)));
    this.#keys.set(key.keyId, key);
    return key;
  }

  /** Adds an alias; returns undefined when the name is already taken. */
  async createAlias(aliasName: string, targetKeyId: string): Promise<LocalKmsAlias | undefined> {
    if (this.#aliases.has(aliasName)) return undefined;
    const now = new Date();
    const alias: LocalKmsAlias = { aliasName, targetKeyId, createdAt: now, updatedAt: now };
    // Reserve the name synchronously so a concurrent request sees it taken.
    this.#aliases.set(aliasName, alias);
    try {
      await this.#writeAliases();
    } catch (error) {
      this.#aliases.delete(aliasName);
      throw error;
    }
    return alias;
  }

  /** Resolves once every write started so far has finished. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#pendingWrites]);
  }

  #keyPath(keyId: string): string {
    return join(this.#dataDir, KEYS_DIRECTORY, `${keyId}.json`);
  }

  #writeAliases(): Promise<void> {
    const write = this.#aliasWrites
      .catch(() => undefined)
      .then(() => {
        const file = {
          formatVersion: FORMAT_VERSION,
          aliases: this.listAliases().map((alias) => ({
            aliasName: alias.aliasName,
            targetKeyId: alias.targetKeyId,
            createdAt: alias.createdAt.toISOString(),
            updatedAt: alias.updatedAt.toISOString(),
          })),
        };
        return writePrivateFileAtomic(join(this.#dataDir, ALIASES_FILE), JSON.stringify(file, null, 2));
      });
    this.#aliasWrites = write;
    return this.#track(write);
  }

  #track<T>(write: Promise<T>): Promise<T> {
    this.#pendingWrites.add(write);
    const forget = () => this.#pendingWrites.delete(write);
    write.then(forget, forget);
    return write;
  }

  async #loadKeys(): Promise<void> {
    const directory = join(this.#dataDir, KEYS_DIRECTORY);
    // Dot-files are unfinished atomic writes and hold nothing committed.
    const names = (await readdir(directory)).filter((name) => name.endsWith('.json') && !name.startsWith('.'));
    const keys: LocalKmsKey[] = [];
    for (const name of names) {
      const path = join(directory, name);
      let file: z.infer<typeof keyFileSchema>;
      let material: KeyMaterial;
      try {
        file = keyFileSchema.parse(JSON.parse(await readFile(path, 'utf8')));
        material = loadKeyMaterial(file.material as StoredKeyMaterial);
      } catch (error) {
        // Refuse to start rather than silently drop a signing key.
        throw new Error(`KMS emulator: cannot load key file ${path}: ${(error as Error).message}`, { cause: error });
      }
      keys.push({
        keyId: file.keyId,
        createdAt: new Date(file.createdAt),
        description: file.description,
        keySpec: file.material.keySpec,
        keyUsage: KEY_SPEC_PROFILES[file.material.keySpec].keyUsage,
        material,
      });
    }
    keys.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.keyId.localeCompare(b.keyId));
    for (const key of keys) this.#keys.set(key.keyId, key);
  }

  async #loadAliases(): Promise<void> {
    const path = join(this.#dataDir, ALIASES_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    let file: z.infer<typeof aliasesFileSchema>;
    try {
      file = aliasesFileSchema.parse(JSON.parse(text));
    } catch (error) {
      throw new Error(`KMS emulator: cannot load ${path}: ${(error as Error).message}`, { cause: error });
    }
    for (const alias of file.aliases) {
      this.#aliases.set(alias.aliasName, {
        aliasName: alias.aliasName,
        targetKeyId: alias.targetKeyId,
        createdAt: new Date(alias.createdAt),
        updatedAt: new Date(alias.updatedAt),
      });
    }
  }
}
