/**
 * `npm run actions:check [-- --pack NAME] [-- --action NAME] [-- --module PATH] [-- --json]` runs the conformance kit
 * (local/conformance/) on the configured catalog's actions (built-ins and pinned packs): every example through the six checks, against the
 * S3 stand-in and DynamoDB Local started on loopback with a throwaway data directory. Exit 0 only if
 * no check fails.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import type { Action } from '../../functions/core/actions/contract.ts';
import { loadConfig } from '../../functions/handlers/shared/config.ts';
import { loadCatalog } from '../../functions/packs/loader.ts';
import { RESOURCE_KINDS } from '../conformance/kinds.ts';
import { startConformanceKit } from '../conformance/kit.ts';
import { formatResults, runChecks, servicesFor, subjectsOf, summarize } from '../conformance/run-checks.ts';
import type { PackedAction } from '../conformance/run-checks.ts';
import { CHECK_NAMES } from '../conformance/types.ts';
import type { CheckName } from '../conformance/types.ts';

/**
 * The actions to check: the catalog the configuration gives (maestro.config.yaml, or MAESTRO_CONFIG_FILE):
 * the built-ins and every pinned pack, verified as start-up verifies them, each with its pack's name.
 */
function catalogActions(): PackedAction[] {
  // The kit keeps no run state: the state table is named only because the schema requires one.
  const catalog = loadCatalog(loadConfig(process.env, { defaults: { state: { table: 'maestro-conformance' } } }));
  return catalog.list().map((action) => ({ action, pack: catalog.packOf(action.name).name }));
}

/**
 * The actions a module exports: a pack (`export const pack = {name, actions}`, what definePack returns),
 * or `actions` with an optional `pack` name (else the path). A pack under development, or test fixtures.
 */
async function moduleActions(path: string): Promise<PackedAction[]> {
  const loaded = (await import(pathToFileURL(resolve(path)).href)) as { actions?: Action[]; pack?: string | { name: string; actions: Action[] } };
  if (typeof loaded.pack === 'object' && loaded.pack !== null && Array.isArray(loaded.pack.actions)) {
    const { name, actions } = loaded.pack;
    return actions.map((action) => ({ action, pack: name }));
  }
  if (!Array.isArray(loaded.actions)) program.error(`--module ${path}: exports neither a \`pack\` with actions nor an \`actions\` array`);
  return loaded.actions!.map((action) => ({ action, pack: typeof loaded.pack === 'string' ? loaded.pack : path }));
}

const program = new Command('actions:check')
  .description('Run the conformance checks on every action example')
  .option('--pack <name>', 'only the actions of this pack')
  .option('--action <name>', 'only this action')
  .option('--module <path>', 'check the actions this module exports (`pack` or `actions`) instead of the configured catalog')
  .option('--check <names>', `only these checks (comma-separated: ${CHECK_NAMES.join(', ')})`)
  .option('--json', 'print the results as JSON', false)
  .action(async (options: { pack?: string; action?: string; module?: string; check?: string; json: boolean }) => {
    const checks = options.check ? (options.check.split(',') as CheckName[]) : [...CHECK_NAMES];
    const unknownCheck = checks.find((check) => !CHECK_NAMES.includes(check));
    if (unknownCheck) program.error(`--check: unknown check "${unknownCheck}" (known: ${CHECK_NAMES.join(', ')})`);
    const actions = options.module ? await moduleActions(options.module) : catalogActions();
    const subjects = subjectsOf(actions, { pack: options.pack, action: options.action });
    if (subjects.length === 0)
      program.error(`no action example matches${options.pack ? ` --pack ${options.pack}` : ''}${options.action ? ` --action ${options.action}` : ''}`);
    const kit = await startConformanceKit({ services: servicesFor(subjects, RESOURCE_KINDS) });
    try {
      const results = await runChecks(subjects, kit, checks);
      const totals = summarize(results);
      if (options.json) console.log(JSON.stringify({ results, totals }, null, 2));
      else {
        for (const line of formatResults(results)) console.log(line);
        console.log(`${totals.pass} passed, ${totals.fail} failed, ${totals.skip} skipped`);
      }
      process.exitCode = totals.fail === 0 ? 0 : 1;
    } finally {
      await kit.stop();
    }
  });

await program.parseAsync();
