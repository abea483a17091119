import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { RunRepository } from '../../core/runs/ports.ts';
import { errorMetric } from '../../core/telemetry/error-metrics.ts';
import { TelemetryKey, taskIdOf } from '../../core/telemetry/log-keys.ts';
import { METRICS_NAMESPACE, metricsForStep } from '../../core/telemetry/step-metrics.ts';
import type { MetricPoint } from '../../core/telemetry/step-metrics.ts';
import { logger } from './logger.ts';

const SERVICE = process.env.POWERTOOLS_SERVICE_NAME ?? 'maestro';

/**
 * Tracing is on by default (X-Ray, `Tracing: Active` in CDK). Switch it off with `MAESTRO_TRACING=off`
 * (or Powertools' own `POWERTOOLS_TRACE_ENABLED=false`). Outside Lambda (the embedded stack) Powertools
 * keeps it off by itself: there is no X-Ray daemon to send segments to.
 */
export const tracingSwitchedOff = (env: NodeJS.ProcessEnv = process.env) => /^(off|false|0|no)$/i.test(env.MAESTRO_TRACING ?? '');

/**
 * Tracing happens only in Lambda (Powertools' own test: `AWS_EXECUTION_ENV`) and unless switched off.
 * Elsewhere the tracer is not even loaded: loading the X-Ray SDK installs async hooks (cls-hooked) that
 * run on every promise of the process, which cost the embedded stack about a tenth of its CPU.
 */
const tracingWanted = (env: NodeJS.ProcessEnv = process.env) =>
  !tracingSwitchedOff(env) && /^AWS_Lambda_/.test(env.AWS_EXECUTION_ENV ?? '') && !/^false$/i.test(env.POWERTOOLS_TRACE_ENABLED ?? '');

/** Powertools' own switch for metrics output: nothing to build when it is on. */
const metricsSwitchedOff = (env: NodeJS.ProcessEnv = process.env) => /^true$/i.test(env.POWERTOOLS_METRICS_DISABLED ?? '');

/**
 * The tracer's module: from the sources tracer-module.ts; in a bundle `tracer.mjs` beside index.mjs,
 * built apart by the synth. The specifier is computed, so esbuild leaves the import as it is and the
 * bundle does not carry the X-Ray SDK (about 110 KiB with semver).
 */
const tracerModule = () => new URL(import.meta.url.endsWith('.ts') ? './tracer-module.ts' : './tracer.mjs', import.meta.url).href;

let loadedTracing: Promise<{ tracer: Tracer; middleware: MiddlewareObj }> | undefined;
let loadedTracer: Tracer | undefined;
/** The process's one tracer and its middy middleware, loaded at the first traced invocation (memoized). */
const loadTracing = () =>
  (loadedTracing ??= (async () => {
    const { Tracer, captureLambdaHandler } = (await import(tracerModule())) as typeof import('./tracer-module.ts');
    loadedTracer = new Tracer({ serviceName: SERVICE });
    return { tracer: loadedTracer, middleware: captureLambdaHandler(loadedTracer, { captureResponse: false }) };
  })());

/** The tracer when this process traces (loading it on first use), else undefined. */
export const tracerWhenTracing = async (): Promise<Tracer | undefined> => (tracingWanted() ? (await loadTracing()).tracer : undefined);

/** The middy middleware opening a handler subsegment per invocation (none at all when tracing is off). */
export const tracing = (): MiddlewareObj[] => {
  if (!tracingWanted()) return [];
  return [
    {
      before: async (request) => (await loadTracing()).middleware.before?.(request),
      after: async (request) => (await loadTracing()).middleware.after?.(request),
      onError: async (request) => (await loadTracing()).middleware.onError?.(request),
    },
  ];
};

type Keys = Partial<Record<TelemetryKey, string | number | undefined>>;

/**
 * One invocation's telemetry: a child of the shared Logger that carries this invocation's keys, the
 * trace annotations, and the EMF metrics. Per-invocation objects (not keys appended to the shared
 * Logger) keep concurrent invocations in one process — the embedded stack runs every handler
 * in-process, and Lambda Managed Instances do the same — from writing each other's run ids.
 */
