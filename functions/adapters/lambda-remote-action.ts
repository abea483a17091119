import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { TransientError } from '../core/errors.ts';
import { mappedRemoteError, preview, protocolError } from '../core/actions/remote-protocol.ts';
import type { RemoteActionTransport } from '../core/actions/remote-protocol.ts';

/** Lambda's own failures around the function (throttling, service errors): the workflow retries them. */
const TRANSIENT_INVOKE_ERRORS = new Set(['TooManyRequestsException', 'ServiceException', 'EC2ThrottledException', 'ResourceNotReadyException']);

/**
 * Remote actions in AWS: the team's Lambda function, invoked synchronously with the request as its
 * payload; the function's return value is the reply. A function error (the handler threw, timed out,
 * ran out of memory) keeps its meaning only for a mapped name (`StalePlan` from apply...), else it is
 * an ActionProtocolError; so is a payload past the protocol's limit.
 */
export class LambdaRemoteActionTransport implements RemoteActionTransport {
  readonly #client: LambdaClient;

  constructor(options: { client?: LambdaClient } = {}) {
    this.#client = options.client ?? new LambdaClient({});
  }

  async invoke(...[endpoint, request, { signal, timeMs, maxReplyBytes }]: Parameters<RemoteActionTransport['invoke']>): Promise<string> {
    if (!('lambdaArn' in endpoint)) throw protocolError(request, 'unsupported-endpoint', 'the Lambda transport serves lambdaArn endpoints only');
    const deadline = AbortSignal.timeout(timeMs);
    let response;
    try {
      response = await this.#client.send(
        new InvokeCommand({ FunctionName: endpoint.lambdaArn, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(request)) }),
        { abortSignal: signal ? AbortSignal.any([signal, deadline]) : deadline },
      );
    } catch (error) {
      if (signal?.aborted && signal.reason instanceof Error) throw signal.reason;
      if (deadline.aborted) throw protocolError(request, 'timeout', `no reply from ${endpoint.lambdaArn} within ${timeMs} ms`, { timeMs });
      const name = (error as { name?: string }).name ?? 'Error';
      if (TRANSIENT_INVOKE_ERRORS.has(name)) throw new TransientError(`invoking ${endpoint.lambdaArn} failed: ${name}`, { cause: error });
      throw protocolError(request, 'unreachable', `invoking ${endpoint.lambdaArn} failed: ${name}: ${(error as Error).message}`, { errorName: name });
    }
    const payload = response.Payload ?? new Uint8Array();
    if (payload.byteLength > maxReplyBytes) {
      throw protocolError(request, 'reply-too-large', `the reply has ${payload.byteLength} bytes, more than the ${maxReplyBytes} allowed`, {
        bytes: payload.byteLength,
      });
    }
    const text = new TextDecoder().decode(payload);
    if (response.FunctionError) {
      const { errorType, errorMessage } = parseFunctionError(text);
      const message = `${request.action.name} (${request.phase}): ${errorMessage ?? response.FunctionError}`;
      const mapped = errorType === undefined ? undefined : mappedRemoteError(request.phase, errorType, message);
      if (mapped) throw mapped;
      throw protocolError(
        request,
        'function-error',
        `${endpoint.lambdaArn} failed (${response.FunctionError}): ${errorType ?? 'no error type'}: ${errorMessage ?? preview(text)}`,
        {
          functionError: response.FunctionError,
          errorType,
        },
      );
    }
    return text;
  }
}

function parseFunctionError(text: string): { errorType?: string; errorMessage?: string } {
  try {
    const value = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
    return {
      errorType: typeof value.errorType === 'string' ? value.errorType : undefined,
      errorMessage: typeof value.errorMessage === 'string' ? value.errorMessage.slice(0, 2048) : undefined,
    };
  } catch {
    return {};
  }
}
