import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExecutorClass } from '../functions/core/runs/task-executor.ts';

/** Where the embedded stack takes its Lambda handlers from. */
export type HandlerSource = 'sources' | 'bundles';

/** The template metadata key that names a function's handler file (lib/maestro-function.ts writes it). */
const ENTRY_METADATA_KEY = 'maestro:entry';
/** The key lib/run-workflow.ts marks a pack's executor with (`{pack, executorClass, kinds}`). */
const PACK_EXECUTOR_METADATA_KEY = 'maestro:pack-executor';
const EXECUTOR_ENTRY = 'functions/handlers/run/execute-task.ts';

const ROOT = resolve(import.meta.dirname, '..');

interface CloudAssemblyManifest {
  artifacts?: Record<string, { type: string; properties?: { templateFile?: string } }>;
}

interface TemplateResource {
  Type: string;
  Metadata?: Record<string, unknown>;
  Properties?: { Handler?: string };
}

/**
 * Reads a synthesized cloud assembly (`cdk.out`) and returns, for every Lambda function the templates
 * declare, its handler file (`functions/handlers/run/admit.ts`) → the bundle Lambda runs
 * (`cdk.out/asset.<hash>/index.mjs`). Functions of one handler share one asset.
 */
export function readBundleIndex(cdkOutDir: string): Map<string, string> {
  const dir = resolve(cdkOutDir);
  const bundles = new Map<string, string>();
  for (const { logicalId, resource } of functionResources(dir)) {
    const entry = resource.Metadata?.[ENTRY_METADATA_KEY];
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (typeof entry !== 'string' || typeof assetPath !== 'string') continue;
    bundles.set(entry, bundleFile(join(dir, assetPath), resource.Properties?.Handler, logicalId));
  }
  if (bundles.size === 0) throw new Error(`${dir} declares no Maestro function with a bundle (synthesized before functions carried ${ENTRY_METADATA_KEY}?)`);
  return bundles;
}

/** Every Lambda function the assembly's stack templates declare. */
function functionResources(dir: string): { logicalId: string; resource: TemplateResource }[] {
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) throw new Error(`no cloud assembly in ${dir} (run npm run synth first)`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as CloudAssemblyManifest;
  const functions: { logicalId: string; resource: TemplateResource }[] = [];
  for (const artifact of Object.values(manifest.artifacts ?? {})) {
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) continue;
    const template = JSON.parse(readFileSync(join(dir, artifact.properties.templateFile), 'utf8')) as { Resources?: Record<string, TemplateResource> };
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      if (resource.Type === 'AWS::Lambda::Function') functions.push({ logicalId, resource });
    }
  }
  return functions;
}

/** The action executors a cloud assembly deploys: the built-ins' bundle, and each pack's bundle by executor class. */
export interface ExecutorBundles {
  builtin: string;
  packs: ReadonlyMap<string, ReadonlyMap<ExecutorClass, string>>;
}

/** The executors' bundles (functions/handlers/run/execute-task.ts): the built-ins' one, and each pack's (its `maestro:pack-executor` metadata). */
export function readExecutorBundles(cdkOutDir: string): ExecutorBundles {
  const dir = resolve(cdkOutDir);
  let builtin: string | undefined;
  const packs = new Map<string, Map<ExecutorClass, string>>();
  for (const { logicalId, resource } of functionResources(dir)) {
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (resource.Metadata?.[ENTRY_METADATA_KEY] !== EXECUTOR_ENTRY || typeof assetPath !== 'string') continue;
    const file = bundleFile(join(dir, assetPath), resource.Properties?.Handler, logicalId);
    const pack = resource.Metadata?.[PACK_EXECUTOR_METADATA_KEY] as { pack: string; executorClass: ExecutorClass } | undefined;
    if (!pack) builtin = file;
    else packs.set(pack.pack, (packs.get(pack.pack) ?? new Map()).set(pack.executorClass, file));
  }
  if (!builtin) throw new Error(`${dir} deploys no action executor (${EXECUTOR_ENTRY})`);
  return { builtin, packs };
}

/** `index.handler` → `<asset>/index.mjs` (or `.js`, `.cjs`), as the Lambda runtime resolves it. */
function bundleFile(assetDir: string, handler: string | undefined, logicalId: string): string {
  const module = (handler ?? 'index.handler').replace(/\.[^.]+$/, '');
  for (const extension of ['.mjs', '.js', '.cjs']) {
    const file = join(assetDir, `${module}${extension}`);
    if (existsSync(file)) return file;
  }
  throw new Error(`${logicalId}: no ${module}.mjs/.js/.cjs in ${assetDir}`);
}

/**
 * Maps a handler module as `local/stack.ts` names it (`../functions/handlers/run/admit.ts`, relative to
 * `local/`) to what the stack imports: the module itself for `sources`; for `bundles`, the file URL
 * of its bundle in `cdkOutDir`. A handler the assembly does not deploy (the DR workflows unless DR
 * targets are declared) keeps its source; `loaded` records where each module came from.
 */
export function handlerModuleResolver(source: HandlerSource, cdkOutDir: string) {
  const loaded = new Map<string, string>();
  if (source === 'sources') {
    const resolveSource = (module: string) => {
      loaded.set(module, module);
      return module;
    };
    return { loaded, resolve: resolveSource };
  }
  const bundles = readBundleIndex(cdkOutDir);
  return {
    loaded,
    resolve(module: string): string {
      const entry = relative(ROOT, resolve(ROOT, 'local', module))
        .split('\\')
        .join('/');
      const bundle = bundles.get(entry);
      const target = bundle ? pathToFileURL(bundle).href : module;
      loaded.set(module, bundle ?? module);
      return target;
    },
  };
}
