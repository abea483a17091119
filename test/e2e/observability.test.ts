import { randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, until, waitForRun } from '../support/test-stack.ts';

// This file's own worker logs at INFO and prints EMF metrics, both captured from stdout/stderr. Hoisted
// above the imports: the Logger takes its level when first constructed (and resets to it per invocation).
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
});

let stack: EmbeddedStack;
const captured: string[] = [];
const originalWrites = { stdout: process.stdout.write, stderr: process.stderr.write };

function capture(stream: NodeJS.WriteStream) {
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as typeof stream.write;
}

beforeAll(async () => {
  capture(process.stdout);
  capture(process.stderr);
  stack = await startTestStack('observability');
});
afterAll(async () => {
  await stack?.stop();
  process.stdout.write = originalWrites.stdout;
  process.stderr.write = originalWrites.stderr;
});

/** Every JSON object printed so far (log lines and EMF documents), one per line. */
function printed(): Record<string, any>[] {
  return captured
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, any>];
      } catch {
        return [];
      }
    });
}
const logLines = () => printed().filter((line) => typeof line.message === 'string' && line.level);
const emfDocs = () => printed().filter((line) => line._aws?.CloudWatchMetrics);
const metricNames = (docs: Record<string, any>[]) =>
  new Set(docs.flatMap((doc) => doc._aws.CloudWatchMetrics.flatMap((m: { Metrics: { Name: string }[] }) => m.Metrics.map((metric) => metric.Name))));

async function runWithCorrelation(correlationId: string, tasks: unknown[]) {
  const created = await api(stack, 'POST', '/runs', {
    headers: { 'x-correlation-id': correlationId },
    body: { goal: 'observe', mode: 'APPLY', reasonForAccess: 'a secret reason', tasks },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  expect(created.headers.get('x-correlation-id')).toBe(correlationId);
  const runId = created.body.runId as string;
  const run = await waitForRun(stack, runId);
  // The execution is over once Finalize returns; its log line is the last one a run writes.
  await until(async () => logLines().some((line) => line.run_id === runId && line.step === 'Finalize'), `the Finalize log line of run ${runId}`);
  return { runId, run };
}

describe('one correlation id, API → workflow → every handler log line → every event → the response', () => {
  it('carries it and the run/task keys on every log line, trace key and metric of a run', async () => {
    const correlationId = `obs-${randomUUID()}`;
    const key = `observe/${correlationId}.txt`;
    const { runId, run } = await runWithCorrelation(correlationId, [
      { action: 's3.put-object', params: { bucket: stack.demoBucket, key, body: 'observed\n' } },
      { action: 'noop', params: {} },
    ]);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.correlationId).toBe(correlationId);

    // Every event of the run, and the workflow execution's input.
    const events = await api(stack, 'GET', `/runs/${runId}/events`, { headers: { 'x-correlation-id': correlationId } });
    expect(events.headers.get('x-correlation-id')).toBe(correlationId);
    expect(events.body.events.length).toBeGreaterThan(10);
    expect(new Set(events.body.events.map((event: { correlationId: string }) => event.correlationId))).toEqual(new Set([correlationId]));
    const execution = await new SFNClient({}).send(new DescribeExecutionCommand({ executionArn: run.executionArn }));
    expect(JSON.parse(execution.input!)).toMatchObject({ runId, correlationId });

    // Every handler log line of the run carries run_id and this correlation id; task steps add the task keys.
    const lines = logLines().filter((line) => line.run_id === runId && line.step !== 'Api');
    for (const step of ['Admit', 'Plan', 'ApplyTask', 'Verify', 'Finalize'])
      expect(
        lines.some((line) => line.step === step),
        step,
      ).toBe(true);
    // Approved by policy at Plan: the workflow went straight to Apply, without the approval wait.
    expect(lines.filter((line) => line.step === 'AwaitApproval')).toEqual([]);
    for (const line of lines) {
      expect(line.correlation_id, JSON.stringify(line)).toBe(correlationId);
      expect(line.service).toBe('maestro');
    }
    const applies = lines.filter((line) => line.step === 'ApplyTask');
    expect(applies.map((line) => [line.task_id, line.action, line.resource])).toEqual([
      [`${runId}#0`, 's3.put-object', `s3://${stack.demoBucket}/${key}`],
      [`${runId}#1`, 'noop', expect.any(String)],
    ]);
    // The API's own line for the POST carries the same id.
    expect(
      logLines().some(
        (line) =>
          line.correlation_id === correlationId &&
          line.step === 'Api' &&
          line.message === 'request handled' &&
          line.resource === '/runs' &&
          line.method === 'POST',
      ),
    ).toBe(true);
    expect(logLines().find((line) => line.correlation_id === correlationId && line.step === 'Api' && line.resource === '/runs/{id}/events')).toMatchObject({
      run_id: runId,
      principal: 'dev-operator',
    });
    // No reason-for-access reaches a log line (the redaction rules for the `logs` sink).
    expect(captured.join('').includes('a secret reason')).toBe(false);

    // EMF metrics, namespace Maestro, with the run's ids as properties.
    const docs = emfDocs().filter((doc) => doc.correlation_id === correlationId);
    expect(docs.every((doc) => doc._aws.CloudWatchMetrics[0].Namespace === 'Maestro' && doc.run_id === runId)).toBe(true);
    const names = metricNames(docs);
    for (const name of ['RunsStarted', 'TasksApplied', 'ApplyLatency', 'RunsSucceeded', 'StepLatency']) expect(names.has(name), name).toBe(true);
    expect(docs.filter((doc) => doc.TasksApplied !== undefined).length).toBe(2);
    expect(docs.find((doc) => doc.RunsSucceeded !== undefined)).toMatchObject({ step: 'Finalize', RunsSucceeded: 1, service: 'maestro' });
  });

  it('counts a failure in its error category’s metric and logs the category', async () => {
    const correlationId = `obs-fail-${randomUUID()}`;
    const { runId, run } = await runWithCorrelation(correlationId, [{ action: 'noop', params: { failIn: 'apply' } }]);
    expect(['ROLLED_BACK', 'FAILED']).toContain(run.status);
    const failed = logLines().find((line) => line.run_id === runId && line.message === 'step failed');
    expect(failed).toMatchObject({ step: 'ApplyTask', correlation_id: correlationId, error_category: 'dependency', action: 'noop', task_id: `${runId}#0` });
    const docs = emfDocs().filter((doc) => doc.correlation_id === correlationId);
    expect(docs.find((doc) => doc.DependencyErrors !== undefined)).toMatchObject({ step: 'ApplyTask', DependencyErrors: 1 });
    expect(metricNames(docs).has(run.status === 'ROLLED_BACK' ? 'RunsRolledBack' : 'RunsFailed')).toBe(true);

    // A client error at the API is counted in its category too, under the caller's correlation id.
    const bad = await api(stack, 'POST', '/runs', {
      headers: { 'x-correlation-id': `${correlationId}-api` },
      body: { goal: 'x', mode: 'SOMETIMES', tasks: [] },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-correlation-id')).toBe(`${correlationId}-api`);
    expect(emfDocs().find((doc) => doc.correlation_id === `${correlationId}-api`)).toMatchObject({ step: 'Api', ValidationErrors: 1 });
  });
});
