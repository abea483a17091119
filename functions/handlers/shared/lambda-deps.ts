import type { Context } from 'aws-lambda';
import { loadConfig } from './config.ts';
import { createDeps } from './deps.ts';
import type { HandlerDeps } from './deps.ts';
import { lambdaHandlerWith } from './lambda-handler.ts';

let memoized: HandlerDeps | undefined;

/** The Lambda container's deps: configuration from its environment, parsed and built on first use, then kept. */
export function lambdaDeps(): HandlerDeps {
  memoized ??= createDeps(loadConfig(process.env));
  return memoized;
}

/**
 * The `handler` a Lambda function exports: the module's factory applied to the container's deps on the
 * first invocation (so importing a handler module builds nothing). `deps` builds them; the default is
 * the control plane's (an executor passes its own, target-only ones, through lambda-handler.ts, which
 * does not bundle the control plane's composition root).
 */
export function lambdaHandler<Event, Result, Deps = HandlerDeps>(
  create: (deps: Deps) => (event: Event, context: Context) => Promise<Result>,
  deps: () => Deps = lambdaDeps as () => Deps,
) {
  return lambdaHandlerWith(create, deps);
}
