import * as z from 'zod';
import { screeningEvents } from '../egress/screening-events.ts';
import { digestOf } from '../canonical-json.ts';
import { ActionCategory } from '../actions/contract.ts';
import { IdempotencyKeyReused, RunsAtCapacity, ValidationFailed, WorkflowUnavailable, describeError } from '../errors.ts';
import { effectiveAutonomy } from '../safety/autonomy.ts';
import { agentAutonomyCap, capAutonomy } from '../agents/autonomy-cap.ts';
import type { AutonomyCap } from '../agents/autonomy-cap.ts';
import { admissionGate, environmentCeiling, readControl } from '../safety/gates.ts';
import { checkReasonForAccess } from '../safety/reason-for-access.ts';
import { parseOrThrow } from '../validation.ts';
import type { RunDeps } from './deps.ts';
import { taskIdempotencyKey } from './idempotency-key.ts';
import { RunStatus, TaskStatus } from './model.ts';
import type { Principal, Run, Task } from './model.ts';

/**
 * One DynamoDB transaction holds at most 100 items. The largest is the plan commit: the run head, one
 * update per task and, per event (one per task + RunPlanned), the event and its outbox row:
 * 1 + N + 2 (N + 1) ≤ 100, so N ≤ 32; 25 leaves room.
 */
export const MAX_TASKS_PER_RUN = 25;

export const CreateRunRequest = z.strictObject({
  goal: z.string().trim().min(1).max(500),
  mode: z.enum(['PLAN', 'APPLY']),
  tasks: z
    .array(
      z.strictObject({
        action: z.string().min(1).max(100),
        params: z.record(z.string(), z.unknown()).default({}),
      }),
    )
    .min(1)
    .max(MAX_TASKS_PER_RUN),
  reasonForAccess: z.string().trim().min(1).max(1000).optional(),
  /** One of the environments in maestro.config.yaml. @default the config's defaultEnvironment */
  environment: z.string().min(1).max(32).optional(),
  /** The autonomy the run asks for (0-3); it never exceeds the environment's ceiling. @default the ceiling */
  autonomy: z.number().int().min(0).max(3).optional(),
  /** The digest of a plan reviewed before (a PLAN run's `planDigest`): the run fails with PlanChanged, before any gate, if it plans anything else. */
  expectedPlanDigest: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be a plan digest (64 hex characters)')
    .optional(),
});
export type CreateRunRequest = z.infer<typeof CreateRunRequest>;

export interface CreateRunCommand {
  body: unknown;
  principal: Principal;
  correlationId: string;
  idempotencyKey?: string;
  /** A rollback run (create-rollback-run.ts): its id, chosen before, and the run it undoes. */
  rollback?: { runId: string; of: string };
  /** Ceilings of the caller's own (e.g. a trigger's), besides an agent's from the config: the run gets the lowest. */
  autonomyCaps?: readonly AutonomyCap[];
  /** Where the request came from: a template version, a trigger's firing (recorded on the run and in RunRequested). */
  origin?: { template?: { name: string; version: number }; trigger?: { id: string; firingKey: string } };
}

export interface CreateRunResult {
  runId: string;
  /** False when an earlier request with the same Idempotency-Key created the run. */
  created: boolean;
}

/**
 * Validates a run request against the catalog, records the run PENDING with its tasks, and starts
 * its workflow. A repeated Idempotency-Key with the same body returns the first run (and makes sure
 * its workflow runs); with another body it is refused.
 */
