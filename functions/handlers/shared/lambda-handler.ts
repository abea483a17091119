import type { Context } from 'aws-lambda';

/**
 * The `handler` a Lambda function exports: the module's factory applied to the deps `deps` builds, on
 * the first invocation (so importing a handler module builds nothing). This module imports no
 * composition root: a function with its own deps (an executor) bundles only what those need.
 */
export function lambdaHandlerWith<Event, Result, Deps>(create: (deps: Deps) => (event: Event, context: Context) => Promise<Result>, deps: () => Deps) {
  let handler: ((event: Event, context: Context) => Promise<Result>) | undefined;
  return (event: Event, context: Context): Promise<Result> => {
    handler ??= create(deps());
    return handler(event, context);
  };
}
