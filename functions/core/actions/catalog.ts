import { UnknownAction } from '../errors.ts';
import type { TaskPack } from '../runs/model.ts';
import type { Action } from './contract.ts';

/**
 * Where an action comes from: its pack, the pack's version and the SHA-256 of the pack's content it was
 * pinned to (`null` for the built-ins: they are Maestro's own code, pinned by Maestro's version). Tasks
 * record it as they are created.
 */
export type PackProvenance = TaskPack;

/** Maestro's version (package.json's; test/packs/pack-loader.test.ts keeps them equal). */
export const MAESTRO_VERSION = '0.1.0';

/** The built-in actions' pack. */
export const BUILTIN_PACK = 'builtin';
export const BUILTIN_PROVENANCE: PackProvenance = Object.freeze({ name: BUILTIN_PACK, version: MAESTRO_VERSION, sha256: null });

/** The versioned catalog of actions runs may use, each with the pack it came from. */
export class ActionCatalog {
  readonly #actions = new Map<string, { action: Action; pack: PackProvenance }>();

  constructor(actions: readonly Action[], pack: PackProvenance = BUILTIN_PROVENANCE) {
    this.#add(actions, pack);
  }

  /** A catalog of these actions and the pack's, refusing a name already registered. */
  withPack(actions: readonly Action[], pack: PackProvenance): ActionCatalog {
    const next = new ActionCatalog([]);
    for (const { action, pack: from } of this.#actions.values()) next.#add([action], from);
    next.#add(actions, pack);
    return next;
  }

  #add(actions: readonly Action[], pack: PackProvenance): void {
    for (const action of actions) {
      const existing = this.#actions.get(action.name);
      if (existing) throw new Error(`action ${action.name} is registered twice (packs ${existing.pack.name} and ${pack.name})`);
      this.#actions.set(action.name, { action, pack });
    }
  }

  /** The action by name, optionally pinned to a version (a run keeps the version it was planned with). */
  get(name: string, version?: string, field?: string): Action {
    const entry = this.#actions.get(name);
    if (!entry) throw new UnknownAction(`unknown action "${name}"; known actions: ${[...this.#actions.keys()].join(', ')}`, { field });
    if (version !== undefined && version !== entry.action.version) {
      throw new UnknownAction(`action "${name}" version ${version} is not in the catalog (it has ${entry.action.version})`, { field });
    }
    return entry.action;
  }

  /** The action by name, or undefined: only registered names match (never an inherited property). */
  find(name: string): Action | undefined {
    return this.#actions.get(name)?.action;
  }

  /** The pack a registered action came from (UnknownAction for any other name). */
  packOf(name: string): PackProvenance {
    const entry = this.#actions.get(name);
    if (!entry) throw new UnknownAction(`unknown action "${name}"`);
    return entry.pack;
  }

  list(): Action[] {
    return [...this.#actions.values()].map((entry) => entry.action);
  }
}
