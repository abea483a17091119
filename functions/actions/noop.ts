import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { ActionFailed, TransientError, VerificationFailed } from '../core/errors.ts';
import type { Action } from '../core/actions/contract.ts';

const Stage = z.enum(['plan', 'apply', 'verify', 'rollback']);

const NoopParams = z.strictObject({
  /** Stands in for slow work. */
  sleepMs: z.number().int().min(0).max(60_000).optional(),
  /** A deliberate failure at one stage, for drills and tests of the failure paths (like a chaos switch). */
  failIn: Stage.optional(),
  /** Apply throws TransientError on its first N attempts (a throttled dependency): the workflow retries it. */
  transientFailures: z.number().int().min(1).max(3).optional(),
});
type NoopParams = z.infer<typeof NoopParams>;

/** Does nothing, slowly if asked. Useful to see a workflow move, and to rehearse failures. */
export const noop: Action<NoopParams> = {
  name: 'noop',
  version: '1.0.0',
  description: 'Does nothing (optionally sleeps, or fails at a chosen stage).',
  safety: { category: 'READ', requiresApproval: false, budgets: { timeMs: 65_000, network: 'none' } },
  schema: NoopParams,
  resources: () => [],
  examples: [
    { description: 'Do nothing', params: {} },
    { description: 'Stand in for slow work', params: { sleepMs: 50 } },
  ],

  async plan(params) {
    if (params.failIn === 'plan') throw new ActionFailed('noop was asked to fail in plan');
    return {
      summary: params.sleepMs ? `wait ${params.sleepMs} ms` : 'nothing to do',
      change: 'none',
      resource: 'noop://',
      diff: '',
      preconditions: {},
      data: { sleepMs: params.sleepMs ?? 0, failIn: params.failIn, transientFailures: params.transientFailures },
    };
  },

  async apply(plan, ctx) {
    const sleepMs = Number(plan.data.sleepMs ?? 0);
    if (sleepMs > 0) await sleep(sleepMs, undefined, { signal: ctx.signal });
    if (plan.data.failIn === 'apply') throw new ActionFailed('noop was asked to fail in apply');
    const attempt = ctx.attempt ?? 1;
    if (attempt <= Number(plan.data.transientFailures ?? 0)) throw new TransientError(`noop was asked to fail transiently (attempt ${attempt})`);
    return { sleptMs: sleepMs, attempt };
  },

  async verify(plan) {
    if (plan.data.failIn === 'verify') throw new VerificationFailed('noop was asked to fail in verify');
  },

  async rollback(plan) {
    if (plan.data.failIn === 'rollback') throw new ActionFailed('noop was asked to fail in rollback');
  },
};
