import AWSXRay from 'aws-xray-sdk-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../local/lambda-context.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, waitForRun } from '../support/test-stack.ts';

// Powertools turns tracing on only inside Lambda (AWS_EXECUTION_ENV); this worker plays Lambda and the
// test captures the handler subsegment in a segment of its own instead of sending it to an X-Ray daemon.
vi.hoisted(() => {
  process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs24.x';
  process.env.POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS = 'false';
  process.env.AWS_XRAY_CONTEXT_MISSING = 'IGNORE_ERROR';
});

let stack: EmbeddedStack;
beforeAll(async () => {
  // The workflow's own invocations have no X-Ray segment here; Powertools says so on console.warn.
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  stack = await startTestStack('tracer');
});
afterAll(async () => {
  await stack?.stop();
  vi.restoreAllMocks();
});

interface CapturedSubsegment {
  name: string;
  annotations?: Record<string, unknown>;
}

/** Runs a handler inside a fresh X-Ray segment and returns the handler subsegment Powertools opened. */
async function traced(handler: (event: unknown, context: unknown) => Promise<unknown>, event: unknown, functionName: string): Promise<CapturedSubsegment> {
  const segment = new AWSXRay.Segment('maestro-test');
  await AWSXRay.getNamespace().runPromise(async () => {
    AWSXRay.setSegment(segment);
    await handler(event, lambdaContext(functionName));
  });
  const subsegments = (segment.subsegments ?? []) as unknown as CapturedSubsegment[];
  const found = subsegments.find((sub) => sub.name.startsWith('## '));
  if (!found) throw new Error(`no handler subsegment in ${JSON.stringify(subsegments.map((sub) => sub.name))}`);
  return found;
}

describe('Powertools Tracer', () => {
  it('annotates the handler subsegment with the run, correlation and task keys', async () => {
    const correlationId = 'trace-corr-1';
    const key = 'traced/object.txt';
    const created = await api(stack, 'POST', '/runs', {
      headers: { 'x-correlation-id': correlationId },
      body: {
        goal: 'traced',
        mode: 'APPLY',
        reasonForAccess: 'tracing test',
        tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key, body: 'traced\n' } }],
      },
    });
    expect(created.status).toBe(201);
    const runId = created.body.runId as string;
    expect((await waitForRun(stack, runId)).status).toBe('SUCCEEDED');

    // A replayed ApplyTask (the task is already applied, so it only reads): its trace carries every key.
    const handler = (await import('../../functions/handlers/run/apply-task.ts')).createHandler(stack.deps) as (
      event: unknown,
      context: unknown,
    ) => Promise<unknown>;
    const sub = await traced(handler, { runId, correlationId, taskIndex: 0 }, 'maestro-run-apply-task');
    expect(sub.annotations).toMatchObject({
      step: 'ApplyTask',
      run_id: runId,
      correlation_id: correlationId,
      task_id: `${runId}#0`,
      task_index: 0,
      action: 's3.put-object',
      resource: `s3://${stack.demoBucket}/${key}`,
      Service: 'maestro',
    });

    const finalize = (await import('../../functions/handlers/run/finalize.ts')).createHandler(stack.deps) as (
      event: unknown,
      context: unknown,
    ) => Promise<unknown>;
    const finalSub = await traced(finalize, { runId, correlationId: 'trace-corr-2', result: { outcome: 'SUCCEEDED' } }, 'maestro-run-finalize');
    expect(finalSub.annotations).toMatchObject({ step: 'Finalize', run_id: runId, correlation_id: 'trace-corr-2' });
    expect(finalSub.annotations).not.toHaveProperty('task_id');
  });

  it('has a documented switch: MAESTRO_TRACING=off (or POWERTOOLS_TRACE_ENABLED=false)', async () => {
    const { tracerWhenTracing, tracingSwitchedOff } = await import('../../functions/handlers/shared/telemetry.ts');
    expect((await tracerWhenTracing())?.isTracingEnabled()).toBe(true);
    expect(tracingSwitchedOff({ MAESTRO_TRACING: 'off' })).toBe(true);
    expect(tracingSwitchedOff({ MAESTRO_TRACING: 'false' })).toBe(true);
    expect(tracingSwitchedOff({})).toBe(false);
    expect(tracingSwitchedOff({ MAESTRO_TRACING: 'on' })).toBe(false);
  });
});
