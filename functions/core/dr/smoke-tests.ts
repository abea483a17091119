import type { SmokeTestResult } from './model.ts';
import type { ManifestSource } from './manifest.ts';

/** What a scan of the restored copy found for one source. */
export interface ObservedSource {
  records: number;
  contentDigest: string;
  /** For each of the manifest's samples, in order: the SHA-256 of the record read back by its key, or null when missing. */
  samples: (string | null)[];
}

/** Smoke tests of one restored source against the manifest: record count, content digest, sample reads. */
export function evaluateSmokeTests(source: ManifestSource, observed: ObservedSource): SmokeTestResult[] {
  const results: SmokeTestResult[] = [
    { name: 'count', source: source.id, passed: observed.records === source.records, expected: source.records, actual: observed.records },
    { name: 'content-sha256', source: source.id, passed: observed.contentDigest === source.contentDigest, expected: source.contentDigest, actual: observed.contentDigest },
  ];
  source.samples.forEach((sample, index) => {
    const actual = observed.samples[index] ?? null;
    results.push({ name: `sample-read[${index}]`, source: source.id, passed: actual === sample.sha256, expected: sample.sha256, actual });
  });
  return results;
}

export function failedTests(results: readonly SmokeTestResult[]): SmokeTestResult[] {
  return results.filter((r) => !r.passed);
}
