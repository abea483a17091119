import { digestOf } from '../canonical-json.ts';
import { PlanChanged, PolicyDenied, ResourceNotManaged, describeError } from '../errors.ts';
import { blastRadiusGate, needsApproval, policyGate, readControl, resourceGate } from '../safety/gates.ts';
import { simulateApply } from '../safety/simulate-apply.ts';
import type { RunDeps } from './deps.ts';
import { assertNotCancelled, loadRun } from './load-run.ts';
import { MAX_LOCKS_IN_CLAIM, resourcesOf } from './run-locks.ts';
import { RunStatus, TaskStatus, packPayload } from './model.ts';
import { onTargetsBatch } from './on-targets.ts';
import type { BatchedOperation } from './on-targets.ts';
import type { Task, TaskPlan } from './model.ts';
import type { Action } from '../actions/contract.ts';

export interface PlanResult {
  planDigest: string;
  /** How many tasks would change something. */
  changes: number;
  /**
   * An APPLY run whose every task may apply unattended: approved by policy here, so the workflow goes
   * straight to Apply (whose gates check autonomy, kill switch, freeze and policy again).
   */
  approvedByPolicy: boolean;
  /**
   * What the plan locks, when its first apply can take them in its claim (at most MAX_LOCKS_IN_CLAIM;
   * else none): the workflow hands them to that apply, which reads them with the run.
   */
  lockResources: string[];
}

const lockHint = (resources: readonly string[] | undefined) => (resources && resources.length <= MAX_LOCKS_IN_CLAIM ? [...resources] : []);

/**
 * Plans every task, without side effects, and records the plans, their diffs and the run's plan
 * digest (what an approval will be bound to). A replay of a planned run returns the recorded digest.
 */
