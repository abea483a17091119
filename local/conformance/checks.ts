import { randomBytes } from 'node:crypto';
import { parseResource } from '../../functions/core/actions/resources.ts';
import type { ParsedResource } from '../../functions/core/actions/resources.ts';
import { canonicalJson } from '../../functions/core/canonical-json.ts';
import { Guardrails } from '../../functions/core/config/guardrails.ts';
import type { ManagedResources } from '../../functions/core/config/managed-resources.ts';
import type { PolicyEngine } from '../../functions/core/policy/policy-engine.ts';
import type { Run, Task, TaskPlan } from '../../functions/core/runs/model.ts';
import { resourceGate } from '../../functions/core/safety/gates.ts';
import type { SafetyDeps } from '../../functions/core/safety/gates.ts';
import type { ConformanceKit } from './kit.ts';
import type { CheckName, CheckOutcome, CheckSubject, OpenedKind, RecordedCommand, ResourceSnapshot } from './types.ts';

/** One rule: a function over the subject (action, example) and the kit (context factory, kinds). */
export type Check = (subject: CheckSubject, kit: ConformanceKit) => Promise<CheckOutcome>;

const pass = (reason: string): CheckOutcome => ({ status: 'pass', reason });
const fail = (reason: string): CheckOutcome => ({ status: 'fail', reason });
const skip = (reason: string): CheckOutcome => ({ status: 'skip', reason });

/** Kinds that touch nothing the kit could stand up or read back. */
const NOTHING_TO_STAND_UP: ReadonlySet<string> = new Set(['none']);

/**
 * Actions an example alone cannot exercise, by name, with why. `run.undo-task` undoes a task an earlier
 * run applied: its params carry that task's plan and recorded outcome (the object version it wrote), which
 * no fixed example can name in a freshly prepared bucket; its plan, StalePlan refusal, apply and verify
 * are proven against real rollback runs (test/e2e/rollback-runs.test.ts).
 */
const WRAPS_ANOTHER_TASK: ReadonlyMap<string, string> = new Map([
  [
    'run.undo-task',
    "undoes a task an earlier run applied (its params carry that task's plan and written version): no fixed example can name one; test/e2e/rollback-runs.test.ts proves it",
  ],
]);

/**
 * What the kit changes in an example's parsed params, by action, so a check runs in seconds: a shift's
 * bake (60 s a step in its example) becomes 0, so each step reads its alarms once and moves on. Every
 * call the action makes is still made; only the waiting between them goes.
 */
const FAST_PARAMS: ReadonlyMap<string, (params: Record<string, unknown>) => Record<string, unknown>> = new Map([
  ['lambda.shift-alias', (params) => ({ ...params, bakeSeconds: 0 })],
]);

/** Ends a check early with its outcome (a trial that cannot start, a step that threw). */
class Refused extends Error {
  readonly outcome: CheckOutcome;
  constructor(outcome: CheckOutcome) {
    super(outcome.reason);
    this.outcome = outcome;
  }
}

const describeError = (error: unknown) => `${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}`;

/** A resource the kit can read back and change: its parsed URI and the opened kind that handles it. */
interface Target {
  resource: ParsedResource;
  handle: OpenedKind;
}

/**
 * One check's run of the example: the parsed params and declared resources, each of a kind the kit
 * knows, prepared from empty (a versioned bucket, a table keyed by `id`), and the journal cleared.
 */
class Trial {
  readonly params: unknown;
  readonly declared: ParsedResource[];
  readonly #kit: ConformanceKit;
  readonly #key: string;

  private constructor(kit: ConformanceKit, key: string, params: unknown, declared: ParsedResource[]) {
    this.#kit = kit;
    this.#key = key;
    this.params = params;
    this.declared = declared;
  }

