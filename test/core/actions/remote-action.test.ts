import { describe, expect, it } from 'vitest';
import type { ActionContext } from '../../../functions/core/actions/contract.ts';
import { remoteAction } from '../../../functions/core/actions/remote-action.ts';
import { REMOTE_LIMITS, RemoteActionRequest, remoteTransports } from '../../../functions/core/actions/remote-protocol.ts';
import type { RemoteActionTransport, RemotePhase } from '../../../functions/core/actions/remote-protocol.ts';
import { ActionFailed, ActionProtocolError, StalePlan, TransientError, VerificationFailed } from '../../../functions/core/errors.ts';
import type { TaskPlan } from '../../../functions/core/runs/model.ts';
import { ActionCatalog } from '../../../functions/core/actions/catalog.ts';
import { executeTask } from '../../../functions/core/runs/task-executor.ts';
import { s3NoteRemoteAction } from '../../fixtures/remote-actions/remote-actions.ts';

/**
 * maestro.action/v1 as Maestro reads it: every reply a remote could give, checked before anything of
 * it is used. The transport here is a port answering fixed text (the real transports have their own
 * tests in test/local/remote-actions and test/adapters).
 */
const params = { bucket: 'maestro-demo', key: 'remote/unit.txt', text: 'hello' };
const resource = 's3://maestro-demo/remote/unit.txt';
const goodPlan: TaskPlan = {
  summary: 'create it',
  change: 'create',
  resource,
  diff: '+hello\n',
  preconditions: { etag: null },
  data: { previousVersionId: null },
};

/** A transport answering `replies[phase]` and recording every request it was sent. */
function scripted(replies: Partial<Record<RemotePhase, unknown>>) {
  const sent: RemoteActionRequest[] = [];
  const transport: RemoteActionTransport = {
    async invoke(_endpoint, request) {
      sent.push(request);
      const reply = replies[request.phase];
      return typeof reply === 'string' ? reply : JSON.stringify(reply);
    },
  };
  return { transport, sent };
}

const contextWith = (remote?: RemoteActionTransport): ActionContext => ({
  objects: {} as ActionContext['objects'],
  items: {} as ActionContext['items'],
  runId: 'run-1',
  taskIndex: 0,
  idempotencyKey: 'key-1',
  attempt: 2,
  environment: 'dev',
  remote,
});

const action = s3NoteRemoteAction();

async function refusal(phase: RemotePhase, reply: unknown): Promise<Error> {
  const { transport } = scripted({ plan: { ok: true, plan: goodPlan }, [phase]: reply });
  const ctx = contextWith(transport);
  try {
    const plan = await action.plan(params, ctx);
    if (phase === 'apply') await action.apply(plan, ctx);
    if (phase === 'verify') await action.verify(plan, {}, ctx);
    if (phase === 'rollback') await action.rollback(plan, undefined, ctx);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`the ${phase} reply ${JSON.stringify(reply)} was accepted`);
}

