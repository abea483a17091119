import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { BUILTIN_PACK } from '../core/actions/catalog.ts';
import { ActionFailed, TransientError, UnknownAction } from '../core/errors.ts';
import { fromEnvelope, fromWire, isBatch, settle, toWire } from '../core/runs/task-executor.ts';
import type { ExecutionEnvelope, ExecutorClass, Settled, TaskExecution, TaskExecutor } from '../core/runs/task-executor.ts';

/** Lambda's own failures before or around the function (throttling, service errors): the claim retries them. */
const TRANSIENT_INVOKE_ERRORS = new Set([
  'TooManyRequestsException',
  'ServiceException',
  'EC2ThrottledException',
  'ResourceNotReadyException',
  'ResourceConflictException',
  'SubnetIPAddressLimitReachedException',
]);

/** A pack's own executor functions by class (`internet` only when one of its actions reaches the internet). */
export type PackExecutorFunctions = Readonly<Partial<Record<ExecutorClass, string>>>;

/**
 * The executors in AWS: one Lambda function per class (read-only on the targets; write; the egress
 * path) for the built-ins, and one per class for each pack, whose role holds only the managed
 * resources of the kinds that pack's actions declare. The control plane's step invokes them
 * synchronously; the function answers an {@link ExecutionEnvelope}; a function error (crash, timeout)
 * keeps the name Lambda gives it. A pack's action goes to its pack's executors only: never to the
 * built-ins' (whose catalog does not even hold it), and never to another pack's.
 */
export class LambdaTaskExecutor implements TaskExecutor {
  readonly #client: LambdaClient;
  readonly #functions: Readonly<Record<ExecutorClass, string>>;
  readonly #classOf: (request: TaskExecution) => ExecutorClass;
  readonly #packOf: (request: TaskExecution) => string;
  readonly #packFunctions: ReadonlyMap<string, PackExecutorFunctions>;

  constructor(options: {
    client?: LambdaClient;
    functions: Readonly<Record<ExecutorClass, string>>;
    classOf: (request: TaskExecution) => ExecutorClass;
    /** The pack of the request's action (`builtin` for Maestro's own). @default every action is a built-in */
    packOf?: (request: TaskExecution) => string;
    /** Each pack's executor functions, by pack name (`MAESTRO_PACK_EXECUTORS`). @default none */
    packFunctions?: Readonly<Record<string, PackExecutorFunctions>>;
  }) {
    this.#client = options.client ?? new LambdaClient({});
    this.#functions = options.functions;
    this.#classOf = options.classOf;
    this.#packOf = options.packOf ?? (() => BUILTIN_PACK);
    this.#packFunctions = new Map(Object.entries(options.packFunctions ?? {}));
  }

  /** The function that runs this request: its class's, of the built-ins or of the action's pack. */
  functionFor(request: TaskExecution): string {
    const executorClass = this.#classOf(request);
    const pack = this.#packOf(request);
    if (pack === BUILTIN_PACK) return this.#functions[executorClass];
    const functionName = this.#packFunctions.get(pack)?.[executorClass];
    if (!functionName) {
      throw new UnknownAction(
        `${request.action} is an action of pack ${pack}, which has no ${executorClass} executor in this deployment (MAESTRO_PACK_EXECUTORS): deploy the pack with the stack`,
        { field: 'action', details: { action: request.action, pack, executorClass } },
      );
    }
    return functionName;
  }

