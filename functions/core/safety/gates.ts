import type { Action } from '../actions/contract.ts';
import { parseResource } from '../actions/resources.ts';
import type { ParsedResource, ResourceAccess, ResourceRef } from '../actions/resources.ts';
import type { Guardrails } from '../config/guardrails.ts';
import type { ControlState, ControlStore } from '../control/model.ts';
import { AutonomyExceeded, BlastRadiusExceeded, ChangeFreeze, KillSwitchEngaged, PolicyDenied, RateLimited } from '../errors.ts';
import type { PolicyEngine, PolicyRequest } from '../policy/policy-engine.ts';
import type { Run, Task, TaskPlan } from '../runs/model.ts';
import { appliesUnattended, effectiveAutonomy } from './autonomy.ts';
import { activeFreeze, activeOverride } from './change-freeze.ts';
import { assertManagedResources } from './managed-resources.ts';
import type { OwnResources } from './managed-resources.ts';
import type { RateLimiter } from './rate-limiter.ts';
import { own } from '../own.ts';

/** What the safety envelope needs: the guardrails, the policy engine and the control record. */
export interface SafetyDeps {
  guardrails: Guardrails;
  policy: PolicyEngine;
  control: ControlStore;
  rateLimiter: RateLimiter;
  /** Maestro's own state table, vault and keys in this deployment: refused to every action. @default the name patterns only */
  ownResources?: OwnResources;
}

/** The control record as it is now (never cached: every admit and apply reads it again). */
export function readControl(deps: SafetyDeps): Promise<ControlState> {
  return deps.control.read({ killSwitch: { engaged: deps.guardrails.killSwitch.engaged } });
}

export function environmentCeiling(deps: SafetyDeps, environment: string): number {
  return own(deps.guardrails.environments, environment)?.autonomyCeiling ?? 0;
}

/** A resource (a plan's, or one an action declares) in the shape the Cedar schema gives `Maestro::Resource`. */
export function policyResource(plan: Pick<TaskPlan, 'resource'>, access: ResourceAccess = 'write'): PolicyRequest['resource'] {
  return policyResourceOf(parseResource(plan.resource), access);
}