describe('a remote action’s round trip', () => {
  it('sends each phase a maestro.action/v1 request, and gets the input and its own plan data back after plan', async () => {
    const { transport, sent } = scripted({
      plan: { ok: true, plan: goodPlan },
      apply: { ok: true, outcome: { versionId: 'v1' } },
      verify: { ok: true },
      rollback: { ok: true },
    });
    const ctx = contextWith(transport);
    const plan = await action.plan(params, ctx);
    expect(plan.resource).toBe(resource);
    expect(plan.data).toEqual({ input: params, remote: goodPlan.data });
    expect(await action.apply(plan, ctx)).toEqual({ versionId: 'v1' });
    await action.verify(plan, { versionId: 'v1' }, ctx);
    await action.rollback(plan, undefined, ctx);

    expect(sent.map((request) => request.phase)).toEqual(['plan', 'apply', 'verify', 'rollback']);
    for (const request of sent) {
      expect(RemoteActionRequest.parse(request)).toEqual(request);
      expect(request.input).toEqual(params);
      expect(request.context).toMatchObject({ runId: 'run-1', taskIndex: 0, idempotencyKey: 'key-1', environment: 'dev' });
    }
    // The remote sees its own plan, as it made it; the attempt only in apply.
    expect(sent[1].plan).toEqual(goodPlan);
    expect(sent[1].context.attempt).toBe(2);
    expect(sent[0].context.attempt).toBeUndefined();
    expect(sent[2].outcome).toEqual({ versionId: 'v1' });
    expect('outcome' in sent[3]).toBe(false);
  });

  it('is marked remote, so the executor runs its apply itself and never in the sandbox', async () => {
    expect(action.remote).toBe(true);
    expect(action.endpoint).toMatchObject({ services: ['s3'] });
    const { transport, sent } = scripted({ apply: { ok: true, outcome: { done: true } } });
    const isolated: unknown[] = [];
    const outcome = await executeTask(
      {
        catalog: new ActionCatalog([action]),
        targets: () => contextWith(transport),
        applyIsolated: async (request) => {
          isolated.push(request);
          return {};
        },
        clock: () => new Date(),
      },
      {
        operation: 'apply',
        action: action.name,
        actionVersion: action.version,
        runId: 'run-1',
        environment: 'dev',
        taskIndex: 0,
        idempotencyKey: 'key-1',
        attempt: 1,
        plan: { ...goodPlan, data: { input: params, remote: goodPlan.data } },
      },
    );
    expect(outcome).toEqual({ done: true });
    expect(isolated).toHaveLength(0);
    expect(sent.map((request) => request.phase)).toEqual(['apply']);
  });
});

describe('a malformed reply is an ActionProtocolError naming what was wrong', () => {
  const cases: [string, RemotePhase, unknown, string, RegExp][] = [
    ['not JSON', 'plan', 'Sure! Here is your plan.', 'not-json', /not JSON.*Sure! Here is your plan/],
    ['empty', 'plan', '', 'not-json', /not JSON.*\(empty\)/],
    ['a JSON array', 'plan', [], 'wrong-shape', /\(reply\)/],
    ['no ok', 'plan', { plan: goodPlan }, 'wrong-shape', /ok/],
    ['a plan of the wrong shape', 'plan', { ok: true, plan: { ...goodPlan, summary: 42 } }, 'wrong-shape', /plan\.summary/],
    ['an unknown change', 'plan', { ok: true, plan: { ...goodPlan, change: 'explode' } }, 'wrong-shape', /plan\.change/],
    ['a plan missing its data', 'plan', { ok: true, plan: { ...goodPlan, data: undefined } }, 'wrong-shape', /plan\.data/],
    ['an extra key', 'plan', { ok: true, plan: goodPlan, approved: true }, 'wrong-shape', /approved/],
    ['a plan reply without a plan', 'plan', { ok: true }, 'wrong-shape', /plan/],
    ['another protocol', 'plan', { protocol: 'maestro.action/v2', ok: true, plan: goodPlan }, 'wrong-shape', /protocol/],
    ['an apply reply without an outcome', 'apply', { ok: true }, 'wrong-shape', /outcome/],
    ['an outcome that is not an object', 'apply', { ok: true, outcome: 'done' }, 'wrong-shape', /outcome/],
    ['a verify reply carrying a plan', 'verify', { ok: true, plan: goodPlan }, 'wrong-shape', /plan/],
    ['an error without a message', 'rollback', { ok: false, error: { name: 'ActionFailed' } }, 'wrong-shape', /error\.message/],
    [
      'a reply over the limit',
      'plan',
      JSON.stringify({ ok: true, plan: { ...goodPlan, diff: 'x'.repeat(REMOTE_LIMITS.replyBytes) } }),
      'reply-too-large',
      /bytes/,
    ],
    [
      'a plan naming an undeclared resource',
      'plan',
      { ok: true, plan: { ...goodPlan, resource: 's3://maestro-artifacts/audit/head.json' } },
      'undeclared-resource',
      /maestro-artifacts/,
    ],
  ];
  for (const [what, phase, reply, reason, message] of cases) {
    it(`${phase}: ${what} → ${reason}`, async () => {
      const error = await refusal(phase, reply);
      expect(error).toBeInstanceOf(ActionProtocolError);
      expect((error as ActionProtocolError).details).toMatchObject({ action: 'fixture.s3-note', phase, reason });
      expect(error.message).toMatch(message);
      expect(error.message).toContain(`remote action fixture.s3-note (${phase})`);
    });
  }

  it('refuses to send a request over the limit (request-too-large)', async () => {
    const { transport, sent } = scripted({ plan: { ok: true, plan: goodPlan } });
    const big = { ...params, text: 'x'.repeat(REMOTE_LIMITS.requestBytes) };
    const error = await action.plan(big, contextWith(transport)).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(ActionProtocolError);
    expect((error as ActionProtocolError).details?.reason).toBe('request-too-large');
    expect(sent).toHaveLength(0);
  });

  it('refuses an endpoint kind this deployment has no transport for (unsupported-endpoint)', async () => {
    const onlyLambda = remoteTransports({ lambda: scripted({}).transport });
    const error = await action.plan(params, contextWith(onlyLambda)).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(ActionProtocolError);
    expect((error as ActionProtocolError).details).toMatchObject({ reason: 'unsupported-endpoint', served: ['lambda'] });
  });

  it('fails as ActionFailed in an executor with no transport at all', async () => {
    await expect(action.plan(params, contextWith(undefined))).rejects.toBeInstanceOf(ActionFailed);
  });
});

