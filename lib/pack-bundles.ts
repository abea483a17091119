import { createHash } from 'node:crypto';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { defaultCatalog } from '../functions/actions/catalog.ts';
import { resourceKindsOf } from '../functions/core/actions/catalog-view.ts';
import { isPathModule } from '../functions/core/config/packs.ts';
import type { PackEntry } from '../functions/core/config/packs.ts';
import type { ExecutorClass } from '../functions/core/runs/task-executor.ts';
import { MANAGED_RESOURCE_KINDS } from '../functions/core/safety/managed-resources.ts';
import { loadConfig } from '../functions/handlers/shared/config.ts';
import { loadPack } from '../functions/packs/loader.ts';
import { projectPath, projectRoot, writeIfChanged } from './project-paths.ts';

/**
 * Action packs in CDK. At synth each configured pack is loaded as start-up loads it: its folder is
 * hashed and a pack whose content does not match its pin fails the synth (PackIntegrityError, both
 * hashes named), and its actions are validated (PackInvalid). A function that carries packs is bundled
 * from a generated entry that imports each pack's module statically (so esbuild bundles it) and
 * registers it, with the hash the synth verified, before the handler is imported
 * (functions/packs/bundled-packs.ts); in Lambda the loader takes the registered pack and still refuses
 * it unless that hash is the function's pin.
 */

/** A pack as the synth verified it, with what its executors need to be granted. */
export interface SynthesizedPack {
  /** The configuration's entry (`{name, module, version, sha256}`), as `MAESTRO_PACKS` lists it. */
  readonly pin: PackEntry;
  /** The SHA-256 the synth computed over the pack's folder (equal to the pin's, or the synth failed). */
  readonly sha256: string;
  /** The pack's module file (absolute), which the generated entry imports. */
  readonly moduleFile: string;
  /** Its actions' names. */
  readonly actions: readonly string[];
  /**
   * The managed resource kinds (`s3`, `dynamodb`, `lambda`, `ssm`, `cloudwatch-alarm`) each executor
   * class handles, from what the pack's actions declare (their examples' resources): `read` (plan,
   * verify) and `write` (apply, rollback) of every action, `internet` (apply) of those that reach the
   * internet; absent when none does.
   */
  readonly kinds: Readonly<Partial<Record<ExecutorClass, readonly string[]>>>;
}

/**
 * The configured packs of a `maestro.config.yaml` (its `packs` key, read by the same loader and schema
 * as start-up, without the environment's overrides). Folder modules are given back relative to the
 * file's directory, as written, so the template does not depend on where it was synthesized.
 */
export function packsOfConfigFile(file: string = projectPath('maestro.config.yaml')): PackEntry[] {
  const config = loadConfig({ MAESTRO_CONFIG_FILE: file }, { defaults: { state: { table: 'none' } } });
  return config.packs.map((pack) => {
    if (!isPathModule(pack.module) || !isAbsolute(pack.module)) return { ...pack };
    const inside = relative(dirname(file), pack.module).split(sep).join('/');
    return { ...pack, module: inside.startsWith('..') ? pack.module : inside };
  });
}

/**
 * Loads, verifies and describes the packs (in order, each against the built-ins and the packs
 * before it, exactly as start-up does). Throws PackIntegrityError or PackInvalid: the synth fails.
 */
export function synthesizePacks(pins: readonly PackEntry[], configDir: string = projectRoot): SynthesizedPack[] {
  const catalog = defaultCatalog();
  const registered = new Map(catalog.list().map((action) => [action.name, catalog.packOf(action.name).name]));
  const managed = new Set(MANAGED_RESOURCE_KINDS);
  return pins.map((pin, index) => {
    const loaded = loadPack(pin, index, registered, configDir);
    const actions = loaded.definition.actions;
    for (const action of actions) registered.set(action.name, pin.name);
    const kindsOf = (list: typeof actions) => [...new Set(list.flatMap((action) => resourceKindsOf(action)))].filter((kind) => managed.has(kind)).sort();
    const internet = actions.filter((action) => action.safety.budgets.network === 'internet');
    return {
      pin,
      sha256: loaded.provenance.sha256 as string,
      moduleFile: loaded.entry,
      actions: actions.map((action) => action.name),
      kinds: { read: kindsOf(actions), write: kindsOf(actions), ...(internet.length > 0 ? { internet: kindsOf(internet) } : {}) },
    };
  });
}

/** Where the generated entries are written (inside the project, so esbuild resolves the imports as from the sources; ignored by git). */
const ENTRIES_DIR = projectPath('.maestro/bundle-entries');

/** A relative import specifier from the entries folder. */
function specifier(file: string): string {
  const path = relative(ENTRIES_DIR, file).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/**
 * The bundling entry of a handler that carries packs: a generated module that first imports a module
 * registering the packs (ES modules evaluate in import order, so they are registered before the
 * handler's module builds anything) and then re-exports the handler. Returns its absolute path.
 */
export function packBundleEntry(handlerEntry: string, packs: readonly SynthesizedPack[]): string {
  const registration = [
    '// Generated at synth by lib/pack-bundles.ts: the packs this bundle carries, with the hashes the synth verified.',
    `import { registerBundledPack } from '${specifier(projectPath('functions/packs/bundled-packs.ts'))}';`,
    ...packs.map((pack, index) => `import * as pack${index} from '${specifier(pack.moduleFile)}';`),
    ...packs.map(
      (pack, index) =>
        `registerBundledPack({ name: ${JSON.stringify(pack.pin.name)}, version: ${JSON.stringify(pack.pin.version)}, sha256: ${JSON.stringify(pack.sha256)}, exports: pack${index} });`,
    ),
    '',
  ].join('\n');
  const registrationFile = join(ENTRIES_DIR, `packs-${shortHash(registration)}.ts`);
  writeIfChanged(registrationFile, registration);
  const entry = [
    '// Generated at synth by lib/pack-bundles.ts.',
    `import '${specifier(registrationFile)}';`,
    `export { handler } from '${specifier(projectPath(handlerEntry))}';`,
    '',
  ].join('\n');
  const slug = handlerEntry
    .replace(/^functions\//, '')
    .replace(/\.ts$/, '')
    .replace(/[^\w-]+/g, '-');
  const entryFile = join(ENTRIES_DIR, `${slug}-${shortHash(entry)}.ts`);
  writeIfChanged(entryFile, entry);
  return entryFile;
}
