import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { executeTask, executeTaskBatch, fromWire, isBatch, toEnvelope, toWire } from '../../core/runs/task-executor.ts';
import type { ExecutionEnvelope, ExecutorDeps, TaskExecution, TaskExecutionBatch } from '../../core/runs/task-executor.ts';
import { loadLambdaConfig } from '../shared/lambda-config.ts';
import { lambdaHandlerWith } from '../shared/lambda-handler.ts';
import { logger } from '../shared/logger.ts';
import { createExecutorDeps } from './executor-deps.ts';

/**
 * An action executor (ExecuteRead, ExecuteWrite, ExecuteInternet in AWS): runs one plan, apply,
 * verify or rollback that the control plane's step sends it (or a batch of plans or verifies), with the targets' clients only, and
 * answers the outcome or the error as data. It never sees Maestro's state.
 */
export const createHandler = (deps: ExecutorDeps) =>
  middy<TaskExecution | TaskExecutionBatch, ExecutionEnvelope | { batch: ExecutionEnvelope[] }, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (wire) => {
      // A batch (the plans or verifies of a run's tasks): one envelope per request, in order.
      if (isBatch(wire)) {
        const requests = wire.batch.map((request) => fromWire(request) as TaskExecution);
        logger.appendKeys({ run_id: requests[0]?.runId, operation: requests[0]?.operation, batch_size: requests.length });
        const envelopes = await executeTaskBatch(deps, requests);
        for (const [at, envelope] of envelopes.entries()) {
          if (!envelope.ok) logger.warn('task operation failed', { task_index: requests[at].taskIndex, action: requests[at].action, error: envelope.error });
        }
        return { batch: envelopes.map((envelope) => toWire(envelope) as ExecutionEnvelope) };
      }
      const request = fromWire(wire) as TaskExecution;
      logger.appendKeys({ run_id: request.runId, task_index: request.taskIndex, operation: request.operation, action: request.action });
      const envelope = await toEnvelope(() => executeTask(deps, request));
      if (!envelope.ok) logger.warn('task operation failed', { error: envelope.error });
      return toWire(envelope) as ExecutionEnvelope;
    });

/** The Lambda entry: an executor has no state table, so none is required of its configuration. */
export const handler = lambdaHandlerWith(createHandler, () => createExecutorDeps(loadLambdaConfig(process.env, { defaults: { state: { table: 'none' } } })));
