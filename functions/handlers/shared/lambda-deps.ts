import type { Context } from 'aws-lambda';
import { composeDeps, createWiring } from './compose-deps.ts';
import type { DepsParts, HandlerDeps } from './compose-deps.ts';
import { loadLambdaConfig } from './lambda-config.ts';
import { lambdaHandlerWith } from './lambda-handler.ts';

/**
 * The `handler` a Lambda function exports: the module's factory applied, on the first invocation, to
 * the deps of this function's own composition root: configuration from its environment, parsed once,
 * and only the `parts` the handler reaches (functions/handlers/shared/ports.ts), so the bundle carries
 * only their adapters and SDK clients and importing it builds nothing. Reading a member the root does
 * not wire throws, naming it and `owner` (the handler file). An executor has its own target-only
 * deps (lambda-handler.ts, which bundles no control-plane composition root).
 */
export function lambdaHandler<Event, Result>(
  create: (deps: HandlerDeps) => (event: Event, context: Context) => Promise<Result>,
  owner: string,
  parts: Partial<DepsParts>,
) {
  return lambdaHandlerWith(create, () => composeDeps(createWiring(loadLambdaConfig(process.env)), parts, owner));
}
