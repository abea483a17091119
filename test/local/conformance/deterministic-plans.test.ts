import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultCatalog } from '../../../functions/actions/catalog.ts';
import { parseResource } from '../../../functions/core/actions/resources.ts';
import { digestOf } from '../../../functions/core/canonical-json.ts';
import { startConformanceKit } from '../../../local/conformance/kit.ts';
import type { ConformanceKit } from '../../../local/conformance/kit.ts';

/**
 * Planning is a pure function of the inputs and the observed state: re-planning an unchanged task
 * yields the same plan digest (what approvals bind to, and what drift detection compares). Every
 * built-in action, every example, against the real stand-ins the conformance kit runs.
 */
let kit: ConformanceKit;
beforeAll(async () => {
  kit = await startConformanceKit({ dynamodbUrl: inject('dynamodbUrl') });
});
afterAll(() => kit?.stop());

/** Acting on Maestro's own state, or wrapping an earlier run's task: no example plans without a run behind it (as the kit skips them). */
const NOT_STANDALONE = new Set(['dr.approve-restore', 'run.undo-task']);
/** The kit's own fast params (a shift's bake is only waited for at apply, but the example's 60 s stays out of the plan too). */
const FAST: Record<string, Record<string, unknown>> = { 'lambda.shift-alias': { bakeSeconds: 0 } };

const planDigest = (action: string, version: string, plan: unknown) => digestOf([{ action, version, plan }]);

describe('deterministic plans', () => {
  const actions = defaultCatalog()
    .list()
    .filter((action) => !NOT_STANDALONE.has(action.name));

  it('covers every built-in action that plans on its own', () => {
    expect(actions.map((action) => action.name).sort()).toEqual(
      defaultCatalog()
        .list()
        .map((action) => action.name)
        .filter((name) => !NOT_STANDALONE.has(name))
        .sort(),
    );
    expect(actions.every((action) => action.examples.length > 0)).toBe(true);
  });

  for (const action of actions) {
    it(`${action.name}: re-planning each example against unchanged state gives the same plan digest`, async () => {
      for (const [index, example] of action.examples.entries()) {
        const params = { ...(action.schema.parse(example.params) as Record<string, unknown>), ...FAST[action.name] };
        const declared = action.resources(params as never).map((ref) => parseResource(ref.uri));
        const given = (example.given ?? []).map((uri) => parseResource(uri));
        const prepared = new Set<string>();
        for (const resource of [...declared, ...given]) {
          const handle = kit.opened.get(resource.kind);
          const container = `${resource.kind}:${resource.bucket ?? resource.table ?? resource.id}`;
          if (!handle || prepared.has(container)) continue;
          prepared.add(container);
          await handle.prepare(resource);
        }
        for (const resource of given) await kit.opened.get(resource.kind)!.perturb(resource, 'given');
        const ids = { idempotencyKey: `deterministic/${action.name}/${index}` };
        const first = await kit.call('plan', ids, (ctx) => action.plan(params as never, ctx));
        const second = await kit.call('plan', ids, (ctx) => action.plan(params as never, ctx));
        expect(planDigest(action.name, action.version, second), `${action.name} example ${index}: ${example.description}`).toBe(
          planDigest(action.name, action.version, first),
        );
      }
    });
  }
});