export async function createRun(deps: RunDeps, command: CreateRunCommand): Promise<CreateRunResult> {
  const request = parseOrThrow(CreateRunRequest, command.body);
  const resolved = request.tasks.map((task, index) => {
    const action = deps.catalog.get(task.action, undefined, `tasks[${index}].action`);
    const params = parseOrThrow(action.schema, task.params, `tasks[${index}].params`) as Record<string, unknown>;
    return { action, params };
  });

  const environment = request.environment ?? deps.guardrails.defaultEnvironment;
  if (!Object.hasOwn(deps.guardrails.environments, environment)) {
    throw new ValidationFailed(`unknown environment "${environment}"; known: ${Object.keys(deps.guardrails.environments).join(', ')}`, {
      field: 'environment',
    });
  }
  const privileged = resolved.some(({ action }) => action.safety.category !== ActionCategory.READ);
  const reasonForAccess = privileged ? checkReasonForAccess(request.reasonForAccess, deps.guardrails.reasonForAccess.minLength) : request.reasonForAccess;

  // A retried request is answered from its Idempotency-Key before admission: a retry of a request
  // that already succeeded must not be rate limited or refused for capacity.
  const requestHash = digestOf({ principal: command.principal.id, request, ...command.origin });
  const idempotency = command.idempotencyKey ? { key: `${command.principal.id}#${command.idempotencyKey}`, requestHash } : undefined;
  const earlier = idempotency ? await deps.runs.findByIdempotencyKey(idempotency.key) : undefined;
  if (earlier) return replay(deps, earlier, requestHash);

  await admissionGate(deps, command.principal.id, deps.clock());
  const active = await deps.runs.countActive();
  if (active >= deps.guardrails.admission.maxActiveRuns) {
    throw new RunsAtCapacity(`${active} runs are active, the most this deployment admits; try again shortly`, { details: { retryAfterSeconds: 5 } });
  }
  const control = await readControl(deps);
  // Capped at admission by the caller's own ceilings (an agent's, a trigger's): the gates then judge the run at that level.
  const { autonomy, cappedBy } = capAutonomy(effectiveAutonomy(request.autonomy, environmentCeiling(deps, environment), control.killSwitch.engaged), [
    agentAutonomyCap(deps.guardrails, command.principal, environment),
    ...(command.autonomyCaps ?? []),
  ]);

  // Text that reads like instructions to a planner is flagged (never dropped): policy and the approval gate decide.
  const goalScreening = screeningEvents(request.goal, 'goal');
  const now = deps.clock().toISOString();
  const runId = command.rollback?.runId ?? deps.newId();
  const run: Run = {
    id: runId,
    goal: request.goal,
    mode: request.mode,
    environment,
    status: RunStatus.PENDING,
    autonomy,
    reasonForAccess,
    requestedBy: command.principal.id,
    requesterRoles: [...command.principal.roles],
    ...(goalScreening.length > 0 ? { inputFlags: ['injection-suspected'] } : {}),
    correlationId: command.correlationId,
    createdAt: now,
    updatedAt: now,
    taskCount: resolved.length,
    executionArn: deps.engine.executionArnOf(runId),
    eventSeq: 0,
    lastEventHash: '',
    ...(command.rollback ? { rollbackOf: command.rollback.of } : {}),
    ...(request.expectedPlanDigest ? { expectedPlanDigest: request.expectedPlanDigest } : {}),
    ...(command.principal.onBehalfOf ? { onBehalfOf: command.principal.onBehalfOf } : {}),
    ...command.origin,
  };
  const tasks: Task[] = resolved.map(({ action, params }, index) => ({
    runId,
    index,
    action: action.name,
    actionVersion: action.version,
    pack: deps.catalog.packOf(action.name),
    params,
    status: TaskStatus.PENDING,
    attempt: 0,
    idempotencyKey: taskIdempotencyKey({ runId, taskIndex: index, action: action.name, actionVersion: action.version, params }),
    updatedAt: now,
  }));

  const result = await deps.runs.create({
    run,
    tasks,
    events: [
      {
        type: 'RunRequested',
        message: `${command.principal.id} requested a run (${request.mode}): ${request.goal}`,
        actor: command.principal.id,
        payload: {
          mode: request.mode,
          environment,
          autonomy,
          ...(cappedBy ? { autonomyCappedBy: cappedBy } : {}),
          goalScreening: goalScreening.length > 0 ? 'flagged' : 'clean',
          executionArn: run.executionArn,
          tasks: tasks.map((task) => ({ action: task.action, version: task.actionVersion })),
          reasonForAccess: request.reasonForAccess,
          ...(command.rollback ? { rollbackOf: command.rollback.of } : {}),
          ...(request.expectedPlanDigest ? { expectedPlanDigest: request.expectedPlanDigest } : {}),
          ...(command.principal.kind === 'agent' ? { principalKind: 'agent', onBehalfOf: command.principal.onBehalfOf } : {}),
          ...command.origin,
        },
      },
      ...goalScreening,
    ],
    idempotency,
  });

  // Lost a race with a concurrent request carrying the same key: answer as its replay.
  if (!result.created) return replay(deps, result, requestHash);
  await startWorkflow(deps, result.run);
  return { runId, created: true };
}

/** The answer to a repeated Idempotency-Key: the first run for the same body, 409 for another body. */
async function replay(deps: RunDeps, earlier: { runId: string; requestHash: string }, requestHash: string): Promise<CreateRunResult> {
  if (earlier.requestHash !== requestHash) {
    throw new IdempotencyKeyReused('this Idempotency-Key was already used with a different request body', { field: 'Idempotency-Key' });
  }
  const existing = await deps.runs.get(earlier.runId);
  // The first request may have died between recording the run and starting its workflow.
  if (existing && existing.status === RunStatus.PENDING) await startWorkflow(deps, existing);
  return { runId: earlier.runId, created: false };
}

async function startWorkflow(deps: RunDeps, run: Run): Promise<void> {
  try {
    await deps.engine.startRun({ runId: run.id, correlationId: run.correlationId });
  } catch (error) {
    await deps.runs.commit(run.id, {
      expectStatus: [RunStatus.PENDING],
      run: { status: RunStatus.FAILED, finishedAt: deps.clock().toISOString(), error: describeError(error) },
      events: [{ type: 'RunFailed', level: 'ERROR', message: 'the workflow could not be started', payload: { error: describeError(error) } }],
    });
    throw new WorkflowUnavailable('the run was recorded but its workflow could not be started; it is marked FAILED', { cause: error });
  }
}
