import * as z from 'zod';
import { parseOrThrow } from '../validation.ts';
import type { DeadLetter, DeliveryFailure } from './model.ts';
import type { OutboxDeps } from './ports.ts';

export const RedriveRequest = z
  .strictObject({
    /** The dead letters to re-drive (message ids, `<runId>#<seq>`); omitted: the oldest `limit` ones. */
    ids: z
      .array(z.string().regex(/^[A-Za-z0-9-]{1,64}#\d{1,10}$/, 'must be a message id (<runId>#<seq>)'))
      .min(1)
      .max(100)
      .optional(),
    limit: z.number().int().min(1).max(100).default(25),
  })
  .default({ limit: 25 });

export interface RedriveResult {
  redriven: string[];
  stillFailing: { id: string; error: DeliveryFailure }[];
  /** Requested ids that are not (or no longer) dead letters. */
  notFound: string[];
}

/**
 * Publishes dead letters again, once each: a delivered one is removed, a failing one stays with its
 * new error and one more re-drive counted. Consumers dedupe on the message id, so a letter that was
 * in fact delivered earlier does no harm.
 */
export async function redriveDeadLetters(deps: OutboxDeps, body: unknown): Promise<RedriveResult> {
  const request = parseOrThrow(RedriveRequest, body ?? {});
  const letters: DeadLetter[] = [];
  const notFound: string[] = [];
  if (request.ids) {
    for (const id of new Set(request.ids)) {
      const letter = await deps.deadLetters.get(id);
      if (letter) letters.push(letter);
      else notFound.push(id);
    }
  } else {
    letters.push(...(await deps.deadLetters.list({ limit: request.limit })).items);
  }

  const redriven: string[] = [];
  const stillFailing: RedriveResult['stillFailing'] = [];
  if (letters.length === 0) return { redriven, stillFailing, notFound };
  const results = await deps.publisher.publish(letters.map((letter) => letter.message));
  const now = deps.clock().toISOString();
  for (const [index, letter] of letters.entries()) {
    const result = results[index];
    if (result?.ok) {
      await deps.deadLetters.remove(letter.id);
      redriven.push(letter.id);
    } else {
      const error = result?.error ?? { name: 'MissingResult', message: 'the publisher returned no result', category: 'internal' as const };
      await deps.deadLetters.put({ ...letter, error, attempts: letter.attempts + 1, lastFailedAt: now, redrives: letter.redrives + 1 });
      stillFailing.push({ id: letter.id, error });
    }
  }
  return { redriven, stillFailing, notFound };
}