  /**
   * `empty`: the resources' containers exist and hold nothing but the example's `given` resources. `existing`: the planned and declared
   * resources also hold a value written out of band first (learned from a probe plan, not recorded),
   * so apply updates and rollback must restore, not delete; undefined where the kit can write none.
   */
  static async start(subject: CheckSubject, kit: ConformanceKit, check: CheckName, start: StartState = 'empty'): Promise<Trial | undefined> {
    if (subject.action.runsInControlPlane) {
      throw new Refused(skip("acts on Maestro's own state in the control plane (runsInControlPlane), not on a managed target the kit can stand up"));
    }
    const wraps = WRAPS_ANOTHER_TASK.get(subject.action.name);
    if (wraps) throw new Refused(skip(wraps));
    const parsed = subject.action.schema.safeParse(subject.example.params);
    if (!parsed.success) throw new Refused(fail(`the example's params do not parse: ${parsed.error.message}`));
    let declared: ParsedResource[];
    try {
      declared = subject.action.resources(parsed.data).map((ref) => parseResource(ref.uri));
    } catch (error) {
      throw new Refused(fail(`resources() threw ${describeError(error)}`));
    }
    const unknown = declared.find((resource) => !NOTHING_TO_STAND_UP.has(resource.kind) && !kit.opened.has(resource.kind));
    if (unknown) {
      throw new Refused(
        skip(`declares ${unknown.uri}, of kind "${unknown.kind}", which the kit has no entry for (local/conformance/kinds.ts) or whose service is not running`),
      );
    }
    const given = (subject.example.given ?? []).map((uri) => parseResource(uri));
    const unseedable = given.find((resource) => !kit.opened.has(resource.kind));
    if (unseedable) throw new Refused(skip(`the example is given ${unseedable.uri}, of kind "${unseedable.kind}", which the kit has no entry for`));
    const prepared = new Set<string>();
    for (const resource of [...declared, ...given]) {
      const container = `${resource.kind}:${resource.bucket ?? resource.table ?? resource.id}`;
      if (prepared.has(container) || NOTHING_TO_STAND_UP.has(resource.kind)) continue;
      prepared.add(container);
      await kit.opened.get(resource.kind)!.prepare(resource);
    }
    const fast = FAST_PARAMS.get(subject.action.name);
    const params = fast ? fast(parsed.data as Record<string, unknown>) : parsed.data;
    const trial = new Trial(kit, `conformance/${subject.action.name}/${subject.exampleIndex}/${check}`, params, declared);
    for (const resource of given) {
      if (!(await kit.opened.get(resource.kind)!.perturb(resource, 'given'))) throw new Refused(fail(`the kit cannot write the given ${resource.uri}`));
    }
    if (start === 'existing') {
      const probe = await trial.plan(subject);
      if ((await trial.perturb(trial.targets(probe))).length === 0) return undefined;
    }
    kit.clearJournal();
    return trial;
  }

  plan(subject: CheckSubject): Promise<TaskPlan> {
    return this.#expect('plan', () => this.#kit.call('plan', { idempotencyKey: this.#key }, (ctx) => subject.action.plan(this.params, ctx)));
  }

  apply(subject: CheckSubject, plan: TaskPlan, attempt = 1): Promise<Record<string, unknown>> {
    return this.#kit.call(attempt === 1 ? 'apply' : 'apply-again', { idempotencyKey: this.#key, attempt }, (ctx) => subject.action.apply(plan, ctx));
  }

  verify(subject: CheckSubject, plan: TaskPlan, outcome: Record<string, unknown>): Promise<void> {
    return this.#kit.call('verify', { idempotencyKey: this.#key }, (ctx) => subject.action.verify(plan, outcome, ctx));
  }

  rollback(subject: CheckSubject, plan: TaskPlan, outcome: Record<string, unknown> | undefined): Promise<void> {
    return this.#kit.call('rollback', { idempotencyKey: this.#key }, (ctx) => subject.action.rollback(plan, outcome, ctx));
  }

  /** What the kit can read back and change: the planned resource and every declared one, of kinds it knows. */
  targets(plan: TaskPlan): Target[] {
    const seen = new Set<string>();
    const targets: Target[] = [];
    for (const resource of [parseResource(plan.resource), ...this.declared]) {
      const handle = this.#kit.opened.get(resource.kind);
      if (!handle || seen.has(resource.uri)) continue;
      seen.add(resource.uri);
      targets.push({ resource, handle });
    }
    return targets;
  }

  async snapshot(targets: Target[]): Promise<Map<string, ResourceSnapshot>> {
    const snapshots = new Map<string, ResourceSnapshot>();
    for (const target of targets) snapshots.set(target.resource.uri, await target.handle.snapshot(target.resource));
    return snapshots;
  }

  /** Changes every target the kit can change out of band; the URIs it changed. */
  async perturb(targets: Target[]): Promise<string[]> {
    const nonce = randomBytes(6).toString('hex');
    const changed: string[] = [];
    for (const target of targets) if (await target.handle.perturb(target.resource, nonce)) changed.push(target.resource.uri);
    return changed;
  }

