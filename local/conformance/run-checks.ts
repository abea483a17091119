import type { Action } from '../../functions/core/actions/contract.ts';
import { parseResource } from '../../functions/core/actions/resources.ts';
import { CHECKS } from './checks.ts';
import type { ConformanceKit } from './kit.ts';
import { CHECK_NAMES } from './types.ts';
import type { CheckName, CheckResult, CheckSubject, ServiceName } from './types.ts';
import type { ResourceKind } from './types.ts';

/** An action and the pack it came from: what a catalog (built-in, loaded packs, remote actions) hands the kit. */
export interface PackedAction {
  action: Action;
  pack: string;
}

export interface Selection {
  pack?: string;
  action?: string;
  /** @default every check */
  checks?: readonly CheckName[];
}

/** The (action, example) pairs selected by pack and action name. */
export function subjectsOf(actions: readonly PackedAction[], selection: Selection = {}): CheckSubject[] {
  return actions
    .filter(
      ({ action, pack }) => (selection.pack === undefined || pack === selection.pack) && (selection.action === undefined || action.name === selection.action),
    )
    .flatMap(({ action, pack }) => action.examples.map((example, exampleIndex) => ({ action, pack, example, exampleIndex })));
}

/** The services the subjects' declared resources need (so the CLI starts only those). */
export function servicesFor(subjects: readonly CheckSubject[], kinds: ReadonlyMap<string, ResourceKind>): ServiceName[] {
  const services = new Set<ServiceName>();
  for (const subject of subjects) {
    const parsed = subject.action.schema.safeParse(subject.example.params);
    if (!parsed.success) continue;
    try {
      for (const ref of subject.action.resources(parsed.data)) {
        const service = kinds.get(parseResource(ref.uri).kind)?.service;
        if (service) services.add(service);
      }
    } catch {
      // The managed-resources check reports it.
    }
  }
  return [...services];
}

/** Runs every selected check on every subject, one after another (each check prepares its resources from empty). */
export async function runChecks(subjects: readonly CheckSubject[], kit: ConformanceKit, checks: readonly CheckName[] = CHECK_NAMES): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const subject of subjects) {
    for (const check of checks) {
      const outcome = await CHECKS.get(check)!(subject, kit);
      results.push({
        action: subject.action.name,
        pack: subject.pack,
        example: subject.exampleIndex,
        description: subject.example.description,
        check,
        ...outcome,
      });
    }
  }
  return results;
}

/** One line per action × example × check: `PASS  s3.put-object #0  stale-plan  apply refused with StalePlan …`. */
export function formatResult(result: CheckResult, width = 28): string {
  return `${result.status.toUpperCase().padEnd(4)}  ${`${result.action} #${result.example}`.padEnd(width)}  ${result.check.padEnd(17)}  ${result.reason}`;
}

/** Every result, one line each, aligned on the longest `action #example`. */
export function formatResults(results: readonly CheckResult[]): string[] {
  const width = Math.max(0, ...results.map((result) => `${result.action} #${result.example}`.length));
  return results.map((result) => formatResult(result, width));
}

export function summarize(results: readonly CheckResult[]): { pass: number; fail: number; skip: number } {
  return {
    pass: results.filter((result) => result.status === 'pass').length,
    fail: results.filter((result) => result.status === 'fail').length,
    skip: results.filter((result) => result.status === 'skip').length,
  };
}
