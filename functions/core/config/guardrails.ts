import * as z from 'zod';
import { EnvironmentEgress } from '../egress/policy.ts';
import { parseOrThrow } from '../validation.ts';
import { ValidationFailed } from '../errors.ts';
import { ManagedResources, declaredNames, ownResourceByPattern } from './managed-resources.ts';
import { DriftSettings } from '../drift/settings.ts';
import { AgentsGuardrails } from './agents.ts';

const EnvironmentName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a lowercase name (letters, digits, -)');

const IsoInstant = z.iso.datetime({ offset: true });
const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

/** A change freeze: one-off (`from`-`to`) or recurring (weekdays, UTC hours `fromHourUtc` ≤ h < `toHourUtc`). */
const ChangeFreeze = z.union([
  z.strictObject({ name: z.string().min(1), from: IsoInstant, to: IsoInstant }),
  z.strictObject({
    name: z.string().min(1),
    weekdays: z.array(Weekday).min(1),
    fromHourUtc: z.number().int().min(0).max(23).default(0),
    toHourUtc: z.number().int().min(1).max(24).default(24),
  }),
]);
export type ChangeFreeze = z.infer<typeof ChangeFreeze>;

/** A token bucket: `capacity` requests at once, refilled at `refillPerSecond`. */
const TokenBucket = z.strictObject({
  capacity: z.number().int().min(1).max(100_000),
  refillPerSecond: z.number().positive().max(100_000),
});
export type TokenBucket = z.infer<typeof TokenBucket>;

const EnvironmentGuardrails = z.strictObject({
  /** The most autonomy any run in this environment may have. Safe default: 0, plan only. */
  autonomyCeiling: z.number().int().min(0).max(3).default(0),
  /** Who may approve applies here (principal ids). */
  approvers: z.array(z.string().min(1)).default([]),
  /** How many distinct approvers (never the requester) must approve. */
  quorum: z.number().int().min(1).max(20).default(1),
  /** Which hosts `http.fetch` may reach from this environment (see core/egress/policy.ts). @default none */
  egress: EnvironmentEgress.optional(),
  /** How long an approval waits: a reminder at half time, then the run ends EXPIRED. */
  approvalDeadlineSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .default(24 * 3600),
  /** Windows in which WRITE and DEPLOY applies are refused (ChangeFreeze) unless an admin override is on record. */
  changeFreezes: z.array(ChangeFreeze).default([]),
  /** What actions may touch here (buckets, tables, functions, parameters, alarms); anything else is refused at the plan gate. @default nothing */
  managedResources: ManagedResources.prefault({}),
  /** Drift detection: a sweep on this schedule re-plans what SUCCEEDED runs last changed (functions/core/drift/). @default no scheduled sweep */
  drift: DriftSettings.optional(),
});

const ActionGuardrails = z.strictObject({
  /** The apply's time budget; past it the task fails with BudgetExceeded. @default the action's own */
  timeMs: z.number().int().min(1).max(900_000).optional(),
  /** How often the action may apply, across runs. @default unlimited */
  rateLimit: TokenBucket.optional(),
});

