import * as z from 'zod';
import { BUILTIN_PROVENANCE } from './catalog.ts';
import type { PackProvenance } from './catalog.ts';
import type { Action } from './contract.ts';
import { parseResource } from './resources.ts';

/** What `GET /actions` shows of one action: what the CLI, the console and agent tool lists are built from. */
export interface ActionView {
  name: string;
  version: string;
  /** The pack it comes from (`builtin` for Maestro's own), the pack's version and pinned content hash (`null` for the built-ins). */
  pack: string;
  packVersion: string;
  packSha256: string | null;
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

export { BUILTIN_PACK } from './catalog.ts';

export function actionView(action: Action, pack: PackProvenance = BUILTIN_PROVENANCE): ActionView {
  return {
    name: action.name,
    version: action.version,
    pack: pack.name,
    packVersion: pack.version,
    packSha256: pack.sha256,
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

/** The kinds of resource an action touches (core/actions/resources.ts), from what its examples declare. */
export function resourceKindsOf(action: Action): string[] {
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
