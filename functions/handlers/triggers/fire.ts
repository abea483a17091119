import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { drainQueued, findTrigger, fireTrigger, listTriggers, resumeUnsettled, scheduledKey } from '../../core/triggers/fire-trigger.ts';
import type { FiringOutcome } from '../../core/triggers/trigger-model.ts';
import { matchesEventPattern } from '../../core/triggers/event-pattern.ts';
import { latestFireTime, parseScheduleExpression } from '../../core/triggers/schedule-expression.ts';
import type { EventPattern } from '../../core/triggers/event-pattern.ts';
import { TriggerNotFound } from '../../core/errors.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { logger } from '../shared/logger.ts';
import type { HandlerDeps } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { configTriggers, engine, policy, templates, triggers } from '../shared/ports.ts';
import { RUN_STEP_PARTS } from '../run/step-parts.ts';

/**
 * What invokes this function: an EventBridge Scheduler schedule (with `<aws.scheduler.scheduled-time>`
 * as scheduledTime) or the local scheduler; an EventBridge rule (the whole event) or the local
 * EventBridge; or the queue sweep (overlap `queue`, and firings left unsettled by a crash).
 */
export const TriggerInvocation = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('schedule'), triggerId: z.string().min(1).max(48), scheduledTime: z.iso.datetime({ offset: true }) }),
  z.strictObject({
    kind: z.literal('event'),
    triggerId: z.string().min(1).max(48),
    event: z.looseObject({ id: z.string().min(1).max(200), source: z.string(), 'detail-type': z.string() }),
  }),
  z.strictObject({ kind: z.literal('drain') }),
  z.strictObject({ kind: z.literal('tick') }),
]);

/** How far back the tick looks for a scheduled time it has not fired (a missed minute is fired once). */
const TICK_CATCH_UP_MS = 5 * 60_000;
export type TriggerInvocation = z.infer<typeof TriggerInvocation>;

/** Fires a trigger once per scheduled time or event id (a duplicate creates nothing), or starts queued firings whose turn has come. */
export async function handleTriggerInvocation(
  deps: HandlerDeps,
  payload: unknown,
): Promise<FiringOutcome | { drained: number; resumed?: number; fired?: number }> {
  const invocation = parseOrThrow(TriggerInvocation, payload);
  const correlationId = randomUUID();
  if (invocation.kind === 'tick') {
    // In AWS, the API's schedule triggers have no schedule of their own: the one-minute tick fires each due time once.
    const now = deps.clock().getTime();
    let fired = 0;
    for (const trigger of await listTriggers(deps)) {
      const { definition } = trigger;
      if (trigger.source !== 'api' || trigger.paused || definition.kind !== 'schedule') continue;
      const due = latestFireTime(parseScheduleExpression(definition.schedule), now, now - TICK_CATCH_UP_MS, Date.parse(trigger.createdAt));
      if (due !== undefined && (await fireTrigger(deps, { triggerId: definition.id, key: scheduledKey(due), correlationId })).outcome !== 'duplicate')
        fired += 1;
    }
    const swept = (await handleTriggerInvocation(deps, { kind: 'drain' })) as { drained: number; resumed: number };
    return { ...swept, fired };
  }
  if (invocation.kind === 'drain') {
    // Firings whose invocation died before settling first (a restart fires only the latest time, not theirs).
    const resumed = await resumeUnsettled(deps);
    let drained = 0;
    for (const trigger of await listTriggers(deps)) {
      if (trigger.definition.overlap === 'queue' && (await drainQueued(deps, trigger.definition.id))) drained += 1;
    }
    return { drained, resumed };
  }
  const trigger = await findTrigger(deps, invocation.triggerId);
  if (!trigger || trigger.definition.kind !== invocation.kind)
    throw new TriggerNotFound(`no ${invocation.kind} trigger ${invocation.triggerId}`, { field: 'triggerId' });
  if (invocation.kind === 'schedule') return fireTrigger(deps, { triggerId: invocation.triggerId, key: scheduledKey(invocation.scheduledTime), correlationId });
  // The rule matched already (in AWS); the pattern is checked again so no other event can fire the trigger through this function.
  if (trigger.definition.kind === 'event' && !matchesEventPattern(trigger.definition.pattern as EventPattern, invocation.event)) {
    return { outcome: 'skipped', reason: 'the event does not match the trigger pattern' };
  }
  return fireTrigger(deps, { triggerId: invocation.triggerId, key: `event:${invocation.event.id}`, correlationId });
}

export const createHandler = (deps: HandlerDeps) =>
  middy<unknown, FiringOutcome | { drained: number; resumed?: number; fired?: number }, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const outcome = await handleTriggerInvocation(deps, event);
      logger.info('trigger invocation handled', { outcome });
      return outcome;
    });

export const handler = lambdaHandler(createHandler, 'functions/handlers/triggers/fire.ts', {
  ...RUN_STEP_PARTS,
  templates,
  triggers,
  configTriggers,
  engine,
  policy,
});
