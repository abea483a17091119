import type { Action, ActionContext } from '../actions/contract.ts';
import type { ActionCatalog } from '../actions/catalog.ts';
import type { QuiesceFlag } from '../dr/ports.ts';
import { assertNotQuiesced } from '../dr/quiesce.ts';
import * as errors from '../errors.ts';
import { ActionFailed, BudgetExceeded, MaestroError } from '../errors.ts';
import type { TaskPlan } from './model.ts';

/**
 * The trust boundary between Maestro's control plane and the code of its actions. The control plane
 * (gates, locks, claims, the journal) holds Maestro's state; an executor holds the clients of the
 * managed targets and nothing else. What crosses between them is plain data: a {@link TaskExecution}
 * one way, an {@link ExecutionEnvelope} back.
 */
export type TaskOperation = 'plan' | 'apply' | 'verify' | 'rollback';

/**
 * Which executor runs an operation, by what it may touch: `read` (plan, verify: read-only on the
 * targets), `write` (apply, rollback), `internet` (apply of an action that reaches the internet: the
 * egress path, no target grants).
 */
export type ExecutorClass = 'read' | 'write' | 'internet';

/** One operation of one task, as an executor receives it. */
export interface TaskExecution {
  operation: TaskOperation;
  action: string;
  actionVersion: string;
  runId: string;
  environment: string;
  taskIndex: number;
  idempotencyKey: string;
  /** plan: the validated params. */
  params?: unknown;
  /** apply, verify, rollback: the recorded plan. */
  plan?: TaskPlan;
  /** verify, rollback: the recorded outcome (rollback may have none). */
  outcome?: Record<string, unknown>;
  /** apply: the time budget; the action's signal fires when it is spent. */
  timeMs?: number;
  /** apply: which attempt at the task this is (1 for the first). */
  attempt?: number;
  /**
   * apply, rollback: the DR quiesce flags, read by the control plane just before the call (the
   * executor cannot read Maestro's state); the action's write guard refuses writes they hold.
   */
  quiesceFlags?: QuiesceFlag[];
}

/** Where the control plane sends an operation (in AWS, a Lambda function of the operation's class). */
export interface TaskExecutor {
  execute(request: TaskExecution): Promise<unknown>;
  /**
   * The plans (or verifies) of several tasks at once: one call per executor function for all of its
   * requests (in AWS, one Lambda invocation each), every request answered on its own, in order, so a
   * failing one fails alone. Only {@link BATCHED_OPERATIONS}. @default each request through `execute`
   */
  executeBatch?(requests: readonly TaskExecution[]): Promise<Settled[]>;
}

/** An operation's answer as the control plane holds it: its value, or the error it threw (its class kept). */
export type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

/** What a batch may carry: the operations that only read the targets (no lease, claim or time budget of their own). */
export const BATCHED_OPERATIONS: ReadonlySet<TaskOperation> = new Set(['plan', 'verify']);

/** A batch as it crosses to an executor (`{batch}` in, `{batch}` of envelopes out, in the same order). */
export interface TaskExecutionBatch {
  batch: TaskExecution[];
}

export const isBatch = (payload: unknown): payload is TaskExecutionBatch =>
  typeof payload === 'object' && payload !== null && Array.isArray((payload as { batch?: unknown }).batch);

/** Sends every request, batched where the executor can, and settles each one on its own. */
export async function executeAll(executor: TaskExecutor, requests: readonly TaskExecution[]): Promise<Settled[]> {
  if (requests.length === 0) return [];
  if (executor.executeBatch) return executor.executeBatch(requests);
  const settled: Settled[] = [];
  for (const request of requests) settled.push(await settle(() => executor.execute(request)));
  return settled;
}

/** The value of `work`, or the error it threw, as data. */
export async function settle(work: () => Promise<unknown> | unknown): Promise<Settled> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Runs a batch in an executor, one request after another (as the control plane sent them one by one
 * before), each answered on its own envelope; anything but a plan or a verify is refused, alone.
 */
export async function executeTaskBatch(deps: ExecutorDeps, requests: readonly TaskExecution[]): Promise<ExecutionEnvelope[]> {
  const envelopes: ExecutionEnvelope[] = [];
  for (const request of requests) {
    envelopes.push(
      await toEnvelope(async () => {
        if (!BATCHED_OPERATIONS.has(request.operation)) {
          throw new ActionFailed(`a batch carries plans and verifies only, not ${JSON.stringify(request.operation)}`, { field: 'operation' });
        }
        return executeTask(deps, request);
      }),
    );
  }
  return envelopes;
}

/** What comes back: the value, or the error as data (its name is an API: Retry/Catch, audit). */
export type ExecutionEnvelope =
  | { ok: true; value: unknown }
  | { ok: false; error: { name: string; message: string; field?: string; details?: Record<string, unknown> } };

/** The executor class an operation of an action runs in. */
export function executorClassOf(operation: TaskOperation, action: Pick<Action, 'safety'>): ExecutorClass {
  if (operation === 'plan' || operation === 'verify') return 'read';
  if (operation === 'apply' && action.safety.budgets.network === 'internet') return 'internet';
  return 'write';
}

