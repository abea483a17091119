import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { sweepApprovals } from '../../core/approvals/sweep.ts';
import type { SweepResult } from '../../core/approvals/sweep.ts';
import type { HandlerDeps } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { clock, config, linkSigner, notifier, publicUrl, runs } from '../shared/ports.ts';
import { logger } from '../shared/logger.ts';

/** Scheduled (EventBridge Scheduler, every minute): approval reminders at half time and expiry at the deadline. */
export const createHandler = (deps: HandlerDeps) =>
  middy<unknown, SweepResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async () => {
      const result = await sweepApprovals(deps, deps.clock());
      if (result.reminded.length || result.expired.length) logger.info('approval sweep', { ...result });
      return result;
    });

export const handler = lambdaHandler(createHandler, 'functions/handlers/approvals/sweep.ts', { config, runs, clock, linkSigner, notifier, publicUrl });
