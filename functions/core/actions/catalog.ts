import { UnknownAction } from '../errors.ts';
import type { Action } from './contract.ts';

/** The versioned catalog of actions runs may use. */
export class ActionCatalog {
  readonly #actions = new Map<string, Action>();

  constructor(actions: readonly Action[]) {
    for (const action of actions) {
      if (this.#actions.has(action.name)) throw new Error(`action ${action.name} is registered twice`);
      this.#actions.set(action.name, action);
    }
  }

  /** The action by name, optionally pinned to a version (a run keeps the version it was planned with). */
  get(name: string, version?: string, field?: string): Action {
    const action = this.#actions.get(name);
    if (!action) throw new UnknownAction(`unknown action "${name}"; known actions: ${[...this.#actions.keys()].join(', ')}`, { field });
    if (version !== undefined && version !== action.version) {
      throw new UnknownAction(`action "${name}" version ${version} is not in the catalog (it has ${action.version})`, { field });
    }
    return action;
  }

  /** The action by name, or undefined: only registered names match (never an inherited property). */
  find(name: string): Action | undefined {
    return this.#actions.get(name);
  }

  list(): Action[] {
    return [...this.#actions.values()];
  }
}
