import * as z from 'zod';
import type { Action, ActionContext } from '../core/actions/contract.ts';
import { ssmParameterUri } from '../core/actions/resources.ts';
import type { ParameterStore, ParameterType, ParameterValue } from '../core/actions/target-ports.ts';
import { ActionFailed, StalePlan, VerificationFailed } from '../core/errors.ts';
import type { TaskPlan } from '../core/runs/model.ts';
import { renderDiff } from './render-diff.ts';

/** The standard tier's limit. */
const MAX_VALUE_BYTES = 4096;

const Params = z.strictObject({
  name: z
    .string()
    .regex(/^[a-zA-Z0-9_.\-/]{1,1011}$/, 'must be an SSM parameter name (letters, digits, _ . - /)')
    .refine((name) => !/^\/?(aws|ssm)/i.test(name), 'must not start with aws or ssm (reserved by AWS)')
    .refine((name) => !name.endsWith('/'), 'must name a parameter, not a path'),
  value: z
    .string()
    .min(1)
    .refine((value) => Buffer.byteLength(value) <= MAX_VALUE_BYTES, `must be at most ${MAX_VALUE_BYTES} bytes`),
  type: z.enum(['String', 'StringList', 'SecureString']).default('String'),
});
type Params = z.infer<typeof Params>;

interface PutPlanData extends Record<string, unknown> {
  name: string;
  value: string;
  type: ParameterType;
  /** The version apply overwrites, null when it creates the parameter. */
  previousVersion: number | null;
}

const dataOf = (plan: TaskPlan) => plan.data as PutPlanData;
const versionOf = (plan: TaskPlan) => plan.preconditions.version as number | null;

function parametersOf(ctx: ActionContext): ParameterStore {
  if (!ctx.parameters) throw new ActionFailed('this executor has no SSM client (ssm.put-parameter runs in an action executor)');
  return ctx.parameters;
}

/** What a reviewer sees of a value: the text, or for a SecureString only which version holds it (never its length or digest). */
const shown = (value: Pick<ParameterValue, 'type' | 'value'> & { version?: number }) =>
  value.type === 'SecureString'
    ? `type: SecureString\nvalue: <SecureString, ${value.version === undefined ? 'the new value' : `version ${value.version}`}, not shown>\n`
    : `type: ${value.type}\nvalue: ${value.value}\n`;

/** The version apply wrote, as far as the plan and the outcome tell: the one after the planned version. */
const writtenVersion = (plan: TaskPlan, outcome: Record<string, unknown> | undefined) =>
  typeof outcome?.version === 'number' ? outcome.version : (versionOf(plan) ?? 0) + 1;

const holds = (current: ParameterValue | undefined, data: PutPlanData) => current !== undefined && current.value === data.value && current.type === data.type;

/**
 * Writes one SSM parameter; rollback writes the previous version's value back as a new version (or
 * deletes a parameter the run created), only while the current version is the one the run wrote.
 */
export const ssmPutParameter: Action<Params> = {
  name: 'ssm.put-parameter',
  version: '1.0.0',
  description: 'Writes an SSM parameter (String, StringList or SecureString); rollback restores the previous version’s value.',
  safety: { category: 'WRITE', requiresApproval: false, budgets: { timeMs: 30_000, network: 'internal' } },
  schema: Params,
  resources: (params) => [{ uri: ssmParameterUri(params.name), access: 'write' }],
  examples: [
    { description: 'Turn on a feature flag of the demo app', params: { name: '/maestro-demo/flags/beta', value: 'on', type: 'String' } },
    {
      description: 'A list of allowed origins',
      params: { name: '/maestro-demo/allowed-origins', value: 'https://a.example,https://b.example', type: 'StringList' },
    },
  ],

  async plan(params, ctx) {
    const resource = ssmParameterUri(params.name);
    const current = await parametersOf(ctx).get(params.name);
    const data: PutPlanData = { name: params.name, value: params.value, type: params.type, previousVersion: current?.version ?? null };
    const preconditions = { version: current?.version ?? null };
    if (current && current.value === params.value && current.type === params.type) {
      return { summary: `no change to ${resource} (version ${current.version})`, change: 'none', resource, diff: '', preconditions, data };
    }
    return {
      summary: current ? `update ${resource} (version ${current.version} → ${current.version + 1}, ${params.type})` : `create ${resource} (${params.type})`,
      change: current ? 'update' : 'create',
      resource,
      diff: renderDiff(resource, current && shown(current), shown(params)),
      preconditions,
      data,
    };
  },

  async apply(plan, ctx) {
    const data = dataOf(plan);
    const parameters = parametersOf(ctx);
    const current = await parameters.get(data.name);
    const planned = versionOf(plan);
    if ((current?.version ?? null) !== planned) {
      // The version right after the planned one, holding our value: our own write, replayed.
      if (plan.change !== 'none' && current?.version === (planned ?? 0) + 1 && holds(current, data)) return { version: current.version, replayed: true };
      throw new StalePlan(
        `${plan.resource} changed since it was planned (version ${planned ?? 'none'}, now ${current?.version ?? 'none'}): plan again to see the new value`,
      );
    }
    if (plan.change === 'none') return { version: current?.version ?? null, unchanged: true };
    // SSM has no conditional write: the version read just now is the precondition, as close to the write as it gets.
    const written = await parameters.put({ name: data.name, value: data.value, type: data.type, overwrite: planned !== null });
    return { version: written.version };
  },

  async verify(plan, _outcome, ctx) {
    const data = dataOf(plan);
    const current = await parametersOf(ctx).get(data.name);
    if (!current) throw new VerificationFailed(`${plan.resource} is missing after apply`);
    if (current.type !== data.type) throw new VerificationFailed(`${plan.resource} reads back as ${current.type}, expected ${data.type}`);
    // Never the values in the message: either may be a secret.
    if (current.value !== data.value)
      throw new VerificationFailed(`${plan.resource} reads back with another value than the one applied (version ${current.version})`);
  },

  async rollback(plan, outcome, ctx) {
    if (plan.change === 'none') return;
    const data = dataOf(plan);
    const parameters = parametersOf(ctx);
    const current = await parameters.get(data.name);
    // Not ours: apply never wrote, or someone wrote after us. Nothing of ours to undo, and never over their change.
    if (!current || current.version !== writtenVersion(plan, outcome) || !holds(current, data)) return;
    if (data.previousVersion === null) {
      await parameters.delete(data.name);
      return;
    }
    const previous = await parameters.getVersion(data.name, data.previousVersion);
    if (!previous) throw new ActionFailed(`version ${data.previousVersion} of ${plan.resource} is no longer in its history; it cannot be restored`);
    await parameters.put({ name: data.name, value: previous.value, type: previous.type, overwrite: true });
  },
};