/** policyResource of a URI the caller has parsed already (a gate parses each once, for the managed-resources check and Cedar). */
function policyResourceOf(parsed: ParsedResource, access: ResourceAccess): PolicyRequest['resource'] {
  const { uri, kind, id, bucket, key, table } = parsed;
  return {
    uri,
    kind,
    id,
    access,
    ...(bucket !== undefined ? { bucket } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(table !== undefined ? { table } : {}),
  };
}

export function isApproved(run: Run): boolean {
  return run.approval?.state === 'APPROVED' && run.approval.planDigest === run.planDigest;
}

type GateInput = { gate: 'plan' | 'apply'; run: Run; task: Task; action: Action; control: ControlState; now: Date };

/**
 * The resources the task declares (`action.resources(params)`, no I/O): each must be managed in the
 * run's environment (ResourceNotManaged), and Cedar must allow each (PolicyDenied). Runs before the
 * action's plan reads anything, and again at apply.
 */
export function resourceGate(deps: SafetyDeps, input: GateInput & { params: unknown }): readonly ResourceRef[] {
  const resources = input.action.resources(input.params);
  const parsed = resources.map((resource) => parseResource(resource.uri));
  assertManagedResources({ guardrails: deps.guardrails, own: deps.ownResources, environment: input.run.environment, resources, parsed });
  for (const [index, resource] of resources.entries()) authorize(deps, input, policyResourceOf(parsed[index], resource.access));
  return resources;
}

/**
 * Cedar at one gate, on every resource the task declares and on the one its plan names; a deny
 * throws PolicyDenied naming the policies that decided. The managed-resources check runs first.
 */
export function policyGate(deps: SafetyDeps, input: GateInput & { plan: TaskPlan }): void {
  const { task, action, plan } = input;
  const declared = resourceGate(deps, { ...input, params: action.schema.parse(task.params) });
  if (declared.some((resource) => resource.uri === plan.resource)) return;
  // The planned resource too (an item once its key is known): an action that declares too little is still held to the managed set.
  const planned: ResourceRef = { uri: plan.resource, access: action.safety.category === 'READ' ? 'read' : 'write' };
  const parsed = parseResource(plan.resource);
  assertManagedResources({ guardrails: deps.guardrails, own: deps.ownResources, environment: input.run.environment, resources: [planned], parsed: [parsed] });
  authorize(deps, input, policyResourceOf(parsed, planned.access));
}

function authorize(deps: SafetyDeps, input: GateInput, resource: PolicyRequest['resource']): void {
  const { task } = input;
  const decision = policyDecision(deps, input, resource);
  if (!decision.allowed) {
    const by = decision.policyIds.length > 0 ? `policy ${decision.policyIds.join(', ')}` : 'no policy permits it';
    throw new PolicyDenied(`${input.gate} of ${task.action} on ${resource.uri} denied: ${by}`, {
      details: { policyIds: decision.policyIds, gate: input.gate, errors: decision.errors },
    });
  }
}

/** Cedar's decision at one gate on one resource, without acting on it (the gates throw on a deny; plan simulation records it). */
export function policyDecision(deps: SafetyDeps, input: GateInput, resource: PolicyRequest['resource']) {
  const { run, task, action, control } = input;
  return deps.policy.authorize({
    principal: { id: run.requestedBy, roles: run.requesterRoles ?? [], ...(run.onBehalfOf ? { onBehalfOf: run.onBehalfOf } : {}) },
    action: input.gate,
    resource,
    context: {
      catalogAction: task.action,
      category: action.safety.category,
      mode: run.mode,
      environment: run.environment,
      autonomy: effectiveAutonomy(run.autonomy, environmentCeiling(deps, run.environment), control.killSwitch.engaged),
      reason: run.reasonForAccess,
      killSwitch: control.killSwitch.engaged,
      approved: isApproved(run),
      inputFlagged: (run.inputFlags ?? []).length > 0,
      now: input.now,
    },
  });
}

/**
 * Whether a task's plan changes anything. One that changes nothing needs no approval: the approval gate
 * does not ask for one, and at apply neither autonomy nor the apply policy holds it (the kill switch does).
 */
export const changesSomething = (plan: Pick<TaskPlan, 'change'> | undefined) => plan?.change !== 'none';

/**
 * Kill switch, autonomy and change freeze, re-checked before every apply; autonomy only for a
 * plan that changes something (changesSomething).
 */
export async function applyGate(deps: SafetyDeps, input: { run: Run; action: Action; control: ControlState; now: Date; plan?: TaskPlan }): Promise<void> {
  const { run, action, control, now } = input;
  if (control.killSwitch.engaged) {
    throw new KillSwitchEngaged(`the kill switch is engaged (${control.killSwitch.reason ?? 'no reason given'}); nothing applies`);
  }
  const autonomy = effectiveAutonomy(run.autonomy, environmentCeiling(deps, run.environment), false);
  if (changesSomething(input.plan) && !isApproved(run) && !appliesUnattended(action.safety.category, autonomy, action.safety.requiresApproval)) {
    throw new AutonomyExceeded(
      `${action.name} (${action.safety.category}) needs approval at autonomy ${autonomy} in ${run.environment}, and the plan is not approved`,
    );
  }
  if (action.safety.category === 'WRITE' || action.safety.category === 'DEPLOY') {
    const freeze = activeFreeze(own(deps.guardrails.environments, run.environment)?.changeFreezes ?? [], now);
    if (freeze && !activeOverride(control.freezeOverrides, run.environment, now)) {
      throw new ChangeFreeze(`${run.environment} is in the change freeze "${freeze.name}"; an admin override with a justification is needed`);
    }
  }
}

/**
 * The action's rate limit, taken last (after the locks): a task that waits for a lock or is refused by
 * a gate does not spend tokens on every retry.
 */
export async function actionRateGate(deps: SafetyDeps, action: Action, now: Date): Promise<void> {
  const bucket = own(deps.guardrails.actions, action.name)?.rateLimit;
  if (!bucket) return;
  const decision = await deps.rateLimiter.take(`action:${action.name}`, bucket, now);
  if (!decision.allowed) {
    throw new RateLimited(`${action.name} is rate limited; a token is free in ${decision.retryAfterSeconds.toFixed(1)} s`, {
      details: { retryAfterSeconds: decision.retryAfterSeconds },
    });
  }
}

/** The principal's rate limit, at admission. */
export async function admissionGate(deps: SafetyDeps, principalId: string, now: Date): Promise<void> {
  const decision = await deps.rateLimiter.take(`principal:${principalId}`, deps.guardrails.rateLimits.perPrincipal, now);
  if (!decision.allowed) {
    throw new RateLimited(`${principalId} is asking for runs too fast; try again in ${Math.ceil(decision.retryAfterSeconds)} s`, {
      details: { retryAfterSeconds: decision.retryAfterSeconds },
    });
  }
}

/** What a plan changes, as the blast-radius caps count it: tasks that change a resource, and deletes among them. */
export function blastRadiusOf(plans: readonly Pick<TaskPlan, 'change'>[]): { changing: number; deletes: number } {
  return {
    changing: plans.filter((plan) => plan.change !== 'none' && plan.change !== 'read').length,
    deletes: plans.filter((plan) => plan.change === 'delete').length,
  };
}

/** Per-run caps on what the plan changes. */
export function blastRadiusGate(deps: SafetyDeps, plans: readonly TaskPlan[]): void {
  const caps = deps.guardrails.blastRadius;
  const { changing, deletes } = blastRadiusOf(plans);
  if (changing > caps.maxChangingTasks)
    throw new BlastRadiusExceeded(`the plan changes ${changing} resources; at most ${caps.maxChangingTasks} are allowed per run`);
  if (deletes > caps.maxDeletes) throw new BlastRadiusExceeded(`the plan deletes ${deletes} resources; at most ${caps.maxDeletes} are allowed per run`);
}

/** True when some task of the plan may not apply without a human at the run's autonomy. */
export function needsApproval(deps: SafetyDeps, run: Run, steps: readonly { action: Action; plan?: TaskPlan }[], control: ControlState): boolean {
  if ((run.inputFlags ?? []).length > 0) return true;
  const autonomy = effectiveAutonomy(run.autonomy, environmentCeiling(deps, run.environment), control.killSwitch.engaged);
  return steps.some(({ action, plan }) => changesSomething(plan) && !appliesUnattended(action.safety.category, autonomy, action.safety.requiresApproval));
}
