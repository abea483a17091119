import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { BUILTIN_PACK } from '../core/actions/catalog.ts';
import { TransientError, UnknownAction } from '../core/errors.ts';
import { fromEnvelope, fromWire, toWire } from '../core/runs/task-executor.ts';
import type { ExecutionEnvelope, ExecutorClass, TaskExecution, TaskExecutor } from '../core/runs/task-executor.ts';

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
    let response;
    try {
      response = await this.#client.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(toWire(request))),
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
    return fromEnvelope(fromWire(parse(text)) as ExecutionEnvelope);
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}
