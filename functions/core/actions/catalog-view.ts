import { z } from 'zod';
import type { Action } from './contract.ts';
import { parseResource } from './resources.ts';

/** What `GET /actions` shows of one action: what the CLI, the console and agent tool lists are built from. */
export interface ActionView {
  name: string;
  version: string;
  pack: string;
  description: string;
  category: string;
  requiresApproval: boolean;
  network: string;
  budgets: { timeMs: number };
  /** The kinds of resource it touches (core/actions/resources.ts), from its examples' `resources`. */
  resourceKinds: string[];
  /** The params' JSON Schema (what MCP calls `inputSchema`); `{}` (anything) where zod cannot represent it. */
  inputSchema: Record<string, unknown>;
  examples: { description: string; params: unknown }[];
}

/** The built-in actions' pack; loaded packs will name their own. */
export const BUILTIN_PACK = 'builtin';

export function actionView(action: Action, pack = BUILTIN_PACK): ActionView {
  return {
    name: action.name,
    version: action.version,
    pack,
    description: action.description,
    category: action.safety.category,
    requiresApproval: action.safety.requiresApproval,
    network: action.safety.budgets.network,
    budgets: { timeMs: action.safety.budgets.timeMs },
    resourceKinds: resourceKindsOf(action),
    inputSchema: inputSchemaOf(action),
    examples: action.examples.map((example) => ({ description: example.description, params: example.params })),
  };
}

/**
 * The input's JSON Schema. Parts with no JSON Schema form (a custom check, a transform's output) become
 * `{}` (anything); a schema zod refuses to convert as a whole becomes `{}` too, never an error.
 */
export function inputSchemaOf(action: Action): Record<string, unknown> {
  try {
    return z.toJSONSchema(action.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function resourceKindsOf(action: Action): string[] {
  const kinds = new Set<string>();
  for (const example of action.examples) {
    const parsed = action.schema.safeParse(example.params);
    if (!parsed.success) continue;
    try {
      for (const ref of action.resources(parsed.data)) kinds.add(parseResource(ref.uri).kind);
    } catch {
      // An example the action cannot name resources for shows nothing; the conformance kit reports it.
    }
  }
  return [...kinds].sort();
}
