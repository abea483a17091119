/**
 * The tracer and its middy middleware, as one module that telemetry.ts imports only when this process
 * traces. A Lambda asset carries it as its own file (`tracer.mjs`, lib/maestro-function.ts), so the
 * X-Ray SDK is not in index.mjs and costs nothing at a cold start.
 */
export { Tracer } from '@aws-lambda-powertools/tracer';
export { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