  writes(phase: RecordedCommand['phase']): RecordedCommand[] {
    return this.#kit.journal.filter((command) => command.phase === phase && !command.read);
  }

  async #expect<T>(step: string, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      throw new Refused(fail(`${step} threw ${describeError(error)}`));
    }
  }
}

const named = (commands: RecordedCommand[]) => commands.map((command) => `${command.command}${command.resource ? ` ${command.resource}` : ''}`).join(', ');

/** Long values cut for a one-line report. */
const short = (text: string) => (text.length > 160 ? `${text.slice(0, 157)}...` : text);

/** The URIs whose facet (`state` or `history`) differs between two snapshots; with `withValues`, both values too. */
function differences(before: Map<string, ResourceSnapshot>, after: Map<string, ResourceSnapshot>, facet: keyof ResourceSnapshot, withValues = false): string[] {
  const changed: string[] = [];
  for (const [uri, snapshot] of before) {
    const a = canonicalJson(snapshot[facet] ?? null);
    const b = canonicalJson(after.get(uri)?.[facet] ?? null);
    if (a !== b)
      changed.push(
        withValues ? `${uri} is ${short(b)}, before apply it was ${short(a)}` : `${uri} (its ${facet === 'history' ? 'versions' : 'state'} changed)`,
      );
  }
  return changed;
}

type StartState = 'empty' | 'existing';

/**
 * Runs a check from empty resources, then (if that did not fail) from existing ones; the first
 * failure is the outcome, naming the start state when it is the second.
 */
async function guarded(subject: CheckSubject, kit: ConformanceKit, check: CheckName, body: (trial: Trial) => Promise<CheckOutcome>): Promise<CheckOutcome> {
  const once = async (start: StartState): Promise<CheckOutcome | undefined> => {
    try {
      const trial = await Trial.start(subject, kit, check, start);
      return trial && (await body(trial));
    } catch (error) {
      if (error instanceof Refused) return error.outcome;
      return fail(`the check could not run: ${describeError(error)}`);
    }
  };
  const fromEmpty = (await once('empty'))!;
  if (fromEmpty.status === 'fail') return fromEmpty;
  const fromExisting = await once('existing');
  if (!fromExisting) return fromEmpty;
  if (fromExisting.status === 'fail') return fail(`with the resource existing before plan: ${fromExisting.reason}`);
  if (fromEmpty.status === 'skip') return fromExisting;
  return { status: fromEmpty.status, reason: `${fromEmpty.reason} (from empty and from existing)` };
}

/** 1. Plan only reads: any command outside its service's read allowlist fails, named. */
export const planReadOnly: Check = (subject, kit) =>
  guarded(subject, kit, 'plan-read-only', async (trial) => {
    await trial.plan(subject);
    const writes = trial.writes('plan');
    if (writes.length > 0) return fail(`plan sent ${named(writes)}, which ${writes.length === 1 ? 'is not a read' : 'are not reads'}`);
    const reads = kit.journal.filter((command) => command.phase === 'plan');
    return pass(reads.length === 0 ? 'plan sent no command' : `plan sent only reads (${[...new Set(reads.map((command) => command.command))].join(', ')})`);
  });

/** 2. Apply twice with the same idempotency key: the second sends no write and changes nothing. */
export const applyIdempotent: Check = (subject, kit) =>
  guarded(subject, kit, 'apply-idempotent', async (trial) => {
    const plan = await trial.plan(subject);
    const targets = trial.targets(plan);
    try {
      await trial.apply(subject, plan, 1);
    } catch (error) {
      return fail(`the first apply threw ${describeError(error)}`);
    }
    const once = await trial.snapshot(targets);
    try {
      await trial.apply(subject, plan, 2);
    } catch (error) {
      return fail(`the second apply (same idempotency key, attempt 2) threw ${describeError(error)}`);
    }
    // A conditional write the service refused (its precondition is the first apply's own write) changed nothing.
    const attempted = trial.writes('apply-again');
    const writes = attempted.filter((command) => !command.refused);
    if (writes.length > 0) return fail(`the second apply sent ${named(writes)}`);
    const changed = differences(once, await trial.snapshot(targets), 'history');
    if (changed.length > 0) return fail(`the second apply changed ${changed.join('; ')}`);
    const refused = attempted.length > 0 ? ` (${named(attempted)} refused by ${attempted.length === 1 ? 'its condition' : 'their conditions'})` : '';
    return pass(`the second apply made no write the service accepted${refused} and left ${targets.length} resource(s) as the first left them`);
  });

