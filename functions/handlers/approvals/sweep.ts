import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { sweepApprovals } from '../../core/approvals/sweep.ts';
import type { SweepResult } from '../../core/approvals/sweep.ts';
import { handlerDeps } from '../shared/deps.ts';
import { logger } from '../shared/logger.ts';

/** Scheduled (EventBridge Scheduler, every minute): approval reminders at half time and expiry at the deadline. */
export const handler = middy<unknown, SweepResult, Error, Context>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async () => {
    const deps = handlerDeps();
    const result = await sweepApprovals(deps, deps.clock());
    if (result.reminded.length || result.expired.length) logger.info('approval sweep', { ...result });
    return result;
  });
