import type { Action } from '../actions/contract.ts';
import { ValidationFailed, describeError } from '../errors.ts';
import { own } from '../own.ts';
import { RunMode, RunStatus, TaskStatus, isFinished } from '../runs/model.ts';
import type { Run, Task } from '../runs/model.ts';
import { planOnTargets } from '../runs/on-targets.ts';
import { readControl, resourceGate } from '../safety/gates.ts';
import { driftDetectedMessage, findingIdOf, observedDigestOf } from './drift-message.ts';
import { DriftStatus } from './model.ts';
import type { DriftFinding } from './model.ts';
import type { DriftDeps } from './ports.ts';

/** How many newest runs a sweep reads when the environment sets no `drift.maxRuns` (an on-demand sweep). */
const DEFAULT_MAX_RUNS = 500;
const PAGE = 100;

/** Task statuses whose change reached the resource. */
const APPLIED: ReadonlySet<string> = new Set([TaskStatus.APPLIED, TaskStatus.VERIFIED, TaskStatus.ROLLED_BACK]);
/** Plans that change a resource (a `read` or `none` leaves nothing to drift from). */
const CHANGES: ReadonlySet<string> = new Set(['create', 'update', 'delete']);

export interface DriftSweepResult {
  environment: string;
  sweptAt: string;
  /** Resources re-planned. */
  checked: number;
  inSync: number;
  /** Findings this sweep recorded for the first time (each announced once as DriftDetected). */
  detected: DriftFinding[];
  /** Findings seen again (already on record: nothing announced). */
  stillDrifted: string[];
  /** Open findings whose resource is back in sync, or drifted on to another state. */
  resolved: string[];
  /** Resources not re-planned, with why. */
  skipped: { resource: string; reason: string }[];
}

interface LastChange {
  run: Run;
  task: Task;
}

/**
 * Re-plans, for each resource a finished run of the environment last changed, the task that changed it:
 * when that run SUCCEEDED, a plan that would now change something means the resource drifted from
 * what the run applied. Each drift is a finding, recorded once per observed state with its
 * DriftDetected announcement; a sweep that sees it again only marks it seen. Plans run where every plan
 * runs (the executors, behind the managed-resources and policy gates); nothing is written to a target.
 */
export async function sweepDrift(deps: DriftDeps, input: { environment: string; correlationId: string }): Promise<DriftSweepResult> {
  const { environment } = input;
  const settings = own(deps.guardrails.environments, environment);
  if (!settings) {
    throw new ValidationFailed(`unknown environment "${environment}"; known: ${Object.keys(deps.guardrails.environments).join(', ')}`, {
      field: 'environment',
    });
  }
  const { lastChanges, busy } = await lastChangesOf(deps, environment, settings.drift?.maxRuns ?? DEFAULT_MAX_RUNS);
  const now = deps.clock().toISOString();
  const result: DriftSweepResult = { environment, sweptAt: now, checked: 0, inSync: 0, detected: [], stillDrifted: [], resolved: [], skipped: [] };
  const control = await readControl(deps);
  /** Per resource checked: the finding id it is drifted in now, or null when in sync. */
  const observed = new Map<string, string | null>();

  for (const [resource, { run, task }] of lastChanges) {
    const skip = (reason: string) => result.skipped.push({ resource, reason });
    if (run.status !== RunStatus.SUCCEEDED) {
      skip(`last changed by run ${run.id}, which ended ${run.status}`);
      continue;
    }
    if (busy.has(resource)) {
      skip(`run ${busy.get(resource)} is changing it`);
      continue;
    }
    let action: Action;
    try {
      action = deps.catalog.get(task.action, task.actionVersion);
    } catch (error) {
      skip(`${task.action}@${task.actionVersion} is no longer in the catalog (${describeError(error).message})`);
      continue;
    }
    if (action.runsInControlPlane) {
      skip(`${action.name} acts on Maestro's own state`);
      continue;
    }
    if (action.name === 'run.undo-task') {
      skip(`last changed by rollback run ${run.id}: an undo has no applied state of its own to re-plan`);
      continue;
    }
    try {
      const params = action.schema.parse(task.params);
      resourceGate(deps, { gate: 'plan', run, task, action, params, control, now: deps.clock() });
      const plan = await planOnTargets(deps, run, task, action, params);
      result.checked += 1;
      if (!CHANGES.has(plan.change)) {
        result.inSync += 1;
        observed.set(resource, null);
        continue;
      }
      const observedDigest = observedDigestOf(plan);
      const finding: DriftFinding = {
        id: findingIdOf(environment, resource, observedDigest),
        environment,
        resource,
        status: DriftStatus.OPEN,
        runId: run.id,
        taskIndex: task.index,
        action: task.action,
        actionVersion: task.actionVersion,
        params: task.params,
        change: plan.change,
        summary: plan.summary,
        diff: plan.diff,
        observedDigest,
        detectedAt: now,
        lastSeenAt: now,
        correlationId: input.correlationId,
      };
      observed.set(resource, finding.id);
      const recorded = await deps.drift.record(finding, driftDetectedMessage(finding));
      if (recorded.created) result.detected.push(recorded.finding);
      else result.stillDrifted.push(recorded.finding.id);
    } catch (error) {
      skip(`re-planning ${task.action} failed: ${describeError(error).name}: ${describeError(error).message}`);
    }
  }

  // Open findings of a resource checked now: resolved when it is in sync, superseded when it drifted on.
  for (const finding of await openFindings(deps, environment)) {
    if (!observed.has(finding.resource)) continue;
    const current = observed.get(finding.resource);
    if (current === finding.id) continue;
    await deps.drift.update(finding.id, { status: DriftStatus.RESOLVED, resolvedAt: now, resolution: current === null ? 'in-sync' : 'superseded' }, [
      DriftStatus.OPEN,
      DriftStatus.REMEDIATING,
    ]);
    result.resolved.push(finding.id);
  }
  return result;
}