describe('a remote’s error names: a safe allowlist keeps its meaning, anything else is ActionFailed', () => {
  const failure = (name: string) => ({ ok: false, error: { name, message: 'as the remote says' } });

  it('StalePlan from apply, VerificationFailed from verify, TransientError and ActionFailed from any phase', async () => {
    expect(await refusal('apply', failure('StalePlan'))).toBeInstanceOf(StalePlan);
    expect(await refusal('verify', failure('VerificationFailed'))).toBeInstanceOf(VerificationFailed);
    expect(await refusal('plan', failure('TransientError'))).toBeInstanceOf(TransientError);
    const failed = await refusal('rollback', failure('ActionFailed'));
    expect(failed).toBeInstanceOf(ActionFailed);
    expect(failed.message).toContain('as the remote says');
  });

  it('a mapped name in the wrong phase, a Maestro gate’s name, or an inherited property name is ActionFailed', async () => {
    for (const [phase, name] of [
      ['plan', 'StalePlan'],
      ['apply', 'VerificationFailed'],
      ['plan', 'KillSwitchEngaged'],
      ['apply', 'PolicyDenied'],
      ['verify', 'ActionProtocolError'],
      ['plan', 'constructor'],
      ['plan', '__proto__'],
    ] as const) {
      const error = await refusal(phase, failure(name));
      expect(error.constructor).toBe(ActionFailed);
      expect((error as ActionFailed).details).toEqual({ remoteError: name });
      expect(error.message).toContain(`[${name}]`);
    }
  });
});

describe('a remote action’s definition', () => {
  it('refuses a bad endpoint at construction, naming the field', () => {
    expect(() => s3NoteRemoteAction({ endpoint: { command: [] } as never })).toThrow(/endpoint/);
    expect(() => s3NoteRemoteAction({ endpoint: { lambdaArn: 'arn:aws:s3:::bucket' } })).toThrow(/Lambda function ARN|endpoint/);
    expect(() => s3NoteRemoteAction({ endpoint: { url: 'file:///etc/passwd' } })).toThrow(/endpoint/);
    expect(() => remoteAction({ ...s3NoteRemoteAction(), endpoint: { command: ['x'], env: { 'BAD NAME': '1' } } })).toThrow(/endpoint\.env/);
  });
});
