import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { runScheduled } from '../../core/dr/jobs.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { logger } from '../shared/logger.ts';
import type { HandlerDeps } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { ALL_PARTS } from '../shared/deps.ts';

/** The payload an EventBridge Scheduler schedule (lib/dr-workflows.ts) or the local scheduler sends. */
export const ScheduledDrEvent = z.strictObject({ kind: z.enum(['backup', 'restore-test']), target: z.string().min(1) });

/** Starts a scheduled backup or restore test; a restore test with no complete backup yet is skipped. */
export const createHandler = (deps: HandlerDeps) =>
  middy<unknown, { jobId: string | null }, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const request = parseOrThrow(ScheduledDrEvent, event);
      const correlationId = randomUUID();
      logger.appendKeys({ step: 'Scheduled', correlation_id: correlationId, target: request.target });
      const job = await runScheduled(deps.dr, { ...request, correlationId });
      if (!job) logger.warn('restore test skipped: no complete backup of the target yet');
      return { jobId: job?.id ?? null };
    });

export const handler = lambdaHandler(createHandler, 'functions/handlers/dr/scheduled.ts', ALL_PARTS);
