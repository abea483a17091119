import * as z from 'zod';
import { TemplateName } from '../templates/template-model.ts';
import { validateEventPattern } from './event-pattern.ts';
import type { EventPattern } from './event-pattern.ts';
import { parseScheduleExpression } from './schedule-expression.ts';
import { DEFAULT_WEBHOOK_TOLERANCE_SECONDS } from './webhook-signature.ts';

export const TriggerId = z.string().regex(/^[a-z][a-z0-9-]{0,47}$/, 'must be a lowercase id (letters, digits, -), at most 48 characters');

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

const TriggerBase = {
  id: TriggerId,
  description: z.string().max(500).optional(),
  /** The template each firing instantiates; without `version`, the latest at the firing. */
  template: z.strictObject({ name: TemplateName, version: z.number().int().min(1).optional() }),
  /** The template's parameters (values only; checked against the template's parameter schemas at each firing). */
  params: z.record(z.string(), Scalar).default({}),
  /** The most autonomy a run of this trigger has (never above its environment's ceiling). @default 0, plan only */
  autonomyCeiling: z.number().int().min(0).max(3).default(0),
  /** When the trigger's previous run is still going: `skip` the firing (TriggerSkipped), or `queue` it until that run finishes. @default skip */
  overlap: z.enum(['skip', 'queue']).default('skip'),
};

const ScheduleTrigger = z.strictObject({
  ...TriggerBase,
  kind: z.literal('schedule'),
  /** `rate(n unit)`, `cron(minutes hours day-of-month month day-of-week year)` or `at(yyyy-mm-ddThh:mm:ss)`, in UTC. */
  schedule: z.string().superRefine((expression, ctx) => {
    try {
      parseScheduleExpression(expression);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  }),
});

const EventTrigger = z.strictObject({
  ...TriggerBase,
  kind: z.literal('event'),
  /** An EventBridge event pattern (`{source: [...], detail-type: [...], detail: {...}}`): a rule in AWS, matched by the local EventBridge. */
  pattern: z.record(z.string(), z.unknown()).superRefine((pattern, ctx) => {
    try {
      validateEventPattern(pattern);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  }),
});

const WebhookTrigger = z.strictObject({
  ...TriggerBase,
  kind: z.literal('webhook'),
  /** Where the signed body carries its timestamp (dotted path): seconds since the epoch or ISO 8601. @default timestamp */
  timestampField: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be a dotted field path')
    .default('timestamp'),
  /** How far the timestamp may be from now. @default 300 s */
  toleranceSeconds: z.number().int().min(10).max(3600).default(DEFAULT_WEBHOOK_TOLERANCE_SECONDS),
});

/** A trigger as declared (maestro.config.yaml's `triggers`, or POST /triggers). */
export const TriggerDefinition = z.discriminatedUnion('kind', [ScheduleTrigger, EventTrigger, WebhookTrigger]);
export type TriggerDefinition = z.infer<typeof TriggerDefinition>;
export type EventTriggerDefinition = Extract<TriggerDefinition, { kind: 'event' }> & { pattern: EventPattern };

/** The triggers of maestro.config.yaml (ids unique). */
export const TriggersSection = z
  .array(TriggerDefinition)
  .max(200)
  .default([])
  .superRefine((triggers, ctx) => {
    const seen = new Set<string>();
    triggers.forEach((trigger, index) => {
      if (seen.has(trigger.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `trigger ${trigger.id} is declared twice` });
      seen.add(trigger.id);
    });
  })
  .describe('Triggers that create runs from templates: schedules, EventBridge event patterns and signed webhooks (docs/templates-and-triggers.md).');

/** A trigger with its runtime state (from the state table). */
export interface Trigger {
  definition: TriggerDefinition;
  /** Where it was declared: maestro.config.yaml, or the API. */
  source: 'config' | 'api';
  paused: boolean;
  createdBy: string;
  createdAt: string;
  /** Webhook triggers: the secret's generation (a rotation bumps it). */
  secretVersion?: number;
  /** The run the last firing created, for the overlap policy. */
  lastRunId?: string;
}

/** One firing, claimed by a conditional put before its run is created: the key is trigger id + event id or scheduled time. */
export interface Firing {
  triggerId: string;
  /** `scheduled:<ISO time>`, `event:<EventBridge id>` or `webhook:<sha256 of the body>`. */
  key: string;
  state: 'claimed' | 'created' | 'skipped' | 'queued';
  runId?: string;
  reason?: string;
  claimedAt: string;
  /** What the run was made with (kept for a queued firing, started later). */
  params?: Record<string, unknown>;
  correlationId: string;
}

export type FiringOutcome =
  | { outcome: 'created'; runId: string }
  | { outcome: 'duplicate'; runId?: string }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'queued' };

/** Where triggers' state and firings live (the state table). */
export interface TriggerStore {
  /** Records an API trigger (refused with TriggerExists if its id is taken), audited. */
  create(input: { definition: TriggerDefinition; actor: string; correlationId: string; now: Date }): Promise<Trigger>;
  /** The stored state of a trigger (an API trigger's definition too; a config trigger's pause state only). */
  get(id: string): Promise<Trigger | undefined>;
  list(): Promise<Trigger[]>;
  /** Pauses or resumes, audited; `seed` is the config definition when the trigger has no row yet. */
  setPaused(input: { id: string; paused: boolean; actor: string; reason: string; correlationId: string; now: Date; seed?: Trigger }): Promise<Trigger>;
  /** Claims a firing key (conditional put); false when it was claimed before. */
  claimFiring(firing: Firing): Promise<boolean>;
  getFiring(triggerId: string, key: string): Promise<Firing | undefined>;
  /** Records how a claimed firing ended, with its audit event (TriggerFired, TriggerSkipped, TriggerQueued); `lastRunId` moves with a created run. */
  settleFiring(input: { firing: Firing; state: Firing['state']; runId?: string; reason?: string; now: Date; seed?: Trigger }): Promise<void>;
  /** Firings claimed and never settled (their invocation died between the claim and the settlement), oldest claim first, of every trigger. */
  listUnsettled(): Promise<Firing[]>;
  /** Firings waiting for the trigger's previous run, oldest first. */
  listQueued(triggerId: string): Promise<Firing[]>;
  /** The trigger's journal. */
  listEvents(id: string): Promise<import('../runs/model.ts').RunEvent[]>;
}
