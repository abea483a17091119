import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import type { Action, ActionContext } from '../core/actions/contract.ts';
import { cloudwatchAlarmUri, lambdaAliasUri } from '../core/actions/resources.ts';
import type { AlarmReader, AlarmStatus, AliasRouting, AliasStore } from '../core/actions/target-ports.ts';
import { ActionFailed, DeploymentAlarm, StalePlan, VerificationFailed } from '../core/errors.ts';
import type { TaskPlan } from '../core/runs/model.ts';
import { renderDiff } from './render-diff.ts';

/** The executor functions run for five minutes; the steps' bake times must fit well inside (see the budget below). */
export const MAX_TOTAL_BAKE_SECONDS = 240;
/** How often the watched alarms are read while a step bakes. */
const ALARM_POLL_MS = 1_000;

const AlarmName = z.string().min(1).max(255);

const Params = z
  .strictObject({
    functionName: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be a Lambda function name (1-64 letters, digits, - _)'),
    aliasName: z.string().regex(/^(?!\d+$)[a-zA-Z0-9_-]{1,128}$/, 'must be a Lambda alias name (letters, digits, - _; not all digits)'),
    targetVersion: z.string().regex(/^[1-9]\d{0,9}$/, 'must be a published version number ($LATEST cannot be shifted to)'),
    /** Percent of traffic on the target version at each step; ascending, the last 100. */
    steps: z
      .array(z.number().int().min(1).max(100))
      .min(1)
      .max(10)
      .default([10, 50, 100])
      .refine((steps) => steps.every((step, i) => i === 0 || step > steps[i - 1]), 'must be strictly ascending')
      .refine((steps) => steps.at(-1) === 100, 'must end at 100'),
    /** How long each step runs while the alarms are watched. */
    bakeSeconds: z.number().int().min(0).max(MAX_TOTAL_BAKE_SECONDS).default(60),
    /** CloudWatch alarms (names) that stop the shift and move the traffic back when one is in ALARM. */
    alarms: z.array(AlarmName).max(100).default([]),
  })
  .superRefine((params, ctx) => {
    if (params.steps.length * params.bakeSeconds > MAX_TOTAL_BAKE_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['bakeSeconds'],
        message: `${params.steps.length} steps × ${params.bakeSeconds} s exceed the ${MAX_TOTAL_BAKE_SECONDS} s a shift may bake in all`,
      });
    }
  });
type Params = z.infer<typeof Params>;

interface ShiftPlanData extends Record<string, unknown> {
  functionName: string;
  aliasName: string;
  originalVersion: string;
  targetVersion: string;
  steps: number[];
  bakeSeconds: number;
  alarms: string[];
}

/** One step as apply took it: the share on the target and the alias revision it left. */
interface StepRecord {
  percent: number;
  revisionId: string;
  at: string;
}

const dataOf = (plan: TaskPlan) => plan.data as ShiftPlanData;
const revisionOf = (plan: TaskPlan) => plan.preconditions.revisionId as string;

function portsOf(ctx: ActionContext): { aliases: AliasStore; alarms: AlarmReader } {
  if (!ctx.aliases || !ctx.alarms) throw new ActionFailed('this executor has no Lambda or CloudWatch client (lambda.shift-alias runs in an action executor)');
  return { aliases: ctx.aliases, alarms: ctx.alarms };
}

/** Where an alias stands relative to a planned shift: before it, at one of its steps, after it, or somewhere it never put it. */
type Position = { at: 'original' } | { at: 'step'; index: number } | { at: 'target' } | { at: 'elsewhere' };

function positionOf(alias: AliasRouting, data: ShiftPlanData): Position {
  if (alias.primaryVersion === data.targetVersion && !alias.additional) return { at: 'target' };
  if (alias.primaryVersion !== data.originalVersion) return { at: 'elsewhere' };
  if (!alias.additional) return { at: 'original' };
  const percent = Math.round(alias.additional.weight * 100);
  const index = data.steps.indexOf(percent);
  return alias.additional.version === data.targetVersion && index >= 0 && percent < 100 ? { at: 'step', index } : { at: 'elsewhere' };
}

const describeRouting = (alias: Pick<AliasRouting, 'primaryVersion' | 'additional'>) =>
  alias.additional
    ? `version ${alias.primaryVersion}: ${Math.round((1 - alias.additional.weight) * 100)}%\nversion ${alias.additional.version}: ${Math.round(alias.additional.weight * 100)}%\n`
    : `version ${alias.primaryVersion}: 100%\n`;

