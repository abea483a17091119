import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { driftMetrics } from '../../core/drift/drift-metrics.ts';
import { sweepDrift } from '../../core/drift/sweep-drift.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { logger } from '../shared/logger.ts';
import type { HandlerDeps } from '../shared/deps.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { actionContext, drift, engine, executor, policy } from '../shared/ports.ts';
import { RUN_STEP_PARTS } from '../run/step-parts.ts';
import { Invocation } from '../shared/telemetry.ts';

/** The payload an environment's drift schedule (lib/drift-schedules.ts) or the local scheduler sends. */
export const ScheduledDriftEvent = z.strictObject({ environment: z.string().min(1).max(32) });

/** One scheduled drift sweep of an environment: new findings are announced (DriftDetected) and counted. */
export const createHandler = (deps: HandlerDeps) =>
  middy<unknown, { environment: string; checked: number; detected: string[]; resolved: string[] }, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      const request = parseOrThrow(ScheduledDriftEvent, event);
      const correlationId = randomUUID();
      const telemetry = new Invocation(context, { step: 'DriftSweep', correlation_id: correlationId });
      const result = await sweepDrift(deps, { environment: request.environment, correlationId });
      telemetry.addMetrics(driftMetrics(result));
      if (result.detected.length > 0) telemetry.log.warn('drift detected', { environment: request.environment, findings: result.detected.map((f) => f.id) });
      telemetry.publish();
      return { environment: result.environment, checked: result.checked, detected: result.detected.map((finding) => finding.id), resolved: result.resolved };
    });

export const handler = lambdaHandler(createHandler, 'functions/handlers/drift/scheduled.ts', {
  ...RUN_STEP_PARTS,
  drift,
  engine,
  policy,
  executor,
  actionContext,
});
