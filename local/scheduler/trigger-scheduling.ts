import { randomUUID } from 'node:crypto';
import type { EventPattern } from '../../functions/core/triggers/event-pattern.ts';
import { listTriggers } from '../../functions/core/triggers/fire-trigger.ts';
import type { HandlerDeps } from '../../functions/handlers/shared/deps.ts';
import { syncTemplatesFolder } from '../../functions/handlers/triggers/templates-folder.ts';
import type { RunningEventBridgeEmulator } from '../eventbridge/event-bridge-emulator.ts';
import { startScheduler } from './scheduler.ts';
import type { RunningScheduler } from './scheduler.ts';

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
  const active = async () => (await listTriggers(options.deps())).filter((trigger) => !trigger.paused);
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
