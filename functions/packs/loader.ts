import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { defaultCatalog } from '../actions/catalog.ts';
import type { ActionCatalog, PackProvenance } from '../core/actions/catalog.ts';
import type { Action } from '../core/actions/contract.ts';
import { validatePack } from '../core/actions/pack.ts';
import type { PackDefinition } from '../core/actions/pack.ts';
import { isPathModule } from '../core/config/packs.ts';
import type { PackEntry } from '../core/config/packs.ts';
import { PackIntegrityError, PackInvalid } from '../core/errors.ts';
import { bundledPack } from './bundled-packs.ts';
import type { BundledPack } from './bundled-packs.ts';
import { hashPack } from './content-hash.ts';

/**
 * The pack loader: the one place that reads, hashes and runs the code of configured packs (core's
 * `validatePack` judges what it loaded, with no I/O). Every host builds its catalog here: the control
 * plane's deps, the executors' deps, the embedded stack's sandbox child and the CLIs, so each sees the
 * same actions from the same pinned content.
 */

/** A pack as loaded: where its content is, what it hashed to, and what its module exports. */
export interface LoadedPack {
  readonly pin: PackEntry;
  readonly dir: string;
  readonly entry: string;
  readonly provenance: PackProvenance;
  readonly definition: PackDefinition;
}

/** The folder of a pack's content: a path (from `configDir`), or an installed npm package's folder (found from `configDir` up). */
export function packDirOf(module: string, configDir: string = process.cwd()): string {
  if (isPathModule(module)) return isAbsolute(module) ? module : resolve(configDir, module);
  for (let dir = resolve(configDir); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', ...module.split('/'));
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new PackInvalid(`npm package ${module} is not installed under ${configDir} or any folder above it`);
  }
}

/** The module a pack's folder runs: its package.json `main`, else `index.ts`, else `index.js`; never a file outside the folder. */
function entryOf(dir: string, field: string): string {
  const manifest = join(dir, 'package.json');
  let main: unknown;
  if (existsSync(manifest)) {
    try {
      main = (JSON.parse(readFileSync(manifest, 'utf8')) as { main?: unknown }).main;
    } catch (error) {
      throw new PackInvalid(`${manifest}: ${(error as Error).message}`, { field: `${field}.module` });
    }
  }
  const candidates = typeof main === 'string' ? [main] : ['index.ts', 'index.js'];
  for (const candidate of candidates) {
    const entry = resolve(dir, candidate);
    const inside = relative(dir, entry);
    if (inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) {
      throw new PackInvalid(`${manifest}: main ${JSON.stringify(main)} is outside the pack's folder`, { field: `${field}.module` });
    }
    if (existsSync(entry)) return entry;
  }
  throw new PackInvalid(`${dir} has no module to load (package.json "main", index.ts or index.js)`, { field: `${field}.module` });
}

/**
 * Loads one configured pack: hashes its content and refuses it (PackIntegrityError, naming the pack
 * and both hashes) unless it matches the pin, then runs its module and validates what it exports as
 * `pack` against the pin and the names already registered (PackInvalid, naming the field).
 */
export function loadPack(pin: PackEntry, index: number, registered: ReadonlyMap<string, string>, configDir?: string): LoadedPack {
  const field = `packs[${index}]`;
  const compiled = bundledPack(pin.name);
  if (compiled) return loadBundledPack(pin, index, registered, compiled);
  const dir = packDirOf(pin.module, configDir);
  if (!existsSync(dir)) throw new PackInvalid(`${field}.module: ${dir} does not exist`, { field: `${field}.module` });
  const sha256 = hashPack(dir);
  if (sha256 !== pin.sha256) {
    throw new PackIntegrityError(
      `${field}: pack ${pin.name} (${dir}) hashes to ${sha256}, but the configuration pins ${pin.sha256}: its files changed after pinning (if the change is yours, pin the new hash: npm run packs:hash -- ${pin.module})`,
      { field: `${field}.sha256`, details: { pack: pin.name, expected: pin.sha256, actual: sha256, dir } },
    );
  }
  const entry = entryOf(dir, field);
  let exported: unknown;
  try {
    // Synchronous (Node's require of an ES module): the composition roots that build the catalog are synchronous.
    exported = (createRequire(entry)(entry) as { pack?: unknown }).pack;
  } catch (error) {
    throw new PackInvalid(`${field}.module: loading ${entry} failed: ${(error as Error).message}`, { field: `${field}.module`, cause: error });
  }
  const definition = validatePack(exported, pin, registered, field);
  return { pin, dir, entry, definition, provenance: Object.freeze({ name: pin.name, version: pin.version, sha256 }) };
}

/**
 * A pack compiled into this Lambda bundle (functions/packs/bundled-packs.ts): the synth hashed its
 * folder; here the hash it found must still be the configuration's pin (PackIntegrityError otherwise).
 */
function loadBundledPack(pin: PackEntry, index: number, registered: ReadonlyMap<string, string>, compiled: BundledPack): LoadedPack {
  const field = `packs[${index}]`;
  if (compiled.sha256 !== pin.sha256) {
    throw new PackIntegrityError(
      `${field}: pack ${pin.name} was bundled with content that hashes to ${compiled.sha256}, but the configuration pins ${pin.sha256}: synthesize and deploy again from the pinned content`,
      { field: `${field}.sha256`, details: { pack: pin.name, expected: pin.sha256, actual: compiled.sha256, dir: 'bundle' } },
    );
  }
  const definition = validatePack((compiled.exports as { pack?: unknown } | undefined)?.pack, pin, registered, field);
  return { pin, dir: 'bundle', entry: 'bundle', definition, provenance: Object.freeze({ name: pin.name, version: pin.version, sha256: compiled.sha256 }) };
}

/** The catalog of the built-ins and these packs, in order; each pack's actions carry its provenance. */
export function catalogOfPacks(packs: readonly PackEntry[], configDir?: string, extra: readonly Action[] = []): ActionCatalog {
  let catalog = defaultCatalog(extra);
  const registered = new Map(catalog.list().map((action) => [action.name, catalog.packOf(action.name).name]));
  packs.forEach((pin, index) => {
    const loaded = loadPack(pin, index, registered, configDir);
    catalog = catalog.withPack(loaded.definition.actions, loaded.provenance);
    for (const action of loaded.definition.actions) registered.set(action.name, pin.name);
  });
  return catalog;
}

const built = new WeakMap<readonly PackEntry[], ActionCatalog>();

/**
 * The catalog a configuration gives: the built-ins and every configured pack, verified and validated
 * (throws PackIntegrityError or PackInvalid: start-up refuses). Built once per configuration, so the
 * control plane and its in-process executor share one. Pack modules given as folders resolve from
 * `configDir` (loadConfig has already made them absolute). `extra`: actions registered as built-ins
 * besides them (a test's fixtures).
 */
export function loadCatalog(config: { readonly packs: readonly PackEntry[] }, configDir?: string, extra: readonly Action[] = []): ActionCatalog {
  // Actions given besides the built-ins (a test's fixtures) make a catalog of their own, never cached.
  if (extra.length > 0) return catalogOfPacks(config.packs, configDir, extra);
  let catalog = built.get(config.packs);
  if (!catalog) built.set(config.packs, (catalog = catalogOfPacks(config.packs, configDir)));
  return catalog;
}

/** The folders of the configured packs' content (what a sandbox must be allowed to read to load them). */
export function packDirs(packs: readonly PackEntry[], configDir?: string): string[] {
  return packs.map((pin) => packDirOf(pin.module, configDir));
}