/** The first watched alarm that should stop the shift: one in ALARM, or one that no longer exists. */
async function firingAlarm(alarms: AlarmReader, names: readonly string[]): Promise<AlarmStatus | undefined> {
  if (names.length === 0) return undefined;
  const read = await alarms.read(names);
  const firing = read.alarms.find((alarm) => alarm.state === 'ALARM');
  if (firing) return firing;
  const [missing] = read.missing;
  return missing === undefined ? undefined : { name: missing, state: 'ALARM', reason: 'the alarm no longer exists', updatedAt: new Date() };
}

/** Holds a step for `seconds`, reading the alarms about every second; the first firing alarm ends it early. */
async function bake(alarms: AlarmReader, names: readonly string[], seconds: number, signal: AbortSignal | undefined): Promise<AlarmStatus | undefined> {
  const deadline = Date.now() + seconds * 1_000;
  for (;;) {
    const firing = await firingAlarm(alarms, names);
    if (firing) return firing;
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    await sleep(Math.min(ALARM_POLL_MS, left), undefined, { signal });
  }
}

/**
 * Moves a Lambda alias from its version to another in steps (10 % → 50 % → 100 % by default), baking
 * each step while CloudWatch alarms are watched. An alarm in ALARM moves the alias back at once and
 * fails the task with DeploymentAlarm naming it, so the run rolls back. A crashed apply resumes from
 * the step the alias is at (its routing says which).
 */
