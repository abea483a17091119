import { Role } from '../auth.ts';
import { ErrorCategory, MaestroError, TriggerNotFound } from '../errors.ts';
import { own } from '../own.ts';
import { createRun } from '../runs/create-run.ts';
import type { RunDeps } from '../runs/deps.ts';
import type { Principal } from '../runs/model.ts';
import { readControl } from '../safety/gates.ts';
import { activeFreeze, activeOverride } from '../safety/change-freeze.ts';
import { instantiateTemplate } from '../templates/instantiate-template.ts';
import type { TemplateStore } from '../templates/template-model.ts';
import type { Firing, FiringOutcome, Trigger, TriggerDefinition, TriggerStore } from './trigger-model.ts';

/** What firing a trigger needs: the run deps (a firing creates its run through createRun, as POST /runs does), templates and triggers. */
export interface TriggerDeps extends RunDeps {
  templates: TemplateStore;
  triggers: TriggerStore;
  /** The triggers maestro.config.yaml declares. */
  configTriggers: readonly TriggerDefinition[];
}

/** The principal a trigger's runs are requested by: `trigger:<id>`, an operator, never an approver. */
export function triggerPrincipal(id: string): Principal {
  return { id: `trigger:${id}`, roles: [Role.operator], kind: 'trigger', issuer: 'maestro-triggers' };
}

/** A trigger by id: a config declaration with its stored state (paused, last run), or one created through the API. */
export async function findTrigger(deps: Pick<TriggerDeps, 'triggers' | 'configTriggers'>, id: string): Promise<Trigger | undefined> {
  const declared = deps.configTriggers.find((trigger) => trigger.id === id);
  const stored = await deps.triggers.get(id);
  if (declared) return { ...configSeed(declared), ...stored, definition: declared, source: 'config' };
  return stored;
}

/** Every trigger: the declared ones (with their state), then the API's. */
export async function listTriggers(deps: Pick<TriggerDeps, 'configTriggers'> & { triggers: Pick<TriggerStore, 'list'> }): Promise<Trigger[]> {
  const stored = new Map((await deps.triggers.list()).map((trigger) => [trigger.definition.id, trigger]));
  const declared = deps.configTriggers.map((definition) => ({
    ...configSeed(definition),
    ...stored.get(definition.id),
    definition,
    source: 'config' as const,
  }));
  return [...declared, ...[...stored.values()].filter((trigger) => !deps.configTriggers.some((definition) => definition.id === trigger.definition.id))];
}

export function configSeed(definition: TriggerDefinition): Trigger {
  return { definition, source: 'config', paused: false, createdBy: 'maestro.config.yaml', createdAt: new Date(0).toISOString(), secretVersion: 1 };
}

/** The firing key of a scheduled time (EventBridge Scheduler's `<aws.scheduler.scheduled-time>`, to the second). */
export const scheduledKey = (time: number | string) => `scheduled:${new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z')}`;

/**
 * Fires a trigger once for `key`: a conditional put claims the key first, so a duplicate delivery,
 * a replay or a restart re-firing the same scheduled time creates nothing. Then the kill switch,
 * the environment's change freezes and the overlap policy may stop it (TriggerSkipped with the
 * reason); otherwise its template is instantiated and the run created through createRun as
 * `trigger:<id>`, capped at the trigger's autonomy ceiling. A firing whose claim survived a crash
 * (claimed, never settled) is carried on: createRun's idempotency key (the firing key) makes the
 * run at most once.
 */
export async function fireTrigger(deps: TriggerDeps, input: { triggerId: string; key: string; correlationId: string }): Promise<FiringOutcome> {
  const trigger = await findTrigger(deps, input.triggerId);
  if (!trigger) throw new TriggerNotFound(`trigger ${input.triggerId} does not exist`, { field: 'triggerId' });
  const now = deps.clock();
  const firing: Firing = {
    triggerId: trigger.definition.id,
    key: input.key,
    state: 'claimed',
    claimedAt: now.toISOString(),
    correlationId: input.correlationId,
  };
  if (await deps.triggers.claimFiring(firing)) return proceed(deps, trigger, firing, { fresh: true });
  const earlier = await deps.triggers.getFiring(trigger.definition.id, input.key);
  if (earlier?.state !== 'claimed') return { outcome: 'duplicate', runId: earlier?.runId };
  return proceed(deps, trigger, earlier);
}

/**
 * How old an unsettled claim must be before a sweep creates its run: older than any firing can take
 * (the trigger function times out at 30 s), so a firing still under way is never raced into a
 * different outcome. A claim whose run exists is settled at once, whatever its age.
 */
export const UNSETTLED_CLAIM_STALE_MS = 60_000;

/**
 * Carries on the firings whose invocation died between the claim and the settlement (nothing else
 * would: a restart fires only the latest scheduled time, EventBridge's retries give up): a claim
 * whose run was created gets its TriggerFired for that run; one older than `staleAfterMs` without a
 * run goes on as the firing would have (its checks, then createRun with the firing key, so a run is
 * created at most once however many sweeps race). Returns how many it settled.
 */
