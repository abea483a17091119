import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import type { Run } from '../../core/runs/model.ts';
import { redact } from '../../core/telemetry/redaction.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { checkpointRun } from './audit-checkpoint.ts';
import type { HandlerDeps } from './deps.ts';
import { logger } from './logger.ts';
import { Invocation, tracing } from './telemetry.ts';

/**
 * A workflow step as a Lambda handler: validate the state's payload with zod, tag the logs with the
 * run and correlation ids, call the core. Errors keep their names, which the ASL's Retry/Catch match.
 * Returns the handler's factory: deps in, the Lambda handler out.
 */
/**
 * What a step may tell its handler about what it read, so the handler reads nothing more for its logs
 * and checkpoints: the task it acts on, and the run's status before and after it.
 */
export interface StepScope {
  task(task: { action: string; resource?: string }): void;
  status(before: string, after: string): void;
  /** The run's head as the step's last commit returned it: the checkpoint signs it without reading it again. */
  committed(head: Run): void;
  /** The step signed the run's head itself (Finalize's final head, stored as a checkpoint too): no checkpoint after it. */
  anchored(): void;
}

export interface StepOptions {
  /** The step reports its task and the run's status through its {@link StepScope}. @default false: the handler reads them */
  reportsWhatItRead?: boolean;
}

export function stepHandler<Input extends { runId: string; correlationId: string }, Output>(
  step: string,
  schema: z.ZodType<Input>,
  run: (deps: HandlerDeps, input: Input, scope: StepScope) => Promise<Output>,
  options: StepOptions = {},
) {
  return (deps: HandlerDeps) =>
    middy<unknown, Output, Error, Context>()
      .use(injectLambdaContext(logger, { resetKeys: true }))
      .use(tracing())
      .handler(async (event, context) => {
        const started = Date.now();
        const ids = event as Partial<Record<'runId' | 'correlationId', unknown>> | null;
        const telemetry = new Invocation(context, { step, run_id: String(ids?.runId ?? ''), correlation_id: String(ids?.correlationId ?? '') });
        try {
          const input = parseOrThrow(schema, event);
          const taskIndex = (input as { taskIndex?: unknown }).taskIndex;
          const reports = options.reportsWhatItRead === true;
          if (typeof taskIndex === 'number') {
            if (reports) telemetry.annotateTaskKeys(input.runId, taskIndex);
            else await telemetry.annotateTask(deps.runs, input.runId, taskIndex);
          }
          // A step that changed the run's status anchors the trail there: a signed checkpoint. Where this
          // function may not sign (or there is no vault), the status before the step is not even read.
          const anchors = deps.config.audit.checkpoints === 'on' && deps.auditSealing !== undefined;
          const before = anchors && !reports ? await statusOf(deps, input.runId) : undefined;
          const seen: { before?: string; after?: string; anchored?: boolean; head?: Run } = {};
          const scope: StepScope = {
            task: (task) => {
              if (typeof taskIndex === 'number') telemetry.annotateTaskKeys(input.runId, taskIndex, task);
            },
            status: (statusBefore, statusAfter) => Object.assign(seen, { before: statusBefore, after: statusAfter }),
            committed: (head) => Object.assign(seen, { head }),
            anchored: () => Object.assign(seen, { anchored: true }),
          };
          const output = await run(deps, input, scope);
          if (anchors && !reports) await checkpointRun(deps, input.runId, { unlessStatus: before });
          // A step that reported no status change (or signed its own head) needs no checkpoint; one that reported none is checked as before.
          else if (anchors && !seen.anchored && (seen.before === undefined || seen.before !== seen.after))
            await checkpointRun(deps, input.runId, { unlessStatus: seen.before, head: seen.head });
          telemetry.addStep(step, output, Date.now() - started);
          if (telemetry.logsInfo) telemetry.log.info('step finished', { output: redact(output, 'logs') as Record<string, unknown> });
          return output;
        } catch (error) {
          telemetry.addError(error);
          telemetry.log.warn('step failed', { error: error as Error });
          throw error;
        } finally {
          telemetry.publish();
        }
      });
}

/** The run's status, or undefined when it cannot be read (the step itself then reports why). */
async function statusOf(deps: HandlerDeps, runId: string): Promise<string | undefined> {
  try {
    return (await deps.runs.get(runId))?.status;
  } catch {
    return undefined;
  }
}
