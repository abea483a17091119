import { digestOf } from '../canonical-json.ts';

/**
 * A task's idempotency key: SHA-256 over the canonical JSON of run id, task position, action name,
 * action version and params. Retries and replays of the same task share it; any change to what the
 * task does gives a new one.
 */
export function taskIdempotencyKey(input: { runId: string; taskIndex: number; action: string; actionVersion: string; params: unknown }): string {
  return digestOf({ runId: input.runId, taskIndex: input.taskIndex, action: input.action, actionVersion: input.actionVersion, params: input.params });
}
