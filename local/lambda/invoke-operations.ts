// Invoke (RequestResponse) of the functions whose code the host runs in its own process: the
// embedded stack on bundles hosts the action executors here, so the run steps invoke them through
// the unmodified LambdaClient exactly as in AWS. The stand-in keeps no code of its own: any other
// function is not found.

import { parseFunctionReference } from './function-names.ts';
import { LATEST, functionNotFound } from './function-views.ts';
import { lambdaError } from './lambda-errors.ts';
import type { LambdaOperation } from './lambda-context.ts';
import type { RestRoutes } from './rest-routes.ts';

const invoke: LambdaOperation = async (context, request) => {
  const reference = parseFunctionReference(context.scope, request.params.get('FunctionName')!);
  const qualifier = reference.qualifier ?? request.query.get('Qualifier') ?? undefined;
  const hosted = context.hosted.get(reference.name);
  if (!hosted || (qualifier !== undefined && qualifier !== LATEST)) throw functionNotFound(context.scope, reference.name, qualifier);
  const invocationType = request.headers['x-amz-invocation-type'] ?? 'RequestResponse';
  if (invocationType !== 'RequestResponse') {
    throw lambdaError(
      'InvalidParameterValueException',
      `The local stand-in invokes synchronously only (X-Amz-Invocation-Type RequestResponse), not ${String(invocationType)}.`,
    );
  }
  let event: unknown = null;
  if (request.payload.length > 0) {
    try {
      event = JSON.parse(request.payload.toString('utf8'));
    } catch {
      throw lambdaError('InvalidParameterValueException', 'Could not parse request body into json: the payload is not valid JSON.');
    }
  }
  const headers = { 'x-amz-executed-version': LATEST };
  try {
    const answer = await hosted(event);
    return { status: 200, raw: JSON.stringify(answer ?? null), headers };
  } catch (error) {
    // As the Node.js runtime reports a handler's throw: a function error, its name and message in the payload.
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    return {
      status: 200,
      raw: JSON.stringify({ errorType: name, errorMessage: message, trace: [] }),
      headers: { ...headers, 'x-amz-function-error': 'Unhandled' },
    };
  }
};

export function addInvokeRoutes(routes: RestRoutes): void {
  routes.add('POST', '/2015-03-31/functions/{FunctionName}/invocations', 'Invoke', invoke);
}
