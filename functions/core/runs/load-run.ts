import { RunCancelled, RunNotFound } from '../errors.ts';
import type { RunDeps } from './deps.ts';
import { RunStatus } from './model.ts';
import type { Run, Task } from './model.ts';
import type { ControlState } from '../control/model.ts';
import type { QuiesceFlag } from '../dr/ports.ts';
import type { LockState } from '../locks/model.ts';
import { activeFreeze } from '../safety/change-freeze.ts';
import { readControl } from '../safety/gates.ts';
import { resourcesOf } from './run-locks.ts';

export async function loadRun(deps: RunDeps, runId: string): Promise<{ run: Run; tasks: Task[] }> {
  const found = await deps.runs.getWithTasks(runId);
  if (!found) throw new RunNotFound(`run ${runId} does not exist`, { field: 'runId' });
  return found;
}

/** Every workflow step stops at a cancelled run: the cancel wins over whatever was about to happen. */
export function assertNotCancelled(run: Run): void {
  if (run.status === RunStatus.CANCELLED) throw new RunCancelled(`run ${run.id} was cancelled`);
  if (run.cancelRequested) throw new RunCancelled(`run ${run.id} was cancelled by ${run.cancelRequested.by}; rolling back what it applied`);
}

/** The kill switch as the gate takes it when it does not read the control record: off, which the claim checks. */
const ASSUMED_CONTROL: ControlState = { killSwitch: { engaged: false }, freezeOverrides: [] };

/**
 * What an apply decides on: the run, its task, the control record, the resources the plan locks and,
 * where the store reads them together, the DR quiesce flags; one round trip when the run recorded its
 * lock resources with its plan, else the run with all its tasks and the control record.
 *
 * With the store's one round trip, the control record is read only when the gate needs more of it
 * than the kill switch (a change freeze in force somewhere: its overrides) or the kill switch starts
 * engaged; otherwise the gate takes it as off and the claim checks that in its transaction (`unchanged`:
 * an engaged kill switch refuses the claim, and the apply reads the record and refuses as the gate
 * would). Likewise the quiesce flags: taken as none, the claim checks that no configured target's flag
 * holds, and on a refusal the apply reads them and claims again.
 */
export async function loadForApply(
  deps: RunDeps,
  runId: string,
  taskIndex: number,
  lockHint?: readonly string[],
): Promise<{
  run: Run;
  task: Task | undefined;
  control: ControlState;
  quiesceFlags?: QuiesceFlag[];
  lockResources: string[];
  /** The locks of `lockResources`, read with the run (when the hint was what the plan locks). */
  locks?: (LockState | undefined)[];
  unread?: Unread;
}> {
  const initialControl = { killSwitch: { engaged: deps.guardrails.killSwitch.engaged } };
  const readsControl = initialControl.killSwitch.engaged || freezeInForce(deps, deps.clock());
  const hint = lockHint && lockHint.length > 0 ? lockHint : undefined;
  const snapshot = await deps.applyReads?.read({ runId, taskIndex, initialControl, control: readsControl, quiesceFlags: false, locks: hint });
  if (snapshot?.run.lockResources) {
    const { lockResources } = snapshot.run;
    // The hint comes with the workflow's input: its locks count only if they are exactly what the plan recorded.
    const hinted = snapshot.locks !== undefined && hint !== undefined && sameList(hint, lockResources);
    return {
      run: snapshot.run,
      task: snapshot.task,
      control: snapshot.control ?? ASSUMED_CONTROL,
      quiesceFlags: [],
      lockResources,
      ...(hinted ? { locks: snapshot.locks } : {}),
      unread: { quiesceTargets: deps.applyReads!.quiesceTargets },
    };
  }
  const { run, tasks } = await loadRun(deps, runId);
  return {
    run,
    task: tasks.find((candidate) => candidate.index === taskIndex),
    control: snapshot?.control ?? (await readControl(deps)),
    lockResources: resourcesOf(tasks),
  };
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((item, i) => item === b[i]);

/** What loadForApply took as so without reading it, for the claim to check: the kill switch off (always checked), no quiesce flag of these targets. */
export interface Unread {
  quiesceTargets: readonly string[];
}

/** A freeze in force anywhere now or within the minute (the gate decides a moment later; a freeze it meets unread refuses, never admits). */
function freezeInForce(deps: RunDeps, now: Date): boolean {
  const soon = new Date(now.getTime() + 60_000);
  return Object.values(deps.guardrails.environments).some((environment) =>
    [now, soon].some((at) => activeFreeze(environment.changeFreezes ?? [], at) !== undefined),
  );
}