/** 3. A change between plan and apply (made out of band on the planned resource): apply throws StalePlan and writes nothing. */
export const stalePlan: Check = (subject, kit) =>
  guarded(subject, kit, 'stale-plan', async (trial) => {
    const plan = await trial.plan(subject);
    const targets = trial.targets(plan);
    const changed = await trial.perturb(targets);
    if (changed.length === 0) return skip(`nothing the kit can change between plan and apply (plan names ${plan.resource})`);
    const before = await trial.snapshot(targets);
    try {
      await trial.apply(subject, plan);
    } catch (error) {
      if ((error as Error).name !== 'StalePlan') return fail(`apply threw ${describeError(error)} after ${changed.join(', ')} changed; expected StalePlan`);
      const written = differences(before, await trial.snapshot(targets), 'history');
      if (written.length > 0) return fail(`apply threw StalePlan but wrote ${written.join('; ')}`);
      return pass(`apply refused with StalePlan after ${changed.join(', ')} changed, and wrote nothing`);
    }
    const written = differences(before, await trial.snapshot(targets), 'history');
    return fail(
      `apply succeeded after ${changed.join(', ')} changed between plan and apply${written.length > 0 ? `, overwriting ${written.join('; ')}` : ''}; expected StalePlan`,
    );
  });

/** 4. Verify after apply passes, and fails (VerificationFailed) once the resource is changed out of band. */
export const verifyAfterApply: Check = (subject, kit) =>
  guarded(subject, kit, 'verify', async (trial) => {
    const plan = await trial.plan(subject);
    let outcome: Record<string, unknown>;
    try {
      outcome = await trial.apply(subject, plan);
    } catch (error) {
      return fail(`apply threw ${describeError(error)}`);
    }
    try {
      await trial.verify(subject, plan, outcome);
    } catch (error) {
      return fail(`verify after apply threw ${describeError(error)}`);
    }
    const changed = await trial.perturb(trial.targets(plan));
    if (changed.length === 0) return pass('verify passed after apply (nothing the kit can change, so it was not run against a changed resource)');
    try {
      await trial.verify(subject, plan, outcome);
    } catch (error) {
      if ((error as Error).name !== 'VerificationFailed')
        return fail(`verify after ${changed.join(', ')} changed threw ${describeError(error)}; expected VerificationFailed`);
      return pass(`verify passed after apply, and threw VerificationFailed once ${changed.join(', ')} changed`);
    }
    return fail(`verify passed after ${changed.join(', ')} was changed out of band: it does not read back what apply wrote`);
  });

/** 5. Rollback after apply restores the state before apply (read back and compared). */
export const rollbackRestores: Check = (subject, kit) =>
  guarded(subject, kit, 'rollback', async (trial) => {
    const plan = await trial.plan(subject);
    const targets = trial.targets(plan);
    const before = await trial.snapshot(targets);
    let outcome: Record<string, unknown>;
    try {
      outcome = await trial.apply(subject, plan);
    } catch (error) {
      return fail(`apply threw ${describeError(error)}`);
    }
    try {
      await trial.rollback(subject, plan, outcome);
    } catch (error) {
      return fail(`rollback threw ${describeError(error)}`);
    }
    const left = differences(before, await trial.snapshot(targets), 'state', true);
    if (left.length > 0) return fail(`after rollback ${left.join('; ')}`);
    return pass(
      targets.length === 0
        ? 'rollback ran (nothing the kit can read back)'
        : `after rollback ${targets.map((target) => target.resource.uri).join(', ')} read back as before apply`,
    );
  });

/** A policy engine that allows everything: the gate check is about the managed set, not Cedar. */
const ALLOW_ALL = { authorize: () => ({ allowed: true, policyIds: [], errors: [] }) } as unknown as PolicyEngine;

