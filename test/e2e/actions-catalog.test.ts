import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defaultCatalog } from '../../functions/actions/catalog.ts';
import { inputSchemaOf } from '../../functions/core/actions/catalog-view.ts';
import type { Action } from '../../functions/core/actions/contract.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack } from '../support/test-stack.ts';

let stack: EmbeddedStack;
beforeAll(async () => {
  stack = await startTestStack('actions-catalog');
});
afterAll(async () => {
  await stack?.stop();
});

const builtins = defaultCatalog().list();

/** The keys a caller must send: those whose schema refuses `undefined`. */
function requiredKeysOf(action: Action): string[] {
  const shape = (action.schema as unknown as z.ZodObject).shape as Record<string, z.ZodType>;
  return Object.keys(shape)
    .filter((key) => !shape[key].safeParse(undefined).success)
    .sort();
}

describe('GET /actions: the catalog every surface is built from', () => {
  it('lists every built-in, with its safety, resource kinds, a JSON Schema whose required keys match, and examples', async () => {
    const response = await api(stack, 'GET', '/actions');
    expect(response.status).toBe(200);
    // The configured packs' actions are listed too (test/e2e/packs.test.ts checks them).
    const listed = (response.body.actions as any[]).filter((entry) => entry.pack === 'builtin');
    expect(listed.map((entry) => entry.name).sort()).toStrictEqual(builtins.map((action) => action.name).sort());
    for (const action of builtins) {
      const entry = listed.find((candidate) => candidate.name === action.name);
      expect(entry).toMatchObject({
        version: action.version,
        pack: 'builtin',
        description: action.description,
        category: action.safety.category,
        requiresApproval: action.safety.requiresApproval,
        network: action.safety.budgets.network,
        budgets: { timeMs: action.safety.budgets.timeMs },
      });
      expect(entry.inputSchema.type, action.name).toBe('object');
      expect([...(entry.inputSchema.required ?? [])].sort(), action.name).toStrictEqual(requiredKeysOf(action));
      expect(entry.examples.length, action.name).toBeGreaterThan(0);
      // noop touches nothing, so it names no resource kind; every other built-in names at least one.
      if (action.name !== 'noop') expect(entry.resourceKinds.length, action.name).toBeGreaterThan(0);
    }
    const put = listed.find((entry) => entry.name === 's3.put-object');
    expect([...put.inputSchema.required].sort()).toStrictEqual(['body', 'bucket', 'key']);
    expect(put.resourceKinds).toStrictEqual(['s3']);
    expect(put.inputSchema.additionalProperties).toBe(false);
    expect(listed.find((entry) => entry.name === 'dynamodb.put-item').resourceKinds).toStrictEqual(['dynamodb']);
    expect(listed.find((entry) => entry.name === 'noop').resourceKinds).toStrictEqual([]);
  });

  it('serves examples that every one validate against their action zod schema', async () => {
    const listed = ((await api(stack, 'GET', '/actions')).body.actions as any[]).filter((entry) => entry.pack === 'builtin');
    for (const entry of listed) {
      const action = builtins.find((candidate) => candidate.name === entry.name) as Action;
      for (const example of entry.examples) {
        const parsed = action.schema.safeParse(example.params);
        expect(parsed.success, `${entry.name}: ${example.description}`).toBe(true);
      }
    }
  });

  it('serves one action by name', async () => {
    const response = await api(stack, 'GET', '/actions/s3.put-object');
    expect(response.status).toBe(200);
    expect(response.body.action).toMatchObject({ name: 's3.put-object', pack: 'builtin', category: 'WRITE' });
    expect(response.body.action.inputSchema.properties.bucket.type).toBe('string');
  });

  it('answers 404 ActionNotFound for an unknown name and for inherited property names', async () => {
    for (const name of ['shell.exec', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const response = await api(stack, 'GET', `/actions/${encodeURIComponent(name)}`);
      expect(response.status, name).toBe(404);
      expect(response.body.error, name).toMatchObject({ code: 'ActionNotFound', field: 'name' });
    }
  });

  it('is readable by every role and by no one without a token', async () => {
    for (const token of ['dev-operator', 'dev-approver', 'dev-admin']) {
      expect((await api(stack, 'GET', '/actions', { token })).status, token).toBe(200);
      expect((await api(stack, 'GET', '/actions/noop', { token })).status, token).toBe(200);
    }
    const anonymous = await api(stack, 'GET', '/actions', { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('Unauthenticated');
    expect((await api(stack, 'GET', '/actions/noop', { token: null })).status).toBe(401);
  });
});

describe('inputSchemaOf falls back instead of failing', () => {
  it('gives {} (anything) for parts zod cannot represent, never an error', () => {
    const weird = { ...builtins[0], schema: z.strictObject({ when: z.date(), check: z.custom<string>(() => true), big: z.bigint() }) } as Action;
    const schema = inputSchemaOf(weird) as any;
    expect(schema.type).toBe('object');
    expect(schema.properties.when).toStrictEqual({});
  });
});