/**
 * The newest finished APPLY run (and its last task) that changed each resource of the environment,
 * from the newest `maxRuns` runs; and the resources an unfinished run may be changing (not judged now).
 */
async function lastChangesOf(deps: DriftDeps, environment: string, maxRuns: number) {
  const lastChanges = new Map<string, LastChange>();
  const busy = new Map<string, string>();
  let cursor: string | undefined;
  let read = 0;
  do {
    const page = await deps.runs.listRuns({ limit: Math.min(PAGE, maxRuns - read), cursor });
    read += page.items.length;
    cursor = page.nextCursor;
    for (const summary of page.items) {
      if (summary.environment !== environment || summary.mode !== RunMode.APPLY) continue;
      const found = await deps.runs.getWithTasks(summary.id);
      if (!found) continue;
      const { run, tasks } = found;
      const ordered = [...tasks].sort((a, b) => b.index - a.index);
      if (!isFinished(run)) {
        for (const task of ordered) for (const resource of writesOf(deps, task)) if (!busy.has(resource)) busy.set(resource, run.id);
        continue;
      }
      for (const task of ordered) {
        if (!task.plan || !CHANGES.has(task.plan.change) || !APPLIED.has(task.status)) continue;
        // Newest first: the first run seen for a resource is the one that last changed it.
        if (!lastChanges.has(task.plan.resource)) lastChanges.set(task.plan.resource, { run, task });
      }
    }
  } while (cursor && read < maxRuns);
  return { lastChanges, busy };
}

/** What a task of an unfinished run may write: its plan's resource, and what its action declares it writes. */
function writesOf(deps: DriftDeps, task: Task): string[] {
  const resources = task.plan ? [task.plan.resource] : [];
  try {
    const action = deps.catalog.get(task.action, task.actionVersion);
    for (const ref of action.resources(action.schema.parse(task.params))) if (ref.access === 'write') resources.push(ref.uri);
  } catch {
    // An action no longer in the catalog: its plan's resource (if any) is all that is known.
  }
  return resources;
}

async function openFindings(deps: DriftDeps, environment: string): Promise<DriftFinding[]> {
  const findings: DriftFinding[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.drift.list({ environment, status: [DriftStatus.OPEN, DriftStatus.REMEDIATING], limit: 100, cursor });
    findings.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return findings;
}
