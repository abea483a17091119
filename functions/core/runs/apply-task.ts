import { ConcurrentModification, InvalidRunTransition, LeaseLost, PolicyDenied, RateLimited, StalePlan, TransientError, describeError } from '../errors.ts';
import { actionRateGate, applyGate, changesSomething, isApproved, policyGate, readControl } from '../safety/gates.ts';
import type { ControlState } from '../control/model.ts';
import { LOCK_LEASE_MS, MAX_LOCKS_IN_CLAIM, acquireRunLocks, heldRunLocks, prepareRunLocks } from './run-locks.ts';
import { onTargets } from './on-targets.ts';
import { prepareLocks } from '../locks/model.ts';
import type { RunDeps } from './deps.ts';
import { assertNotCancelled, loadForApply } from './load-run.ts';
import { RunStatus, TaskStatus, packPayload } from './model.ts';
import type { Run, TaskStatus as TaskStatusType } from './model.ts';
import { own } from '../own.ts';
import { contentScreeningEvent } from '../egress/screening-events.ts';
import { MAX_DEFERRED_OUTCOME_LENGTH, appliedRecord, privilegedPayload } from './applied-record.ts';
import type { DeferredApply } from './applied-record.ts';

const DONE: ReadonlySet<TaskStatusType> = new Set([TaskStatus.APPLIED, TaskStatus.VERIFIED]);

/**
 * Applies one task from its recorded plan: the safety gates, the run's locks, the action's rate
 * limit, then a claim on the task (a lease), then the action. A task already applied returns its
 * recorded outcome without calling the action again; a task caught mid-apply by a crash is claimed
 * again once its lease has run out and applied under the same idempotency key, which the action uses
 * to recognise its own earlier write. Everything but the action is the control plane's; the action
 * runs in a target-only executor (see on-targets.ts) while this process keeps the claim's lease alive.
 * With `deferRecord`, the run's last task returns its record (`deferred`) instead of committing it:
 * the workflow carries it to Verify, Finalize or RollBack, whichever commits next (applied-record.ts).
 */
