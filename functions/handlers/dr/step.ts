import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import type { DrDeps } from '../../core/dr/ports.ts';
import type { HandlerDeps } from '../shared/deps.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { logger } from '../shared/logger.ts';

/** What every step of the DR state machines passes to its function. */
export const DrStepInput = z.object({
  jobId: z.string().min(1),
  correlationId: z.string().min(1),
  result: z.object({ outcome: z.enum(['COMPLETE', 'FAILED', 'REJECTED']), error: z.unknown().optional() }).optional(),
});
export type DrStepInput = z.infer<typeof DrStepInput>;

/** A DR workflow step as a Lambda handler's factory; errors keep their names for the ASL's Retry/Catch. */
export function drStepHandler<Output>(step: string, run: (deps: DrDeps, input: DrStepInput, event: unknown, all: HandlerDeps) => Promise<Output>) {
  return (deps: HandlerDeps) =>
    middy<unknown, Output, Error, Context>()
      .use(injectLambdaContext(logger, { resetKeys: true }))
      .handler(async (event) => {
        const input = parseOrThrow(DrStepInput, event);
        logger.appendKeys({ step, dr_job_id: input.jobId, correlation_id: input.correlationId });
        try {
          const output = await run(deps.dr, input, event, deps);
          logger.info('step finished', { output: output as Record<string, unknown> });
          return output;
        } catch (error) {
          logger.warn('step failed', { error: error as Error });
          throw error;
        }
      });
}
