import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { TransientError } from '../core/errors.ts';
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

/**
 * The executors in AWS: one Lambda function per class (read-only on the targets; write; the egress
 * path), invoked synchronously by the control plane's step. The function answers an
 * {@link ExecutionEnvelope}; a function error (crash, timeout) keeps the name Lambda gives it.
 */
export class LambdaTaskExecutor implements TaskExecutor {
  readonly #client: LambdaClient;
  readonly #functions: Readonly<Record<ExecutorClass, string>>;
  readonly #classOf: (request: TaskExecution) => ExecutorClass;

  constructor(options: { client?: LambdaClient; functions: Readonly<Record<ExecutorClass, string>>; classOf: (request: TaskExecution) => ExecutorClass }) {
    this.#client = options.client ?? new LambdaClient({});
    this.#functions = options.functions;
    this.#classOf = options.classOf;
  }

  async execute(request: TaskExecution): Promise<unknown> {
    const functionName = this.#functions[this.#classOf(request)];
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
      if (TRANSIENT_INVOKE_ERRORS.has(name)) throw new TransientError(`invoking the ${this.#classOf(request)} executor failed: ${name}`, { cause: error });
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