export async function applyTask(
  deps: RunDeps,
  input: { runId: string; taskIndex: number; lockHint?: readonly string[]; deferRecord?: boolean },
  observer?: ApplyObserver,
): Promise<{ status: TaskStatusType; deferred?: DeferredApply }> {
  const { run, task, control, quiesceFlags: readFlags, lockResources, locks, unread } = await loadForApply(deps, input.runId, input.taskIndex, input.lockHint);
  if (task) observer?.task({ action: task.action, resource: task.plan?.resource });
  assertNotCancelled(run);
  if (!task) throw new InvalidRunTransition(`run ${run.id} has no task ${input.taskIndex}`);
  if (DONE.has(task.status)) {
    observer?.status(run.status, run.status);
    return { status: task.status };
  }
  if (!task.plan || (task.status !== TaskStatus.PLANNED && task.status !== TaskStatus.APPLYING)) {
    throw new InvalidRunTransition(`task ${task.index} of run ${run.id} is ${task.status}; only a planned task can be applied`);
  }
  if (run.status !== RunStatus.PLANNED && run.status !== RunStatus.AWAITING_APPROVAL && run.status !== RunStatus.APPLYING) {
    throw new InvalidRunTransition(`run ${run.id} is ${run.status}; it cannot apply`);
  }

  const action = deps.catalog.get(task.action, task.actionVersion);
  // The safety envelope, re-checked before every apply: control record (read with the run, no cache,
  // or taken as the kill switch off and checked in the claim: load-run.ts), autonomy, policy (the last
  // two only for a plan that changes something: changesSomething).
  const gate = async (current: ControlState) => {
    try {
      await applyGate(deps, { run, action, control: current, now: deps.clock(), plan: task.plan });
      if (changesSomething(task.plan)) policyGate(deps, { gate: 'apply', run, task, action, plan: task.plan!, control: current, now: deps.clock() });
    } catch (error) {
      const described = describeError(error);
      await deps.runs.commit(run.id, {
        head: run,
        events: [
          {
            type: error instanceof PolicyDenied ? 'PolicyDenied' : `ApplyRefused`,
            level: 'ERROR',
            taskIndex: task.index,
            message: `${task.action}: not applied: ${described.message}`,
            payload: {
              ...packPayload(task),
              gate: 'apply',
              error: described,
              ...(error instanceof PolicyDenied ? { policyIds: error.details?.policyIds } : {}),
            },
          },
        ],
      });
      throw error;
    }
  };
  await gate(control);
  // The run's locks: as its last apply recorded them while they have most of their lease; else taken
  // (or renewed) in the claim's transaction when none needs the line; else taken one by one now.
  const held = heldRunLocks(run, lockResources, deps.clock());
  // Read with the run (the workflow's hint), or read now; either way none is taken yet.
  const inClaim = !held && lockResources.length > 0 && lockResources.length <= MAX_LOCKS_IN_CLAIM && (locks !== undefined || !!deps.locks.prepareAll);
  let takeLocks = !inClaim
    ? undefined
    : locks
      ? prepareLocks(locks, { resources: lockResources, runId: run.id, taskIndex: task.index, leaseMs: LOCK_LEASE_MS, now: deps.clock() })
      : await prepareRunLocks(deps, run, task, lockResources);
  // When one needs the line, the one-transaction take would refuse too: one by one at once.
  let fencingTokens: Record<string, number> = held ?? takeLocks?.tokens ?? (await acquireRunLocks(deps, run, task, lockResources, { oneByOne: inClaim }));
  try {
    await actionRateGate(deps, action, deps.clock());
  } catch (error) {
    if (error instanceof RateLimited) {
      await deps.runs.commit(run.id, {
        head: run,
        events: [
          {
            type: 'ApplyRateLimited',
            level: 'WARN',
            taskIndex: task.index,
            message: `${task.action}: ${error.message}; the workflow retries`,
            payload: { ...packPayload(task), retryAfterSeconds: error.details?.retryAfterSeconds },
          },
        ],
      });
    }
    throw error;
  }
  const privileged = privilegedPayload(run, action);
  const attempt = task.attempt + 1;
  // What the gate took as so unread, checked in the claim: the kill switch off, and no quiesce flag
  // (until one is found: then the flags are read and go to the write guard, as when read with the run).
  let quiesceFlags = readFlags;
  let uncheckedTargets = unread?.quiesceTargets ?? [];
  const claim = (claimedAt: Date) => {
    const runPatch = {
      ...(run.status === RunStatus.APPLYING ? {} : { status: RunStatus.APPLYING }),
      ...(held || lockResources.length === 0 ? {} : { locks: { tokens: fencingTokens, leaseExpiresAt: claimedAt.getTime() + LOCK_LEASE_MS } }),
    };
    // Fencing: a run whose lock expired or passed to another run must not write (checked in the claim's
    // transaction; a lock taken in it needs no check).
    const fencingToken = fencingTokens[task.plan!.resource];
    return deps.runs.commit(run.id, {
      head: run,
      fence: fencingToken !== undefined && !takeLocks ? { resource: task.plan!.resource, fencingToken, now: claimedAt.getTime() } : undefined,
      takeLocks,
      ...(unread
        ? {
            unchanged: {
              killSwitch: { engagedByDefault: deps.guardrails.killSwitch.engaged },
              quiesceTargets: uncheckedTargets,
              now: claimedAt.toISOString(),
            },
          }
        : {}),
      expectStatus: [RunStatus.PLANNED, RunStatus.AWAITING_APPROVAL, RunStatus.APPLYING],
      run: Object.keys(runPatch).length > 0 ? runPatch : undefined,
      tasks: [
        {
          index: task.index,
          claim: { now: claimedAt.getTime() },
          patch: { status: TaskStatus.APPLYING, attempt, leaseExpiresAt: claimedAt.getTime() + APPLY_LEASE_MS, updatedAt: claimedAt.toISOString() },
        },
      ],
      events: [
        ...(run.status === RunStatus.APPLYING ? [] : [{ type: 'RunApplying', message: 'applying the plan' }]),
        {
          type: 'TaskApplying',
          taskIndex: task.index,
          message: `${task.action}: ${task.plan!.summary} (attempt ${attempt})`,
          payload: { ...packPayload(task), idempotencyKey: task.idempotencyKey, attempt, locks: fencingTokens, ...privileged },
        },
      ],
    });
  };
  let claimed: Run | undefined;
  try {
    for (let round = 1; claimed === undefined; round += 1) {
      try {
        claimed = await claim(deps.clock());
      } catch (error) {
        const changed = error instanceof ConcurrentModification ? error.details?.changed : undefined;
        if (changed === undefined || round >= MAX_CLAIM_ROUNDS) throw error;
        if (changed === 'locks') {
          // A lock changed since it was read (another run took it, or joined its line): taken apart, as without.
          takeLocks = undefined;
          fencingTokens = await acquireRunLocks(deps, run, task, lockResources);
        } else if (changed === 'killSwitch') {
          // Engaged since the gate ran (or it starts engaged): refused as the gate refuses, with the record read now.
          await gate(await readControl(deps));
        } else {
          quiesceFlags = await deps.quiesceFlags();
          uncheckedTargets = [];
        }
      }
    }
  } catch (error) {
    if (!(error instanceof LeaseLost)) throw error;
    // The lock passed on: the task fails, unapplied (a replay finds it FAILED and applies nothing).
    const described = describeError(error);
    await deps.runs.commit(run.id, {
      head: run,
      tasks: [{ index: task.index, patch: { status: TaskStatus.FAILED, error: described, updatedAt: deps.clock().toISOString() } }],
      events: [
        {
          type: 'TaskFailed',
          level: 'ERROR',
          taskIndex: task.index,
          message: `${task.action} failed: ${described.message}`,
          payload: { ...packPayload(task), error: described, attempt },
        },
      ],
    });
    throw error;
  }

  let outcome: Record<string, unknown>;
  const head = claimed;
  try {
    const timeMs = own(deps.guardrails.actions, task.action)?.timeMs ?? action.safety.budgets.timeMs;
    // The action runs in an executor that holds the targets' clients only; the lease is renewed here.
    outcome = (await holdingLease(deps, run.id, task.index, attempt, () =>
      onTargets(deps, run, task, action, 'apply', { plan: task.plan, timeMs, attempt, ...(quiesceFlags ? { quiesceFlags } : {}) }),
    )) as Record<string, unknown>;
  } catch (error) {
    const described = describeError(error);
    // A transient failure leaves the task APPLYING: the workflow retries it under the same key.
    const retryable = error instanceof TransientError;
    await deps.runs.commit(run.id, {
      head,
      // A retryable failure gives up the claim at once, so the workflow's retry need not wait out the lease.
      tasks: [
        {
          index: task.index,
          patch: retryable ? { leaseExpiresAt: 0 } : { status: TaskStatus.FAILED, error: described, updatedAt: deps.clock().toISOString() },
        },
      ],
      events: [
        {
          type: retryable ? 'TaskAttemptFailed' : 'TaskFailed',
          level: retryable ? 'WARN' : 'ERROR',
          taskIndex: task.index,
          message: `${task.action} failed${retryable ? ' (will retry)' : ''}: ${described.message}`,
          payload: { ...packPayload(task), error: described, attempt },
        },
        // An approval is bound to what the plan read: a resource changed since voids it.
        ...(error instanceof StalePlan && isApproved(run)
          ? [
              {
                type: 'ApprovalVoided',
                level: 'WARN' as const,
                taskIndex: task.index,
                message: `the approval no longer holds: ${described.message}`,
                payload: { ...packPayload(task), planDigest: run.planDigest },
              },
            ]
          : []),
      ],
    });
    throw error;
  }
  const appliedAt = deps.clock().toISOString();
  observer?.status(run.status, claimed.status);
  // The run's last task: its record goes with the run's next commit (Verify's or Finalize's), which
  // comes right after it, carried in the workflow's state; an outcome too large for the state, or one
  // from the internet (screened in its own event), is recorded now.
  const internet = action.safety.budgets.network === 'internet';
  if (input.deferRecord && task.index === run.taskCount - 1 && !internet && JSON.stringify(outcome).length <= MAX_DEFERRED_OUTCOME_LENGTH) {
    return { status: TaskStatus.APPLIED, deferred: { taskIndex: task.index, attempt, outcome, appliedAt } };
  }
  const record = appliedRecord(task, { outcome, at: appliedAt, privileged });
  await deps.runs.commit(run.id, {
    head,
    tasks: [record.task],
    events: [
      record.event,
      // Content from the internet is screened before an agent reads it: the verdict goes in the trail.
      ...(internet ? [contentScreeningEvent({ taskIndex: task.index, action: task.action, outcome })] : []),
    ],
  });
  return { status: TaskStatus.APPLIED };
}

/** What an apply tells whoever hosts it about what it read: its task, and the run's status before and after. */
export interface ApplyObserver {
  task(task: { action: string; resource?: string }): void;
  status(before: string, after: string): void;
}

/**
 * The claim on a task lasts APPLY_LEASE_MS and is renewed while the action works, so a duplicate
 * invocation waits (DuplicateInFlight) while the first is alive, and a crashed applier's claim runs
 * out within one lease: the replay then applies again under the same idempotency key.
 */
const APPLY_LEASE_MS = 10_000;
/** Claims one apply tries while what its gate took as so keeps changing (a kill switch flipped back and forth). */
const MAX_CLAIM_ROUNDS = 3;
const RENEW_EVERY_MS = 3_000;

async function holdingLease<T>(deps: RunDeps, runId: string, taskIndex: number, attempt: number, work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => {
    deps.runs.renewTaskLease(runId, taskIndex, attempt, deps.clock().getTime() + APPLY_LEASE_MS).catch(() => undefined);
  }, RENEW_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