export async function resumeUnsettled(deps: TriggerDeps, options: { staleAfterMs?: number } = {}): Promise<number> {
  const staleAfterMs = options.staleAfterMs ?? UNSETTLED_CLAIM_STALE_MS;
  let resumed = 0;
  let failure: unknown;
  for (const firing of await deps.triggers.listUnsettled()) {
    try {
      const trigger = await findTrigger(deps, firing.triggerId);
      if (!trigger) continue;
      const stale = deps.clock().getTime() - Date.parse(firing.claimedAt) >= staleAfterMs;
      const runId = await runOfFiring(deps, firing);
      if (runId) await settleCreated(deps, trigger, firing, runId);
      else if (stale) await proceed(deps, trigger, firing);
      else continue;
      resumed += 1;
    } catch (error) {
      // The others still go on; the first failure is reported, and the next sweep tries again.
      failure ??= error;
    }
  }
  if (failure) throw failure;
  return resumed;
}

/** The run a firing created, if it got that far: createRun keys an Idempotency-Key by its principal, and a firing's key is its firing key. */
async function runOfFiring(deps: TriggerDeps, firing: Firing): Promise<string | undefined> {
  return (await deps.runs.findByIdempotencyKey(`${triggerPrincipal(firing.triggerId).id}#${firing.key}`))?.runId;
}

async function settleCreated(deps: TriggerDeps, trigger: Trigger, firing: Firing, runId: string): Promise<FiringOutcome> {
  await deps.triggers.settleFiring({ firing, state: 'created', runId, now: deps.clock(), seed: trigger.source === 'config' ? trigger : undefined });
  return { outcome: 'created', runId };
}

/** Starts the oldest queued firing of a trigger whose previous run has finished (overlap `queue`). */
export async function drainQueued(deps: TriggerDeps, triggerId: string): Promise<FiringOutcome | undefined> {
  const trigger = await findTrigger(deps, triggerId);
  if (!trigger || trigger.paused) return undefined;
  const [oldest] = await deps.triggers.listQueued(triggerId);
  if (!oldest || (await previousRunActive(deps, trigger))) return undefined;
  return proceed(deps, trigger, oldest, { fromQueue: true });
}

async function previousRunActive(deps: TriggerDeps, trigger: Trigger): Promise<string | undefined> {
  if (!trigger.lastRunId) return undefined;
  const previous = await deps.runs.get(trigger.lastRunId);
  return previous && !previous.finishedAt ? `run ${previous.id} of this trigger is still ${previous.status}` : undefined;
}

/**
 * Decides a claimed (or queued) firing and records how it ended. A firing carried on after a crash
 * (not `fresh`) may have created its run already: then that run is what it fired, whatever the checks
 * would say now.
 */
async function proceed(deps: TriggerDeps, trigger: Trigger, firing: Firing, options: { fromQueue?: boolean; fresh?: boolean } = {}): Promise<FiringOutcome> {
  if (!options.fresh) {
    const runId = await runOfFiring(deps, firing);
    if (runId) return settleCreated(deps, trigger, firing, runId);
  }
  const now = deps.clock();
  const seed = trigger.source === 'config' ? trigger : undefined;
  const skip = async (reason: string): Promise<FiringOutcome> => {
    await deps.triggers.settleFiring({ firing, state: 'skipped', reason, now, seed });
    return { outcome: 'skipped', reason };
  };
  const { definition } = trigger;
  if (trigger.paused) return skip('paused: the trigger is paused');
  const control = await readControl(deps);
  if (control.killSwitch.engaged) return skip(`kill-switch: the kill switch is engaged${control.killSwitch.reason ? ` (${control.killSwitch.reason})` : ''}`);
  const template = await deps.templates.get(definition.template.name, definition.template.version);
  if (!template)
    return skip(`template: ${definition.template.name}${definition.template.version ? ` version ${definition.template.version}` : ''} does not exist`);
  const environment = template.definition.environment ?? deps.guardrails.defaultEnvironment;
  const freeze = activeFreeze(own(deps.guardrails.environments, environment)?.changeFreezes ?? [], now);
  if (freeze && template.definition.mode === 'APPLY' && !activeOverride(control.freezeOverrides, environment, now)) {
    return skip(`change-freeze: ${environment} is in the change freeze ${freeze.name}`);
  }
  if (!options.fromQueue || firing.state !== 'queued') {
    const busy = await previousRunActive(deps, trigger);
    if (busy && definition.overlap === 'skip') return skip(`overlap: ${busy}`);
    if (busy) {
      await deps.triggers.settleFiring({ firing, state: 'queued', reason: `overlap: ${busy}`, now, seed });
      return { outcome: 'queued' };
    }
  }
  try {
    const { body } = instantiateTemplate(template.definition, definition.params);
    const result = await createRun(deps, {
      body,
      principal: triggerPrincipal(definition.id),
      correlationId: firing.correlationId,
      idempotencyKey: firing.key,
      autonomyCaps: [{ ceiling: definition.autonomyCeiling, source: `triggers.${definition.id}.autonomyCeiling` }],
      origin: { template: { name: template.definition.name, version: template.version }, trigger: { id: definition.id, firingKey: firing.key } },
    });
    return settleCreated(deps, trigger, firing, result.runId);
  } catch (error) {
    // A run refused for what it is (validation, policy, safety) is recorded; anything else (capacity, a
    // dependency) propagates, the claim stays, and the retried delivery carries the firing on.
    const permanent =
      error instanceof MaestroError &&
      error.name !== 'RunsAtCapacity' &&
      error.name !== 'RateLimited' &&
      ([ErrorCategory.validation, ErrorCategory.policy, ErrorCategory.safety] as string[]).includes(error.category);
    if (permanent) return skip(`refused: ${error.name}: ${error.message}`);
    throw error;
  }
}
