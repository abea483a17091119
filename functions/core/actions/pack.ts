import { isSemver } from '../config/packs.ts';
import { PackInvalid } from '../errors.ts';
import { MANAGED_RESOURCE_KINDS } from '../safety/managed-resources.ts';
import { ActionCategory, NetworkBudget } from './contract.ts';
import type { Action } from './contract.ts';
import { parseResource } from './resources.ts';

/**
 * What a pack's module exports as `pack`: its name (every action is `<name>.<verb>`), its version (the
 * configuration pins the same) and its actions. An action is written against the contract
 * (core/actions/contract.ts) like a built-in; a remote action (a team's own function speaking JSON)
 * is an `Action` too, and goes in the same list.
 */
export interface PackDefinition {
  readonly name: string;
  readonly version: string;
  readonly actions: readonly Action[];
}

/** The pack a module exports (`export const pack = definePack({...})`): typed, frozen, validated at load. */
export function definePack<const T extends PackDefinition>(definition: T): T {
  return Object.freeze({ ...definition, actions: Object.freeze([...definition.actions]) }) as T;
}

/** What the configuration says of a pack (`packs[i]`), against which its module is checked. */
export interface PackPin {
  readonly name: string;
  readonly version: string;
}

const VERB = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** The longest time budget an action may declare (a Lambda function's own limit: 15 minutes). */
export const MAX_ACTION_TIME_MS = 900_000;

/**
 * The resource kinds a pack's actions may declare: the kinds an environment's `managedResources`
 * governs, URLs (the egress guard governs them) and `none`. Never Maestro's own kinds (`dr-restore`,
 * `dr`): only the built-in DR action acts on those.
 */
export const PACK_RESOURCE_KINDS: ReadonlySet<string> = new Set([...MANAGED_RESOURCE_KINDS, 'url', 'none']);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const isFunction = (value: unknown): value is (...args: unknown[]) => unknown => typeof value === 'function';

/**
 * Checks a pack's exported definition against its pin and the names already registered (the built-ins,
 * earlier packs). Pure: no I/O (the loader reads, hashes and imports). Throws PackInvalid naming the
 * first bad field (`packs[0].actions[1].safety.category: ...`), with every problem in the message.
 */
export function validatePack(definition: unknown, pin: PackPin, registered: ReadonlyMap<string, string>, field: string): PackDefinition {
  const problems: { field: string; message: string }[] = [];
  const problem = (at: string, message: string) => problems.push({ field: at, message });
  const fail = () => {
    throw new PackInvalid(`pack ${pin.name}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, {
      field: problems[0]!.field,
      details: { pack: pin.name, problems },
    });
  };

  if (!isObject(definition)) {
    problem(field, 'the module must export `pack` (export const pack = definePack({ name, version, actions }))');
    fail();
  }
  const pack = definition as Record<string, unknown>;
  if (pack.name !== pin.name)
    problem(`${field}.name`, `the module's pack is named ${JSON.stringify(pack.name)}, the configuration says ${JSON.stringify(pin.name)}`);
  if (!isSemver(pack.version)) problem(`${field}.version`, `the module declares ${JSON.stringify(pack.version)}, which is not a semantic version`);
  else if (pack.version !== pin.version) problem(`${field}.version`, `the module declares ${pack.version}, the configuration pins ${pin.version}`);
  if (!Array.isArray(pack.actions) || pack.actions.length === 0) {
    problem(`${field}.actions`, 'must be a non-empty list of actions');
    fail();
  }

  const seen = new Map(registered);
  (pack.actions as unknown[]).forEach((candidate, index) => {
    const at = `${field}.actions[${index}]`;
    if (!isObject(candidate)) {
      problem(at, 'must be an action (core/actions/contract.ts)');
      return;
    }
    validateAction(candidate, pin.name, at, seen, problem);
    if (typeof candidate.name === 'string' && !seen.has(candidate.name)) seen.set(candidate.name, pin.name);
  });
  if (problems.length > 0) fail();
  return pack as unknown as PackDefinition;
}

function validateAction(
  action: Record<string, unknown>,
  packName: string,
  at: string,
  registered: ReadonlyMap<string, string>,
  problem: (field: string, message: string) => void,
): void {
  const name = action.name;
  const prefix = `${packName}.`;
  if (typeof name !== 'string' || !name.startsWith(prefix) || !VERB.test(name.slice(prefix.length))) {
    problem(`${at}.name`, `${JSON.stringify(name)} must be "${prefix}<verb>" (lowercase letters, digits, hyphens)`);
  } else if (registered.has(name)) {
    problem(`${at}.name`, `"${name}" is already registered by pack ${registered.get(name)}`);
  }
  if (!isSemver(action.version)) problem(`${at}.version`, `${JSON.stringify(action.version)} is not a semantic version`);
  if (typeof action.description !== 'string' || action.description.trim() === '') problem(`${at}.description`, 'must say what the action does');

  const safety = isObject(action.safety) ? action.safety : undefined;
  if (!safety) problem(`${at}.safety`, 'must give category, requiresApproval and budgets');
  else {
    const categories = Object.values(ActionCategory) as string[];
    if (typeof safety.category !== 'string' || !categories.includes(safety.category)) {
      problem(`${at}.safety.category`, `${JSON.stringify(safety.category)} must be one of ${categories.join(', ')}`);
    }
    if (typeof safety.requiresApproval !== 'boolean') problem(`${at}.safety.requiresApproval`, 'must be true or false');
    const budgets = isObject(safety.budgets) ? safety.budgets : undefined;
    if (!budgets) problem(`${at}.safety.budgets`, 'must give timeMs and network');
    else {
      const { timeMs, network } = budgets;
      if (typeof timeMs !== 'number' || !Number.isInteger(timeMs) || timeMs < 1 || timeMs > MAX_ACTION_TIME_MS) {
        problem(`${at}.safety.budgets.timeMs`, `${JSON.stringify(timeMs)} must be an integer number of milliseconds, 1 to ${MAX_ACTION_TIME_MS}`);
      }
      const networks = Object.values(NetworkBudget) as string[];
      if (typeof network !== 'string' || !networks.includes(network)) {
        problem(`${at}.safety.budgets.network`, `${JSON.stringify(network)} must be one of ${networks.join(', ')}`);
      }
    }
  }

  // What only the built-ins may do: run in the control plane's process, or confine their own requests
  // (and so skip the sandbox of their apply), or act when the run ends (in the control plane).
  if (action.runsInControlPlane !== undefined) problem(`${at}.runsInControlPlane`, "a pack's action runs in an executor, never in the control plane");
  if (action.confinesOwnRequests !== undefined) problem(`${at}.confinesOwnRequests`, "a pack's apply runs in the sandbox as a whole");
  if (action.onRunEnded !== undefined) problem(`${at}.onRunEnded`, 'runs in the control plane: not for packs');

  for (const method of ['resources', 'plan', 'apply', 'verify', 'rollback'] as const) {
    if (!isFunction(action[method])) problem(`${at}.${method}`, 'must be a function');
  }

  const schema = action.schema as { safeParse?: unknown } | undefined;
  if (!isObject(schema) || !isFunction(schema.safeParse)) {
    problem(`${at}.schema`, 'must be a zod schema of the params');
    return;
  }
  if (!Array.isArray(action.examples) || action.examples.length === 0) {
    problem(`${at}.examples`, 'must give at least one valid input (the docs and the conformance kit run them)');
    return;
  }
  action.examples.forEach((example: unknown, index: number) => {
    const exampleAt = `${at}.examples[${index}]`;
    if (!isObject(example) || typeof example.description !== 'string') {
      problem(exampleAt, 'must be { description, params }');
      return;
    }
    const parsed = (
      schema.safeParse as (value: unknown) => { success: boolean; data?: unknown; error?: { issues: { path: PropertyKey[]; message: string }[] } }
    )(example.params);
    if (!parsed.success) {
      const issue = parsed.error?.issues[0];
      const path = issue?.path.length ? `.${issue.path.map(String).join('.')}` : '';
      problem(`${exampleAt}.params${path}`, `does not parse with the action's schema: ${issue?.message ?? 'invalid'}`);
      return;
    }
    if (!isFunction(action.resources)) return;
    let refs: unknown;
    try {
      refs = action.resources(parsed.data);
    } catch (error) {
      problem(`${exampleAt}.resources`, `resources() threw: ${(error as Error).message}`);
      return;
    }
    if (!Array.isArray(refs) || refs.length === 0) {
      problem(`${exampleAt}.resources`, 'resources() must name at least one resource');
      return;
    }
    for (const ref of refs as unknown[]) {
      const uri = isObject(ref) ? ref.uri : undefined;
      const access = isObject(ref) ? ref.access : undefined;
      if (typeof uri !== 'string' || (access !== 'read' && access !== 'write')) {
        problem(`${exampleAt}.resources`, 'each resource must be { uri, access: "read" | "write" }');
        continue;
      }
      const kind = parseResource(uri).kind;
      if (!PACK_RESOURCE_KINDS.has(kind)) {
        problem(`${exampleAt}.resources`, `${uri} is of kind "${kind}"; a pack's actions may touch ${[...PACK_RESOURCE_KINDS].join(', ')}`);
      }
    }
  });
}
