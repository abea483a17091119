import type { MetricPoint } from '../telemetry/step-metrics.ts';
import type { DriftSweepResult } from './sweep-drift.ts';

/** What a sweep adds to the metrics: new findings (`DriftDetected`, the alarmable one) and resources re-planned. */
export function driftMetrics(result: Pick<DriftSweepResult, 'detected' | 'checked'>): MetricPoint[] {
  return [
    { name: 'DriftDetected', unit: 'Count', value: result.detected.length },
    { name: 'DriftChecked', unit: 'Count', value: result.checked },
  ];
}
