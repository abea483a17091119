import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack, waitForRun } from '../support/test-stack.ts';

let stack: EmbeddedStack;

beforeAll(async () => {
  Object.assign(process.env, {
    'MAESTRO_CONFIG__actions__s3.put-object__rateLimit': '{capacity: 3, refillPerSecond: 0.01}',
    MAESTRO_CONFIG__environments__frozen:
      '{autonomyCeiling: 2, approvers: [dev-approver], changeFreezes: [{name: "year-end", from: "2020-01-01T00:00:00Z", to: "2099-01-01T00:00:00Z"}], managedResources: {buckets: [maestro-demo]}}',
  });
  stack = await startTestStack('plan-simulation');
});
afterAll(async () => {
  await stack?.stop();
});

const planRun = async (environment: string, key: string) => {
  const created = await api(stack, 'POST', '/runs', {
    body: {
      goal: `simulate ${key}`,
      mode: 'PLAN',
      environment,
      reasonForAccess: 'plan simulation test',
      tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key, body: 'simulated\n' } }],
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const run = await waitForRun(stack, created.body.runId);
  expect(run.status).toBe('PLANNED');
  return (await api(stack, 'GET', `/runs/${run.id}`)).body.run;
};
const rateBucket = async () =>
  (
    await DynamoDBDocumentClient.from(new DynamoDBClient({})).send(
      new GetCommand({ TableName: stack.stateTable, Key: { pk: 'RATE#action:s3.put-object', sk: 'BUCKET' }, ConsistentRead: true }),
    )
  ).Item;

describe('a PLAN run simulates the apply gates', () => {
  it('records, per task, the policy decision with its policies, autonomy, approvers and quorum, freeze, blast radius and rate limit, in the run view and an event', async () => {
    const run = await planRun('prod', 'simulated/prod.txt');
    const verdicts = run.tasks[0].verdicts;
    expect(verdicts).toMatchObject({
      wouldApply: true,
      policy: { allowed: true, assumesApproval: true },
      autonomy: { level: 0, category: 'WRITE', unattended: false },
      approval: { required: true, approvers: ['dev-approver', 'dev-admin'], quorum: 1 },
      killSwitch: { engaged: false },
      freeze: { applies: true, overridden: false },
      blastRadius: { changing: 1, deletes: 0, withinLimits: true },
      rateLimit: { limited: true, allowed: true },
    });
    expect(verdicts.policy.policyIds.length).toBeGreaterThan(0);
    expect(verdicts.policy.resources).toEqual([
      { uri: `s3://${stack.demoBucket}/simulated/prod.txt`, access: 'write', allowed: true, policyIds: verdicts.policy.policyIds },
    ]);
    const events = (await api(stack, 'GET', `/runs/${run.id}/events`)).body.events as { type: string; message: string; payload: any }[];
    const simulated = events.find((event) => event.type === 'PlanSimulated')!;
    expect(simulated.message).toContain('1 approval(s) from dev-approver, dev-admin');
    expect(simulated.payload.tasks[0]).toMatchObject({ taskIndex: 0, ...verdicts });
  });

  it('names an active change freeze, and changes no state: no rate-limit token is taken, nothing is written', async () => {
    expect(await rateBucket()).toBeUndefined();
    for (let i = 0; i < 4; i++) {
      const run = await planRun('frozen', `simulated/frozen-${i}.txt`);
      expect(run.tasks[0].verdicts).toMatchObject({
        wouldApply: false,
        freeze: { applies: true, active: 'year-end', overridden: false },
        autonomy: { level: 2, unattended: true },
        approval: { required: false },
        rateLimit: { limited: true, allowed: true },
      });
    }
    // Four simulations against a bucket of three: still untouched, so an apply would still get its token.
    expect(await rateBucket()).toBeUndefined();
    const head = await fetch(`${stack.endpoints.s3}/${stack.demoBucket}/simulated/frozen-0.txt`, { method: 'HEAD' });
    expect(head.status).toBe(404);
  });
});