/** The kinds' entries merged, key by key (a kind added later brings its own key); the schema fills the rest. */
function mergeManaged(parts: Partial<ManagedResources>[]): ManagedResources {
  const merged = new Map<string, unknown[]>();
  for (const part of parts) for (const [key, values] of Object.entries(part)) merged.set(key, [...(merged.get(key) ?? []), ...(values as unknown[])]);
  return Object.fromEntries(merged) as ManagedResources;
}

function gate(subject: CheckSubject, params: unknown, environment: string, guardrails: Guardrails): void {
  const deps = { guardrails, policy: ALLOW_ALL } as SafetyDeps;
  const run = { id: 'conformance-run', environment, mode: 'APPLY', autonomy: 3, requestedBy: 'conformance' } as Run;
  const task = { runId: run.id, index: 0, action: subject.action.name, params } as Task;
  resourceGate(deps, { gate: 'plan', run, task, action: subject.action, control: { killSwitch: { engaged: false } }, now: new Date(), params });
}

/**
 * 6. The managed-resources gate refuses the example's resources in an environment that does not manage
 * them (ResourceNotManaged) and admits them where they are managed; and every resource the action's
 * calls touched (plan, apply, verify, rollback) is one it declares, so the gate saw it.
 */
export const managedResources: Check = (subject, kit) =>
  guarded(subject, kit, 'managed-resources', async (trial) => {
    const managed = trial.declared.flatMap((resource) => {
      const entry = kit.kinds.get(resource.kind)?.manage(resource);
      return entry ? [{ resource, entry }] : [];
    });
    const notes: string[] = [];
    if (managed.length > 0) {
      const guardrails = Guardrails.parse({
        defaultEnvironment: 'conformance',
        environments: {
          conformance: { managedResources: mergeManaged(managed.map((item) => item.entry)) },
          elsewhere: { managedResources: { buckets: ['conformance-elsewhere'], tables: ['conformance-elsewhere'] } },
        },
      });
      try {
        gate(subject, trial.params, 'conformance', guardrails);
      } catch (error) {
        return fail(`the gate refused the declared resources where they are managed: ${describeError(error)}`);
      }
      try {
        gate(subject, trial.params, 'elsewhere', guardrails);
        return fail(`the gate admitted ${managed.map((item) => item.resource.uri).join(', ')} in an environment that does not manage them`);
      } catch (error) {
        if ((error as Error).name !== 'ResourceNotManaged') return fail(`the gate threw ${describeError(error)}; expected ResourceNotManaged`);
      }
      notes.push(`the gate refused ${managed.map((item) => item.resource.uri).join(', ')} outside the managed set (ResourceNotManaged)`);
    } else {
      notes.push(
        trial.declared.length === 0 ? 'declares no resource' : `declares only resources governed elsewhere (${trial.declared.map((r) => r.uri).join(', ')})`,
      );
    }

    const plan = await trial.plan(subject);
    let outcome: Record<string, unknown> | undefined;
    try {
      outcome = await trial.apply(subject, plan);
      await trial.verify(subject, plan, outcome);
    } catch {
      // Apply's and verify's own faults are their checks' to report; what they touched still counts.
    }
    await trial.rollback(subject, plan, outcome).catch(() => undefined);
    const touched = new Map<string, RecordedCommand>();
    for (const command of kit.journal) if (command.resource && !touched.has(command.resource)) touched.set(command.resource, command);
    const planned = parseResource(plan.resource);
    const candidates: [string, string][] = [...touched].map(([uri, command]) => [uri, `${command.command} in ${command.phase}`]);
    if (kit.kinds.has(planned.kind)) candidates.push([plan.resource, "the plan's resource"]);
    for (const [uri, how] of candidates) {
      const resource = parseResource(uri);
      const kind = kit.kinds.get(resource.kind);
      if (!kind) continue;
      const covered = trial.declared.some((declared) => declared.kind === resource.kind && kind.covers(declared, resource));
      if (!covered) return fail(`touched ${uri} (${how}), which resources() does not declare: the gate never saw it`);
    }
    notes.push(`all ${touched.size} touched resource(s) are declared`);
    return pass(notes.join('; '));
  });

/** The checks by name, in report order. */
export const CHECKS: ReadonlyMap<CheckName, Check> = new Map<CheckName, Check>([
  ['plan-read-only', planReadOnly],
  ['apply-idempotent', applyIdempotent],
  ['stale-plan', stalePlan],
  ['verify', verifyAfterApply],
  ['rollback', rollbackRestores],
  ['managed-resources', managedResources],
]);