/** What an executor is built from: the catalog and the targets' clients, never Maestro's state. */
export interface ExecutorDeps {
  catalog: ActionCatalog;
  /**
   * The context of one task: in an executor, the managed targets' clients and the egress services
   * (no write guard, which the request's quiesce flags make, and no restore gate).
   */
  targets(request: TaskExecution): Omit<ActionContext, 'signal'>;
  /** Where the apply of a network-reaching action runs when it is isolated from this process (the embedded stack's sandbox). */
  applyIsolated?(request: TaskExecution, timeMs: number): Promise<Record<string, unknown>>;
  clock(): Date;
}

/** Runs one operation with the targets' clients only. */
export async function executeTask(deps: ExecutorDeps, request: TaskExecution): Promise<unknown> {
  const action = deps.catalog.get(request.action, request.actionVersion);
  const flags = request.quiesceFlags ?? [];
  const ctx: ActionContext = {
    writeGuard: { assertWritable: async (resource) => assertNotQuiesced(flags, resource, deps.clock()) },
    ...deps.targets(request),
  };
  switch (request.operation) {
    case 'plan':
      return action.plan(request.params, ctx);
    case 'apply': {
      const plan = required(request.plan, 'plan');
      const timeMs = request.timeMs ?? action.safety.budgets.timeMs;
      return withTimeBudget(timeMs, action.name, (signal) =>
        deps.applyIsolated && action.safety.budgets.network !== 'none' && !action.confinesOwnRequests && !action.remote
          ? deps.applyIsolated(request, timeMs)
          : action.apply(plan, { ...ctx, attempt: request.attempt, signal }),
      );
    }
    case 'verify':
      await action.verify(required(request.plan, 'plan'), request.outcome ?? {}, ctx);
      return null;
    case 'rollback':
      await action.rollback(required(request.plan, 'plan'), request.outcome, ctx);
      return null;
    default:
      throw new ActionFailed(`unknown task operation ${JSON.stringify((request as { operation: unknown }).operation)}`);
  }
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new ActionFailed(`the executor was given no ${name}`);
  return value;
}

/** Runs `work` and returns its result or its error as data; an executor never throws an action's error. */
export async function toEnvelope(work: () => Promise<unknown>): Promise<ExecutionEnvelope> {
  try {
    return { ok: true, value: (await work()) ?? null };
  } catch (error) {
    if (error instanceof MaestroError) return { ok: false, error: { name: error.name, message: error.message, field: error.field, details: error.details } };
    if (error instanceof Error) return { ok: false, error: { name: error.name, message: error.message } };
    return { ok: false, error: { name: 'Error', message: String(error) } };
  }
}

/**
 * The value of an envelope, or its error thrown again: a Maestro error keeps its class (the control
 * plane tells TransientError and StalePlan apart by class), any other keeps its name.
 */
export function fromEnvelope(envelope: ExecutionEnvelope): unknown {
  if (envelope.ok) return envelope.value;
  const { name, message, field, details } = envelope.error;
  const known = Object.hasOwn(errors, name) ? (errors as Record<string, unknown>)[name] : undefined;
  if (typeof known === 'function' && known.prototype instanceof MaestroError) {
    throw new (known as new (message: string, options?: errors.MaestroErrorOptions) => MaestroError)(message, { field, details });
  }
  const error = new Error(message);
  error.name = String(name);
  throw error;
}

/**
 * The wire form of what crosses to and from an executor (JSON): a plan's preconditions may hold what
 * JSON has no form for (a DynamoDB item's binary attributes and sets), which would otherwise come back
 * as something else and fail the apply's precondition as StalePlan.
 */
export function toWire(value: unknown): unknown {
  if (value instanceof Uint8Array) return { '@bytes': Buffer.from(value).toString('base64') };
  if (value instanceof Set) return { '@set': [...value].map(toWire) };
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, toWire(entry)]));
  }
  return value;
}

/** The inverse of {@link toWire}. */
export function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    const record = value as Record<string, unknown>;
    if (keys.length === 1 && keys[0] === '@bytes' && typeof record['@bytes'] === 'string') return new Uint8Array(Buffer.from(record['@bytes'], 'base64'));
    if (keys.length === 1 && keys[0] === '@set' && Array.isArray(record['@set'])) return new Set(record['@set'].map(fromWire));
    return Object.fromEntries(keys.map((key) => [key, fromWire(record[key])]));
  }
  return value;
}

/**
 * Runs `work` with an AbortSignal that fires when the time budget is spent; the task then fails with
 * BudgetExceeded whether or not the action honours the signal (the function's timeout is the backstop).
 */
export async function withTimeBudget<T>(timeMs: number, actionName: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new BudgetExceeded(`${actionName} ran past its time budget of ${timeMs} ms`, { details: { timeMs } });
      controller.abort(error);
      reject(error);
    }, timeMs);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
