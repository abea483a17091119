import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { parseOrThrow } from '../../core/validation.ts';
import { handlerDeps } from './deps.ts';
import type { HandlerDeps } from './deps.ts';
import { logger } from './logger.ts';

/**
 * A workflow step as a Lambda handler: validate the state's payload with zod, tag the logs with the
 * run and correlation ids, call the core. Errors keep their names, which the ASL's Retry/Catch match.
 */
export function stepHandler<Input extends { runId: string; correlationId: string }, Output>(
  step: string,
  schema: z.ZodType<Input>,
  run: (deps: HandlerDeps, input: Input) => Promise<Output>,
) {
  return middy<unknown, Output, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const input = parseOrThrow(schema, event);
      logger.appendKeys({ step, run_id: input.runId, correlation_id: input.correlationId });
      try {
        const output = await run(handlerDeps(), input);
        logger.info('step finished', { output: output as Record<string, unknown> });
        return output;
      } catch (error) {
        logger.warn('step failed', { error: error as Error });
        throw error;
      }
    });
}