export const lambdaShiftAlias: Action<Params> = {
  name: 'lambda.shift-alias',
  version: '1.0.0',
  description:
    'Shifts a Lambda alias to another version in weighted steps, watching CloudWatch alarms while each step bakes; an alarm in ALARM moves the alias back.',
  // Five minutes is the executor's own timeout: the budget leaves room for the calls around the bakes.
  safety: { category: 'DEPLOY', requiresApproval: true, budgets: { timeMs: 280_000, network: 'internal' } },
  schema: Params,
  resources: (params) => [
    { uri: lambdaAliasUri(params.functionName, params.aliasName), access: 'write' },
    ...params.alarms.map((name) => ({ uri: cloudwatchAlarmUri(name), access: 'read' as const })),
  ],
  examples: [
    {
      description: 'Canary the demo function’s live alias onto version 2 in three steps, watching its error alarm',
      params: {
        functionName: 'maestro-demo-fn',
        aliasName: 'live',
        targetVersion: '2',
        steps: [10, 50, 100],
        bakeSeconds: 60,
        alarms: ['maestro-demo-errors'],
      },
    },
    {
      description: 'Move the alias in one step with a short bake',
      params: { functionName: 'maestro-demo-fn', aliasName: 'live', targetVersion: '2', steps: [100], bakeSeconds: 10, alarms: ['maestro-demo-errors'] },
    },
  ],

  async plan(params, ctx) {
    const { aliases, alarms } = portsOf(ctx);
    const resource = lambdaAliasUri(params.functionName, params.aliasName);
    const alias = await aliases.getAlias(params.functionName, params.aliasName);
    if (!alias) throw new ActionFailed(`${resource} does not exist`, { field: 'aliasName' });
    const versions = await aliases.listVersions(params.functionName);
    if (!versions.includes(params.targetVersion)) {
      throw new ActionFailed(`version ${params.targetVersion} of ${params.functionName} is not published (published: ${versions.join(', ') || 'none'})`, {
        field: 'targetVersion',
      });
    }
    if (alias.additional) {
      throw new ActionFailed(
        `${resource} is already splitting traffic (${Math.round(alias.additional.weight * 100)}% to version ${alias.additional.version}); finish or undo that shift first`,
        { field: 'aliasName' },
      );
    }
    const watched = await alarms.read(params.alarms);
    if (watched.missing.length > 0) throw new ActionFailed(`no CloudWatch alarm named ${watched.missing.join(', ')}`, { field: 'alarms' });
    const firing = watched.alarms.find((alarm) => alarm.state === 'ALARM');
    if (firing) throw new ActionFailed(`alarm ${firing.name} is already in ALARM (${firing.reason}); the shift would roll back at once`, { field: 'alarms' });

    const data: ShiftPlanData = {
      functionName: params.functionName,
      aliasName: params.aliasName,
      originalVersion: alias.primaryVersion,
      targetVersion: params.targetVersion,
      steps: params.steps,
      bakeSeconds: params.bakeSeconds,
      alarms: params.alarms,
    };
    const preconditions = { revisionId: alias.revisionId, primaryVersion: alias.primaryVersion };
    if (alias.primaryVersion === params.targetVersion) {
      return { summary: `no change: ${resource} is on version ${params.targetVersion}`, change: 'none', resource, diff: '', preconditions, data };
    }
    const watching = params.alarms.length === 0 ? 'no alarms watched' : `watching ${params.alarms.join(', ')}`;
    const stepsText = params.steps.map((step) => `${step}%`).join(' → ');
    const after = params.steps.map((step, i) => `step ${i + 1}: version ${params.targetVersion}: ${step}%, bake ${params.bakeSeconds} s`).join('\n');
    return {
      summary: `shift ${resource} from version ${alias.primaryVersion} to ${params.targetVersion}: ${stepsText}, ${params.bakeSeconds} s each, ${watching}`,
      change: 'update',
      resource,
      diff: renderDiff(resource, describeRouting(alias), `${after}\nversion ${params.targetVersion}: 100%\n`),
      preconditions,
      data,
    };
  },

  async apply(plan, ctx) {
    const data = dataOf(plan);
    const { aliases, alarms } = portsOf(ctx);
    const resource = plan.resource;
    let alias = await aliases.getAlias(data.functionName, data.aliasName);
    if (!alias) throw new StalePlan(`${resource} no longer exists`);
    if (plan.change === 'none') {
      if (alias.revisionId !== revisionOf(plan)) throw new StalePlan(`${resource} changed since it was planned`);
      return { primaryVersion: alias.primaryVersion, revisionId: alias.revisionId, unchanged: true };
    }
    const position = positionOf(alias, data);
    // Moved since the plan: only a replay of this task (a crash, a retry) may find it at a step of its own shift.
    if (alias.revisionId !== revisionOf(plan) && ((ctx.attempt ?? 1) <= 1 || position.at === 'elsewhere')) {
      throw new StalePlan(`${resource} changed since it was planned (revision ${revisionOf(plan)}, now ${alias.revisionId}: ${describeRouting(alias).trim()})`);
    }
    if (position.at === 'target') return { primaryVersion: alias.primaryVersion, revisionId: alias.revisionId, steps: [], replayed: true };
    const from = position.at === 'step' ? position.index : 0;
    const steps: StepRecord[] = [];
    for (let index = from; index < data.steps.length; index++) {
      ctx.signal?.throwIfAborted();
      const percent = data.steps[index];
      alias = await aliases.setRouting({
        functionName: data.functionName,
        aliasName: data.aliasName,
        primaryVersion: percent === 100 ? data.targetVersion : data.originalVersion,
        ...(percent === 100 ? {} : { additional: { version: data.targetVersion, weight: percent / 100 } }),
        expectedRevisionId: alias.revisionId,
      });
      steps.push({ percent, revisionId: alias.revisionId, at: new Date().toISOString() });
      const firing = await bake(alarms, data.alarms, data.bakeSeconds, ctx.signal);
      if (firing) {
        // Traffic back first; the run's rollback moves it again if this did not get through.
        let movedBack = false;
        try {
          await aliases.setRouting({
            functionName: data.functionName,
            aliasName: data.aliasName,
            primaryVersion: data.originalVersion,
            expectedRevisionId: alias.revisionId,
          });
          movedBack = true;
        } catch {
          movedBack = false;
        }
        throw new DeploymentAlarm(
          `alarm ${firing.name} is ${firing.state} at step ${index + 1} (${percent}% on version ${data.targetVersion}): ${firing.reason}; ${
            movedBack ? `${resource} is back on version ${data.originalVersion}` : `moving ${resource} back failed, the rollback retries`
          }`,
          { details: { alarm: firing.name, state: firing.state, reason: firing.reason, step: percent, stepIndex: index, movedBack, steps } },
        );
      }
    }
    return { primaryVersion: data.targetVersion, revisionId: alias.revisionId, steps, ...(from > 0 ? { resumedAtStep: from + 1 } : {}) };
  },

  async verify(plan, _outcome, ctx) {
    const data = dataOf(plan);
    const { aliases, alarms } = portsOf(ctx);
    const alias = await aliases.getAlias(data.functionName, data.aliasName);
    if (!alias || alias.primaryVersion !== data.targetVersion || alias.additional) {
      throw new VerificationFailed(
        `${plan.resource} should send all traffic to version ${data.targetVersion}; it reads ${alias ? describeRouting(alias).trim() : 'missing'}`,
      );
    }
    const firing = await firingAlarm(alarms, data.alarms);
    if (firing) throw new VerificationFailed(`alarm ${firing.name} is ${firing.state} after the shift: ${firing.reason}`);
  },

  async rollback(plan, _outcome, ctx) {
    if (plan.change === 'none') return;
    const data = dataOf(plan);
    const { aliases } = portsOf(ctx);
    const alias = await aliases.getAlias(data.functionName, data.aliasName);
    if (!alias) return;
    const position = positionOf(alias, data);
    // Already back, or moved by someone else since: nothing of ours to undo, and never over their change.
    if (position.at === 'original' || position.at === 'elsewhere') return;
    await aliases.setRouting({
      functionName: data.functionName,
      aliasName: data.aliasName,
      primaryVersion: data.originalVersion,
      expectedRevisionId: alias.revisionId,
    });
  },
};
