import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RULES, scanLayout } from './layout-rules.ts';
import type { Rule } from './layout-rules.ts';

/**
 * What the tree breaks today, each with who fixes it (the rules: layout-rules.ts). The list can only shrink:
 * a violation not on it fails, and so does an entry whose violation is gone; remove the entry with the fix.
 */
const KNOWN_VIOLATIONS: ReadonlyMap<string, string> = new Map([]);

const layout = scanLayout(fileURLToPath(new URL('../..', import.meta.url)));

/** Today's violations of one rule must be exactly the allowlisted ones of that rule. */
function expectOnlyKnown(rule: Rule, hint = ''): void {
  const actual = layout.violations.get(rule) ?? [];
  const known = [...KNOWN_VIOLATIONS.keys()].filter((key) => key.startsWith(`${rule}: `));
  const unexpected = actual.filter((violation) => !KNOWN_VIOLATIONS.has(violation));
  const fixed = known.filter((violation) => !actual.includes(violation));
  expect(unexpected, `new ${rule} violations (fix them; the allowlist only shrinks)${hint}`).toEqual([]);
  expect(fixed, `allowlisted ${rule} violations that no longer exist: remove them from KNOWN_VIOLATIONS`).toEqual([]);
}

describe('layout of the repository', () => {
  it('reads the source tree (the graph is not empty and every relative import resolves)', () => {
    expect(layout.sources.length).toBeGreaterThan(200);
    expect(layout.unresolved).toEqual([]);
  });

  it('has no import cycle', () => {
    expectOnlyKnown('cycle', `; a shortest cycle in each: ${layout.cycleHints.join(' | ')}`);
  });

  it('imports the AWS SDK only in functions/adapters/ and local/', () => {
    expectOnlyKnown('aws-sdk');
  });

  it('imports only CDK packages in lib/ and bin/', () => {
    expectOnlyKnown('cdk-only');
  });

  it('keeps functions/core free of process.env', () => {
    expectOnlyKnown('process-env');
  });

  it('keeps functions/core from importing actions/, handlers/ or adapters/', () => {
    expectOnlyKnown('core-imports-outer');
  });

  it('names every file and folder in kebab-case', () => {
    expectOnlyKnown('file-name');
  });

  it('allowlists only violations of these rules, each with a reason', () => {
    for (const [violation, reason] of KNOWN_VIOLATIONS) {
      expect(
        RULES.some((rule) => violation.startsWith(`${rule}: `)),
        violation,
      ).toBe(true);
      expect(reason.length).toBeGreaterThan(10);
    }
  });
});
