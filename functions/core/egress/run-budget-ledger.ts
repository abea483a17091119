import * as z from 'zod';
import { BudgetExceeded } from '../errors.ts';

/** Egress budgets: per run (all fetches of one run together) and the per-fetch ceilings. */
export const EgressLimits = z.strictObject({
  /** Requests per run, redirects included. @default 20 */
  requestsPerRun: z.number().int().min(1).max(10_000).default(20),
  /** Response bytes per run. @default 5 MiB */
  bytesPerRun: z
    .number()
    .int()
    .min(1)
    .max(1 << 30)
    .default(5 * 1024 * 1024),
  /** Time spent fetching per run. @default 60_000 */
  timeMsPerRun: z.number().int().min(1).max(3_600_000).default(60_000),
  /** Ceiling of one fetch's `maxBytes`. @default 1 MiB */
  maxBytesPerFetch: z
    .number()
    .int()
    .min(1)
    .max(1 << 30)
    .default(1024 * 1024),
  /** Ceiling of one fetch's `timeoutMs`. @default 10_000 */
  maxTimeMsPerFetch: z.number().int().min(1).max(900_000).default(10_000),
  /** Consecutive failures that open a host's circuit. @default 3 */
  breakerFailures: z.number().int().min(1).max(100).default(3),
  /** How long an open circuit waits before its half-open probe. @default 30_000 */
  breakerOpenMs: z.number().int().min(1).max(3_600_000).default(30_000),
});
export type EgressLimits = z.infer<typeof EgressLimits>;

export interface RunSpend {
  requests: number;
  bytes: number;
  timeMs: number;
}

/**
 * What each run has spent on egress. Kept per process: in the embedded stack that is every run;
 * in AWS it is per container of the fetch function, so a run's budget holds within one container
 * (a DynamoDB counter on the run would make it exact across containers; see the README).
 */
export class RunBudgetLedger {
  readonly #spent = new Map<string, RunSpend>();
  readonly #limits: EgressLimits;

  constructor(limits: EgressLimits) {
    this.#limits = limits;
  }

  spent(runId: string): RunSpend {
    return { ...(this.#spent.get(runId) ?? { requests: 0, bytes: 0, timeMs: 0 }) };
  }

  /** Bytes the run may still receive. */
  remainingBytes(runId: string): number {
    return Math.max(0, this.#limits.bytesPerRun - this.spent(runId).bytes);
  }

  remainingTimeMs(runId: string): number {
    return Math.max(0, this.#limits.timeMsPerRun - this.spent(runId).timeMs);
  }

  /** Counts one request; BudgetExceeded (nothing counted) when the run has none left. */
  chargeRequest(runId: string): void {
    const spent = this.spent(runId);
    if (spent.requests + 1 > this.#limits.requestsPerRun) {
      throw new BudgetExceeded(`run ${runId} has used its ${this.#limits.requestsPerRun} request(s)`, {
        details: { budget: 'requestsPerRun', limit: this.#limits.requestsPerRun },
      });
    }
    this.#spent.set(runId, { ...spent, requests: spent.requests + 1 });
  }

  /** Adds what a fetch received and how long it took (within the limits it was given). */
  record(runId: string, usage: { bytes: number; timeMs: number }): void {
    const spent = this.spent(runId);
    this.#spent.set(runId, { ...spent, bytes: spent.bytes + usage.bytes, timeMs: spent.timeMs + usage.timeMs });
  }

  /** Refuses a fetch before it starts when the run has no bytes or time left. */
  assertHeadroom(runId: string): void {
    if (this.remainingBytes(runId) === 0) {
      throw new BudgetExceeded(`run ${runId} has received its ${this.#limits.bytesPerRun} bytes`, {
        details: { budget: 'bytesPerRun', limit: this.#limits.bytesPerRun },
      });
    }
    if (this.remainingTimeMs(runId) === 0) {
      throw new BudgetExceeded(`run ${runId} has spent its ${this.#limits.timeMsPerRun} ms of fetching`, {
        details: { budget: 'timeMsPerRun', limit: this.#limits.timeMsPerRun },
      });
    }
  }
}
