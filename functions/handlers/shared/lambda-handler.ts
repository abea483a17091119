import type { Context } from 'aws-lambda';
import { installSourceMappedStacks } from './source-mapped-stacks.ts';

/**
 * The `handler` a Lambda function exports: the module's factory applied to the deps `deps` builds, on
 * the first invocation (so importing a handler module builds nothing). This module imports no
 * composition root: a function with its own deps (an executor) bundles only what those need.
 * In a bundle, stacks name the sources (source-mapped-stacks.ts: the map is read at the first stack).
 */
export function lambdaHandlerWith<Event, Result, Deps>(create: (deps: Deps) => (event: Event, context: Context) => Promise<Result>, deps: () => Deps) {
  // In a bundle every module's import.meta.url is the bundle's; from the sources this is a .ts file, and nothing changes.
  installSourceMappedStacks(import.meta.url);
  let handler: ((event: Event, context: Context) => Promise<Result>) | undefined;
  return (event: Event, context: Context): Promise<Result> => {
    handler ??= create(deps());
    return handler(event, context);
  };
}
