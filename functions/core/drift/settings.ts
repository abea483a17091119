import * as z from 'zod';

/** An EventBridge Scheduler expression: `rate(n unit)`, `cron(...)` or `at(...)`. */
const ScheduleExpression = z
  .string()
  .trim()
  .regex(/^(rate|cron|at)\(.+\)$/, 'must be rate(...), cron(...) or at(...)');

/** One environment's drift detection: how often a sweep re-plans what SUCCEEDED runs last changed there. */
export const DriftSettings = z
  .strictObject({
    schedule: ScheduleExpression.describe(
      "The sweep's EventBridge Scheduler expression (`rate(15 minutes)`); the embedded stack runs `rate()` schedules (docs/drift-and-subscriptions.md).",
    ),
    maxRuns: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(500)
      .describe('How many of the newest runs a sweep reads to find what each resource was last changed by.'),
  })
  .describe('Drift detection: a sweep on a schedule re-plans, for each resource a SUCCEEDED run last changed, what that run applied.');
export type DriftSettings = z.infer<typeof DriftSettings>;