export class Invocation {
  /** Built at the first log line (a child logger costs about half a millisecond); the keys so far go on it then. */
  #log: Logger | undefined;
  readonly #context: Context | undefined;
  /** Built at the first metric, and not at all where metrics are off (the embedded stack): it costs most of an invocation's telemetry. */
  #metrics: Metrics | undefined;
  readonly #keys: Record<string, string | number> = {};
  #points = 0;

  constructor(context: Context | undefined, keys: Keys) {
    this.#context = context;
    this.annotate(keys);
  }

  get log(): Logger {
    if (!this.#log) {
      this.#log = logger.createChild();
      if (this.#context?.awsRequestId) this.#log.addContext(this.#context);
      this.#log.appendKeys(this.#keys);
    }
    return this.#log;
  }

  /** Whether an INFO line would be written (so its fields need not be built when not). */
  get logsInfo(): boolean {
    return ['TRACE', 'DEBUG', 'INFO'].includes(logger.getLevelName());
  }

  /** Puts the keys on every later log line of the invocation, on its trace (annotations) and its metrics. */
  annotate(keys: Keys): void {
    const defined = Object.fromEntries(Object.entries(keys).filter(([, value]) => value !== undefined && value !== '')) as Record<string, string | number>;
    Object.assign(this.#keys, defined);
    this.#log?.appendKeys(defined);
    if (loadedTracer) for (const [key, value] of Object.entries(defined)) loadedTracer.putAnnotation(key, value);
  }

  /** task_id, action and resource of one task, for the logs and trace of a step that acts on it. */
  async annotateTask(runs: Pick<RunRepository, 'getWithTasks'>, runId: string, taskIndex: number): Promise<void> {
    this.annotateTaskKeys(runId, taskIndex);
    try {
      const task = (await runs.getWithTasks(runId))?.tasks.find((candidate) => candidate.index === taskIndex);
      if (task) this.annotate({ [TelemetryKey.action]: task.action, [TelemetryKey.resource]: task.plan?.resource });
    } catch {
      // Telemetry never fails a step: the step itself reads the run next and reports any error.
    }
  }

  /** task_id and task_index, and action and resource when the step already knows its task (it then reads nothing for them). */
  annotateTaskKeys(runId: string, taskIndex: number, task?: { action: string; resource?: string }): void {
    this.annotate({ [TelemetryKey.taskId]: taskIdOf(runId, taskIndex), [TelemetryKey.taskIndex]: taskIndex });
    if (task) this.annotate({ [TelemetryKey.action]: task.action, [TelemetryKey.resource]: task.resource });
  }

  addMetrics(points: readonly MetricPoint[]): void {
    if (points.length === 0 || metricsSwitchedOff()) return;
    const metrics = (this.#metrics ??= new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE }));
    for (const point of points) metrics.addMetric(point.name, MetricUnit[point.unit], point.value);
    this.#points += points.length;
  }

  /** Counts a failure in its category's metric (ValidationErrors, TransientErrors…) and returns the category. */
  addError(error: unknown): string {
    const { category, metric } = errorMetric(error);
    this.addMetrics([{ name: metric, unit: 'Count', value: 1 }]);
    this.annotate({ [TelemetryKey.errorCategory]: category });
    return category;
  }

  addStep(step: string, output: unknown, durationMs: number): void {
    this.addMetrics(metricsForStep(step, output, durationMs));
  }

  /**
   * One EMF line per invocation (dimension `service`; the invocation's keys as searchable properties),
   * only when it has metrics. `POWERTOOLS_METRICS_DISABLED=true` turns the output off (the embedded
   * stack's default).
   */
  publish(): void {
    if (this.#points === 0 || !this.#metrics) return;
    for (const [key, value] of Object.entries(this.#keys)) this.#metrics.addMetadata(key, String(value));
    this.#metrics.publishStoredMetrics();
    this.#points = 0;
  }
}
