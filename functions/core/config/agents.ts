import * as z from 'zod';

/** One agent's own limits, whatever the environment's. */
const AgentGuardrails = z
  .strictObject({
    autonomy: z
      .record(z.string().min(1), z.number().int().min(0).max(3))
      .default({})
      .describe(
        "The most autonomy this agent's runs may have, by environment (0-3, as autonomyCeiling). A run gets the lower of this and the environment's ceiling; an environment not listed keeps its own.",
      ),
  })
  .describe("One agent's own limits (its id as the key).");

/**
 * Agents' own autonomy ceilings, by agent id: the development token's principal (`dev-agent`) or an
 * OIDC agent's client id (identity.oidc.agentClients).
 */
export const AgentsGuardrails = z
  .record(z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/, 'must be an agent id or OAuth client id'), AgentGuardrails)
  .default({})
  .describe(
    "Agents' own autonomy ceilings, by agent id (dev-agent, or an OIDC agent's client id from identity.oidc.agentClients); capped at admission, recorded in RunRequested (autonomyCappedBy). Unset: agents are capped by the environments' ceilings only.",
  );
export type AgentsGuardrails = z.infer<typeof AgentsGuardrails>;
