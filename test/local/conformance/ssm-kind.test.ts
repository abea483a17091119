import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseResource } from '../../../functions/core/actions/resources.ts';
import type { ParameterStore } from '../../../functions/core/actions/target-ports.ts';
import { startConformanceKit } from '../../../local/conformance/kit.ts';
import type { ConformanceKit } from '../../../local/conformance/kit.ts';

let kit: ConformanceKit;
beforeAll(async () => {
  kit = await startConformanceKit({ services: ['ssm'] });
});
afterAll(() => kit?.stop());

const resource = parseResource('ssm:///maestro-demo/flags/beta');
/** The port the SSM kind puts in the context (the deploy actions' `parameters`). */
const portOf = (ctx: object) => (ctx as { parameters: ParameterStore }).parameters;

it('records the SSM commands an action sends, read or not, under the parameter without its version selector', async () => {
  const ssm = kit.opened.get('ssm')!;
  await ssm.prepare(resource);
  kit.clearJournal();
  await kit.call('apply', { idempotencyKey: 'k' }, async (ctx) => {
    await portOf(ctx).put({ name: '/maestro-demo/flags/beta', value: 'on', type: 'String', overwrite: false });
    await portOf(ctx).getVersion('/maestro-demo/flags/beta', 1);
  });
  expect(kit.journal.map(({ command, resource, read }) => ({ command, resource, read }))).toEqual([
    { command: 'PutParameter', resource: 'ssm:///maestro-demo/flags/beta', read: false },
    { command: 'GetParameter', resource: 'ssm:///maestro-demo/flags/beta', read: true },
  ]);
});

it('snapshots a parameter as its value (state) and its versions (history), perturbs it with a new version, and prepares it from nothing', async () => {
  const ssm = kit.opened.get('ssm')!;
  await ssm.prepare(resource);
  expect(await ssm.snapshot(resource)).toEqual({ state: null, history: [] });
  await kit.call('apply', { idempotencyKey: 'k' }, (ctx) =>
    portOf(ctx).put({ name: '/maestro-demo/flags/beta', value: 'on', type: 'String', overwrite: false }),
  );
  const written = await ssm.snapshot(resource);
  expect(written.state).toEqual({ value: 'on', type: 'String' });
  expect(await ssm.perturb(resource, 'n1')).toBe(true);
  const perturbed = await ssm.snapshot(resource);
  expect(perturbed.state).toEqual({ value: 'changed out of band by the conformance kit (n1)', type: 'String' });
  expect((perturbed.history as unknown[]).length).toBe(2);
  await ssm.prepare(resource);
  expect(await ssm.snapshot(resource)).toEqual({ state: null, history: [] });
});