export const Guardrails = z
  .strictObject({
    tracing: z.strictObject({ enabled: z.boolean().default(true) }).default({ enabled: true }),
    killSwitch: z.strictObject({ engaged: z.boolean().default(false) }).default({ engaged: false }),
    defaultEnvironment: EnvironmentName.default('dev'),
    environments: z
      .record(EnvironmentName, EnvironmentGuardrails)
      .refine((environments) => Object.keys(environments).length > 0, 'must declare at least one environment'),
    reasonForAccess: z.strictObject({ minLength: z.number().int().min(1).max(200).default(10) }).default({ minLength: 10 }),
    actions: z.record(z.string().min(1), ActionGuardrails).default({}),
    rateLimits: z
      .strictObject({ perPrincipal: TokenBucket.default({ capacity: 60, refillPerSecond: 1 }) })
      .default({ perPrincipal: { capacity: 60, refillPerSecond: 1 } }),
    /** Backpressure: above this many unfinished runs, new ones are refused with 429. */
    admission: z.strictObject({ maxActiveRuns: z.number().int().min(1).max(100_000).default(100) }).default({ maxActiveRuns: 100 }),
    /** Per-run caps, checked once the plan is known. */
    blastRadius: z
      .strictObject({ maxChangingTasks: z.number().int().min(1).max(1000).default(25), maxDeletes: z.number().int().min(0).max(1000).default(5) })
      .default({ maxChangingTasks: 25, maxDeletes: 5 }),
    /** Per-agent autonomy ceilings (functions/core/config/agents.ts). */
    agents: AgentsGuardrails,
  })
  .superRefine((config, ctx) => {
    for (const [name, environment] of Object.entries(config.environments)) {
      // No approvers at all is the safe default (nothing needing approval ever applies); too few is a mistake.
      if (environment.approvers.length > 0 && environment.quorum > environment.approvers.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['environments', name, 'quorum'],
          message: `needs ${environment.quorum} approvers but only ${environment.approvers.length} are listed`,
        });
      }
      // Maestro's own table, vault, keys, bus and queues can never be handed to actions.
      for (const declared of declaredNames(environment.managedResources)) {
        const own = ownResourceByPattern(declared.name);
        if (own)
          ctx.addIssue({
            code: 'custom',
            path: ['environments', name, 'managedResources', ...declared.path],
            message: `${declared.name} is ${own}; actions may never touch it`,
          });
      }
      environment.changeFreezes.forEach((freeze, index) => {
        if ('from' in freeze && Date.parse(freeze.to) <= Date.parse(freeze.from)) {
          ctx.addIssue({ code: 'custom', path: ['environments', name, 'changeFreezes', index, 'to'], message: 'must be after from' });
        }
        if ('weekdays' in freeze && freeze.toHourUtc <= freeze.fromHourUtc) {
          ctx.addIssue({ code: 'custom', path: ['environments', name, 'changeFreezes', index, 'toHourUtc'], message: 'must be after fromHourUtc' });
        }
      });
    }
    for (const [agent, limits] of Object.entries(config.agents)) {
      for (const environment of Object.keys(limits.autonomy)) {
        if (!Object.hasOwn(config.environments, environment))
          ctx.addIssue({
            code: 'custom',
            path: ['agents', agent, 'autonomy', environment],
            message: `is not an environment (${Object.keys(config.environments).join(', ')})`,
          });
      }
    }
    if (!Object.hasOwn(config.environments, config.defaultEnvironment)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultEnvironment'],
        message: `must be one of the environments (${Object.keys(config.environments).join(', ')})`,
      });
    }
  });
export type Guardrails = z.infer<typeof Guardrails>;

export const CONFIG_OVERRIDE_PREFIX = 'MAESTRO_CONFIG__';

/**
 * The effective guardrails: the parsed file with `MAESTRO_CONFIG__a__b=value` overrides applied
 * (values are YAML scalars, parsed by `parseScalar`), then validated. Errors name the key.
 */
export function resolveGuardrails(fileContent: unknown, env: Record<string, string | undefined>, parseScalar: (text: string) => unknown): Guardrails {
  const merged = structuredClone(fileContent ?? {}) as Record<string, unknown>;
  // The file's `packs` and `triggers` keys are sections of their own (the loader routes them there), not guardrails.
  delete merged.packs;
  delete merged.triggers;
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(CONFIG_OVERRIDE_PREFIX) || value === undefined) continue;
    const path = name.slice(CONFIG_OVERRIDE_PREFIX.length).split('__').filter(Boolean);
    if (path.length === 0) continue;
    // A segment named like an Object.prototype member (`constructor`, `toString`...) would walk into
    // the prototype instead of the configuration: refused, naming the variable.
    const inherited = path.find((key) => key in Object.prototype || key === 'prototype');
    if (inherited) throw new ValidationFailed(`${name}: "${inherited}" cannot be a configuration key`, { field: name });
    let node = merged;
    for (const key of path.slice(0, -1)) {
      const next = Object.hasOwn(node, key) ? node[key] : undefined;
      if (typeof next !== 'object' || next === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path.at(-1)!] = parseScalar(value);
  }
  return parseOrThrow(Guardrails, merged);
}
