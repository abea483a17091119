import { randomUUID } from 'node:crypto';
import type { EventPattern } from '../../functions/core/triggers/event-pattern.ts';
import { listTriggers } from '../../functions/core/triggers/fire-trigger.ts';
import type { HandlerDeps } from '../../functions/handlers/shared/deps.ts';
import { syncTemplatesFolder } from '../../functions/handlers/triggers/templates-folder.ts';
import type { RunningEventBridgeEmulator } from '../eventbridge/event-bridge-emulator.ts';
import { ListingCache } from '../../functions/adapters/listing-cache.ts';
import type { Trigger } from '../../functions/core/triggers/trigger-model.ts';
import { startScheduler } from './scheduler.ts';
import type { RunningScheduler } from './scheduler.ts';

/**
 * How stale the rules and schedules may be after a trigger change made outside this process's store
 * (a change through it is seen at once): only bundled handlers or another process write elsewhere.
 */
const TRIGGER_LIST_MAX_AGE_MS = 30_000;

export interface RunningTriggerScheduling {
  /** Checks the schedule triggers and the queued firings now (the timer does it every tick). */
  tick(): Promise<void>;
  stop(): void;
}

/**
 * The embedded stack's side of triggers, as AWS runs them (lib/triggers.ts): the templates folder
 * recorded, each schedule trigger on the local scheduler (EventBridge Scheduler), each event trigger
 * a rule of the local EventBridge, and the queue sweep for overlap `queue`. Everything goes through
 * the trigger function (`fire`), exactly as the schedules' and rules' targets in AWS.
 */
export async function startTriggerScheduling(options: {
  deps: () => HandlerDeps;
  fire: (payload: unknown) => Promise<unknown>;
  eventBridge: RunningEventBridgeEmulator;
  templatesDir: string;
  tickMs?: number;
  onError?: (error: unknown) => void;
}): Promise<RunningTriggerScheduling> {
  await syncTemplatesFolder(options.deps(), options.templatesDir, randomUUID());
  // The local EventBridge matches every event against the rules and the scheduler reads the schedules
  // every tick (in AWS both live in EventBridge and read no table): the stored triggers are listed
  // through a cache, read again after any change made through the deps' store and at least every
  // TRIGGER_LIST_MAX_AGE_MS (a change from elsewhere: a bundled API, another process).
  const caches = new WeakMap<object, ListingCache<Trigger>>();
  const storedTriggers = (deps: HandlerDeps) => {
    const store = deps.triggers as HandlerDeps['triggers'] & { writes?(): number };
    let cache = caches.get(store);
    if (!cache) {
      cache = new ListingCache({ load: () => store.list(), writes: () => store.writes?.() ?? 0, maxAgeMs: TRIGGER_LIST_MAX_AGE_MS });
      caches.set(store, cache);
    }
    return cache.list();
  };
  const active = async () => {
    const deps = options.deps();
    // Firing reads the trigger again (paused, overlap): a stale entry here fires nothing it should not.
    return (await listTriggers({ configTriggers: deps.configTriggers, triggers: { list: () => storedTriggers(deps) } })).filter((trigger) => !trigger.paused);
  };
  const scheduler: RunningScheduler = startScheduler({
    tickMs: options.tickMs,
    schedules: async () => [
      { id: '(queue sweep)', expression: 'rate(1 minute)', invoke: () => options.fire({ kind: 'drain' }) },
      ...(await active()).flatMap((trigger) =>
        trigger.definition.kind === 'schedule'
          ? [
              {
                id: trigger.definition.id,
                expression: trigger.definition.schedule,
                anchorMs: Date.parse(trigger.createdAt),
                invoke: (scheduledTime: string) => options.fire({ kind: 'schedule', triggerId: trigger.definition.id, scheduledTime }),
              },
            ]
          : [],
      ),
    ],
    onError: options.onError,
  });
  options.eventBridge.setRules(async () =>
    (await active()).flatMap((trigger) =>
      trigger.definition.kind === 'event'
        ? [
            {
              name: `trigger-${trigger.definition.id}`,
              pattern: trigger.definition.pattern as EventPattern,
              target: (event: unknown) => options.fire({ kind: 'event', triggerId: trigger.definition.id, event }),
            },
          ]
        : [],
    ),
  );
  return {
    tick: async () => {
      await scheduler.tick();
      await options.fire({ kind: 'drain' });
    },
    stop: () => {
      scheduler.stop();
      options.eventBridge.setRules(() => []);
    },
  };
}
