import { canonicalJson } from '../canonical-json.ts';
import type { SmokeTestResult } from './model.ts';
import type { DrCheck } from './targets.ts';
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
    {
      name: 'content-sha256',
      source: source.id,
      passed: observed.contentDigest === source.contentDigest,
      expected: source.contentDigest,
      actual: observed.contentDigest,
    },
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

/** A user-declared check against what the restored copy returned (undefined: the item or object is missing). */
export function evaluateCheck(check: DrCheck, found: Record<string, unknown> | string | undefined): SmokeTestResult {
  const name = `check:${check.name}`;
  if (check.kind === 'item') {
    const item = found as Record<string, unknown> | undefined;
    const actual = item ? Object.fromEntries(Object.keys(check.expect).map((k) => [k, item[k]])) : null;
    const passed = item !== undefined && canonicalJson(actual) === canonicalJson(check.expect);
    return { name, source: `table:${check.table}`, passed, expected: { key: check.key, ...check.expect }, actual };
  }
  const body = found as string | undefined;
  const passed = body !== undefined && (check.contains === undefined || body.includes(check.contains));
  return {
    name,
    source: `s3://${check.bucket}/${check.key}`,
    passed,
    expected: check.contains ?? 'present',
    actual: body === undefined ? null : `${body.length} bytes`,
  };
}
