import type { Action } from '../actions/contract.ts';
import type { ControlState } from '../control/model.ts';
import type { Run, Task, TaskPlan } from '../runs/model.ts';
import { own } from '../own.ts';
import type { TaskVerdicts } from './verdicts.ts';

export type { TaskVerdicts } from './verdicts.ts';
import { AUTONOMY_MEANING, appliesUnattended, effectiveAutonomy } from './autonomy.ts';
import { activeFreeze, activeOverride } from './change-freeze.ts';
import { blastRadiusOf, changesSomething, environmentCeiling, needsApproval, policyDecision, policyResource } from './gates.ts';
import type { SafetyDeps } from './gates.ts';

export interface SimulatedTask {
  task: Task;
  action: Action;
  plan: TaskPlan;
}

export async function simulateApply(deps: SafetyDeps, run: Run, steps: readonly SimulatedTask[], control: ControlState, now: Date): Promise<TaskVerdicts[]> {
  const environment = own(deps.guardrails.environments, run.environment);
  const approvalRequired = needsApproval(deps, run, steps, control);
  const approvers = (environment?.approvers ?? []).filter((approver) => approver !== run.requestedBy);
  const quorum = environment?.quorum ?? 1;
  const caps = deps.guardrails.blastRadius;
  const { changing, deletes } = blastRadiusOf(steps.map(({ plan }) => plan));
  const blastRadius = { changing, maxChangingTasks: caps.maxChangingTasks, deletes, maxDeletes: caps.maxDeletes };
  const withinLimits = changing <= caps.maxChangingTasks && deletes <= caps.maxDeletes;
  const level = effectiveAutonomy(run.autonomy, environmentCeiling(deps, run.environment), control.killSwitch.engaged);
  // As at apply: an APPLY run, approved if it needs an approval (a PLAN run is judged as its APPLY twin).
  const atApply: Run = {
    ...run,
    mode: 'APPLY',
    ...(approvalRequired ? { planDigest: run.planDigest ?? 'simulated', approval: simulatedApproval(run.planDigest ?? 'simulated') } : {}),
  };

  const verdicts: TaskVerdicts[] = [];
  for (const { task, action, plan } of steps) {
    const input = { gate: 'apply' as const, run: atApply, task, action, control, now };
    const declared = action.resources(action.schema.parse(task.params));
    const refs = declared.some((resource) => resource.uri === plan.resource)
      ? declared
      : [...declared, { uri: plan.resource, access: action.safety.category === 'READ' ? ('read' as const) : ('write' as const) }];
    const resources = refs.map((ref) => {
      const decision = policyDecision(deps, input, policyResource({ resource: ref.uri }, ref.access));
      return { uri: ref.uri, access: ref.access, allowed: decision.allowed, policyIds: [...decision.policyIds] };
    });
    const allowed = resources.every((resource) => resource.allowed);
    const changes = action.safety.category === 'WRITE' || action.safety.category === 'DEPLOY';
    const freeze = changes ? activeFreeze(environment?.changeFreezes ?? [], now) : undefined;
    const overridden = freeze ? activeOverride(control.freezeOverrides, run.environment, now) !== undefined : false;
    const bucket = own(deps.guardrails.actions, action.name)?.rateLimit;
    const rate = bucket ? await deps.rateLimiter.peek(`action:${action.name}`, bucket, now) : undefined;
    const rateLimit = rate
      ? { limited: true, allowed: rate.allowed, ...(rate.allowed ? {} : { retryAfterSeconds: rate.retryAfterSeconds }) }
      : { limited: false, allowed: true };
    verdicts.push({
      wouldApply: allowed && !control.killSwitch.engaged && (!freeze || overridden) && withinLimits && rateLimit.allowed,
      policy: {
        allowed,
        policyIds: [...new Set(resources.flatMap((resource) => resource.policyIds))],
        resources,
        assumesApproval: approvalRequired,
      },
      autonomy: {
        level,
        meaning: AUTONOMY_MEANING[level as keyof typeof AUTONOMY_MEANING],
        category: action.safety.category,
        unattended: !changesSomething(plan) || appliesUnattended(action.safety.category, level, action.safety.requiresApproval),
      },
      approval: { required: approvalRequired, approvers, quorum },
      killSwitch: { engaged: control.killSwitch.engaged },
      freeze: { applies: changes, ...(freeze ? { active: freeze.name } : {}), overridden },
      blastRadius: { ...blastRadius, withinLimits },
      rateLimit,
    });
  }
  return verdicts;
}

function simulatedApproval(planDigest: string): Run['approval'] {
  return { state: 'APPROVED', planDigest, requestedAt: '', deadline: '', approvers: [], quorum: 0, decisions: [] };
}