  async execute(request: TaskExecution): Promise<unknown> {
    const functionName = this.functionFor(request);
    return fromEnvelope(fromWire(await this.#invoke(functionName, toWire(request))) as ExecutionEnvelope);
  }

  /**
   * One invocation per executor function for all of its requests (in chunks of at most
   * {@link MAX_BATCH_REQUESTS} and about {@link MAX_BATCH_BYTES} of request, far below Lambda's 6 MB
   * payloads); each request settled on its own. A request with no function (a pack not deployed)
   * fails alone; an invocation that fails (throttled, timed out) fails the requests it carried, each
   * with the error `execute` would have thrown; an answer too large for Lambda is asked for again in halves.
   */
  async executeBatch(requests: readonly TaskExecution[]): Promise<Settled[]> {
    const settled: Settled[] = new Array(requests.length);
    const byFunction = new Map<string, number[]>();
    for (const [at, request] of requests.entries()) {
      try {
        const functionName = this.functionFor(request);
        byFunction.set(functionName, [...(byFunction.get(functionName) ?? []), at]);
      } catch (error) {
        settled[at] = { ok: false, error };
      }
    }
    await Promise.all(
      [...byFunction].map(async ([functionName, indexes]) => {
        for (const chunk of chunksOf(indexes, (at) => JSON.stringify(toWire(requests[at])).length)) {
          await this.#invokeBatch(functionName, chunk, requests, settled);
        }
      }),
    );
    return settled;
  }

  async #invokeBatch(functionName: string, indexes: number[], requests: readonly TaskExecution[], settled: Settled[]): Promise<void> {
    let answer: unknown;
    try {
      answer = await this.#invoke(functionName, { batch: indexes.map((at) => toWire(requests[at])) });
    } catch (error) {
      if (indexes.length > 1 && tooLarge(error)) {
        const half = Math.ceil(indexes.length / 2);
        await this.#invokeBatch(functionName, indexes.slice(0, half), requests, settled);
        await this.#invokeBatch(functionName, indexes.slice(half), requests, settled);
        return;
      }
      for (const at of indexes) settled[at] = { ok: false, error };
      return;
    }
    const envelopes = isBatch(answer) ? (answer.batch as unknown[]) : undefined;
    for (const [position, at] of indexes.entries()) {
      const envelope = envelopes?.[position];
      settled[at] =
        envelopes?.length === indexes.length && envelope
          ? await settle(() => fromEnvelope(fromWire(envelope) as ExecutionEnvelope))
          : { ok: false, error: new ActionFailed(`the executor ${functionName} answered a batch of ${indexes.length} without one answer per request`) };
    }
  }

  /** One synchronous invocation: the function's answer, parsed; Lambda's own failures thrown as `execute` throws them. */
  async #invoke(functionName: string, payload: unknown): Promise<unknown> {
    let response;
    try {
      response = await this.#client.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(payload)),
        }),
      );
    } catch (error) {
      const name = (error as { name?: string }).name ?? 'Error';
      if (TRANSIENT_INVOKE_ERRORS.has(name)) throw new TransientError(`invoking the executor ${functionName} failed: ${name}`, { cause: error });
      throw error;
    }
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : 'null';
    if (response.FunctionError) {
      const { errorType, errorMessage } = parse(text) as { errorType?: string; errorMessage?: string };
      const error = new Error(`${functionName}: ${errorMessage ?? response.FunctionError}`);
      error.name = errorType ?? `Lambda.${response.FunctionError}`;
      throw error;
    }
    return parse(text);
  }
}

/** Requests per batch invocation, and the request bytes a batch is cut at (a plan's answer is usually larger than its request). */
const MAX_BATCH_REQUESTS = 25;
const MAX_BATCH_BYTES = 1 << 20;
/** An answer over Lambda's 6 MB synchronous payload limit, by the names and message Lambda and its runtime give it. */
const tooLarge = (error: unknown) =>
  ['Function.ResponseSizeTooLarge', 'RequestEntityTooLarge'].includes((error as Error).name) ||
  /exceeded maximum allowed payload size/i.test((error as Error).message ?? '');

/** Consecutive chunks of at most MAX_BATCH_REQUESTS items and about MAX_BATCH_BYTES (a larger item alone). */
function chunksOf(indexes: readonly number[], sizeOf: (at: number) => number): number[][] {
  const chunks: number[][] = [];
  let chunk: number[] = [];
  let bytes = 0;
  for (const at of indexes) {
    const size = sizeOf(at);
    if (chunk.length > 0 && (chunk.length >= MAX_BATCH_REQUESTS || bytes + size > MAX_BATCH_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(at);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