export async function planRun(deps: RunDeps, runId: string): Promise<PlanResult> {
  // The run and the control record, read side by side (neither read depends on the other).
  const [{ run, tasks }, control] = await Promise.all([loadRun(deps, runId), readControl(deps)]);
  assertNotCancelled(run);
  if (run.status !== RunStatus.PLANNING && run.planDigest) {
    // A replay: straight to Apply only if this plan was approved by policy and the run has not moved on.
    const approvedByPolicy = run.status === RunStatus.PLANNED && run.approvedByPolicy === run.planDigest;
    return {
      planDigest: run.planDigest,
      changes: tasks.filter((task) => task.plan && task.plan.change !== 'none').length,
      approvedByPolicy,
      lockResources: lockHint(run.lockResources),
    };
  }

  const failed = async (task: Task, error: unknown): Promise<never> => {
    const described = describeError(error);
    const denied = error instanceof PolicyDenied;
    const notManaged = error instanceof ResourceNotManaged;
    await deps.runs.commit(runId, {
      tasks: [{ index: task.index, patch: { status: TaskStatus.FAILED, error: described, updatedAt: deps.clock().toISOString() } }],
      events: [
        {
          type: denied ? 'PolicyDenied' : notManaged ? 'ResourceNotManaged' : 'TaskPlanFailed',
          level: 'ERROR',
          taskIndex: task.index,
          message: denied || notManaged ? described.message : `planning ${task.action} failed: ${described.message}`,
          payload: {
            ...packPayload(task),
            error: described,
            ...(denied ? { gate: 'plan', policyIds: error.details?.policyIds } : {}),
            ...(notManaged ? { gate: 'plan', resource: error.details?.resource, environment: run.environment } : {}),
          },
        },
      ],
    });
    throw error;
  };
  // Before any plan reads anything: each task's params and resources (managed in the run's environment,
  // allowed by policy), in order. The first task refused is where planning stops, as it stopped there
  // when tasks were planned one by one: the tasks before it are planned, it fails, none after it runs.
  const admitted: BatchedOperation[] = [];
  let stop: (() => Promise<never>) | undefined;
  for (const task of tasks) {
    let action: Action;
    try {
      action = deps.catalog.get(task.action, task.actionVersion);
    } catch (error) {
      stop = () => Promise.reject(error);
      break;
    }
    try {
      const params = action.schema.parse(task.params);
      resourceGate(deps, { gate: 'plan', run, task, action, params, control, now: deps.clock() });
      admitted.push({ task, action, operand: { params } });
    } catch (error) {
      stop = () => failed(task, error);
      break;
    }
  }
  // Every admitted task's plan in one batch (one executor call per executor function), then each
  // answer in task order: the first that failed or that policy refuses fails its task, alone.
  const answers = await onTargetsBatch(deps, run, 'plan', admitted);
  const plans: TaskPlan[] = [];
  for (const [at, { task, action }] of admitted.entries()) {
    const answer = answers[at];
    if (!answer.ok) return failed(task, answer.error);
    const plan = answer.value as TaskPlan;
    try {
      policyGate(deps, { gate: 'plan', run, task, action, plan, control, now: deps.clock() });
    } catch (error) {
      return failed(task, error);
    }
    plans.push(plan);
  }
  if (stop) return stop();

  try {
    blastRadiusGate(deps, plans);
  } catch (error) {
    await deps.runs.commit(runId, {
      events: [{ type: 'BlastRadiusExceeded', level: 'ERROR', message: describeError(error).message, payload: { error: describeError(error) } }],
    });
    throw error;
  }

  const planDigest = digestOf(tasks.map((task, index) => ({ action: task.action, version: task.actionVersion, plan: plans[index] })));
  const changes = plans.filter((plan) => plan.change !== 'none').length;
  if (run.expectedPlanDigest && run.expectedPlanDigest !== planDigest) {
    const error = new PlanChanged(`the plan changed since it was reviewed: expected digest ${run.expectedPlanDigest}, planned ${planDigest}; plan again`, {
      field: 'expectedPlanDigest',
      details: { expected: run.expectedPlanDigest, planned: planDigest },
    });
    await deps.runs.commit(runId, {
      events: [{ type: 'PlanChanged', level: 'ERROR', message: error.message, payload: { expected: run.expectedPlanDigest, planned: planDigest } }],
    });
    throw error;
  }
  // Every gate apply would meet, evaluated read-only (nothing is refused, no rate-limit token is taken).
  const verdicts = await simulateApply(
    deps,
    { ...run, planDigest },
    tasks.map((task, index) => ({ task, action: deps.catalog.get(task.action, task.actionVersion), plan: plans[index] })),
    control,
    deps.clock(),
  );
  const now = deps.clock().toISOString();
  // As the approval gate decides (request-approval.ts), from the same run, plans and control record.
  const lockResources = resourcesOf(plans.map((plan) => ({ plan })));
  const approvedByPolicy =
    run.mode === 'APPLY' &&
    !needsApproval(
      deps,
      run,
      tasks.map((task, index) => ({ action: deps.catalog.get(task.action, task.actionVersion), plan: plans[index] })),
      control,
    );
  await deps.runs.commit(runId, {
    head: run,
    expectStatus: [RunStatus.PLANNING],
    // The resources the plan locks, with it: every apply of the run reads them from the run alone.
    run: {
      status: RunStatus.PLANNED,
      planDigest,
      lockResources,
      ...(approvedByPolicy ? { approvedByPolicy: planDigest } : {}),
    },
    tasks: tasks.map((task, index) => ({
      index: task.index,
      patch: { status: TaskStatus.PLANNED, plan: plans[index], verdicts: verdicts[index], updatedAt: now },
    })),
    events: [
      ...tasks.map((task, index) => ({
        type: 'TaskPlanned',
        taskIndex: task.index,
        message: `${task.action}: ${plans[index].summary}`,
        payload: { ...packPayload(task), change: plans[index].change, resource: plans[index].resource },
      })),
      {
        type: 'PlanSimulated',
        message: `at apply: ${verdicts.filter((verdict) => verdict.wouldApply).length} of ${tasks.length} task(s) would pass every gate${verdicts[0]?.approval.required ? `, after ${verdicts[0].approval.quorum} approval(s) from ${verdicts[0].approval.approvers.join(', ') || 'nobody configured'}` : ''}`,
        payload: { tasks: verdicts.map((verdict, index) => ({ taskIndex: tasks[index].index, ...verdict })) },
      },
      { type: 'RunPlanned', message: `plan ready: ${changes} change(s) in ${tasks.length} task(s)`, payload: { planDigest, changes } },
      ...(approvedByPolicy
        ? [
            {
              type: 'ApprovalNotRequired',
              message: `approved by policy: every task may apply unattended at autonomy ${run.autonomy}`,
              actor: 'policy',
              payload: { planDigest },
            },
          ]
        : []),
    ],
  });
  return { planDigest, changes, approvedByPolicy, lockResources: lockHint(lockResources) };
}
