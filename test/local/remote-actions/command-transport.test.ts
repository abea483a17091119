import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { ActionContext } from '../../../functions/core/actions/contract.ts';
import type { RemoteAction } from '../../../functions/core/actions/remote-action.ts';
import { ActionProtocolError, BudgetExceeded } from '../../../functions/core/errors.ts';
import { commandTransport } from '../../../local/remote-actions/command-transport.ts';
import { helloRemoteAction, misbehavingRemoteAction } from '../../fixtures/remote-actions/remote-actions.ts';
import type { Misbehaviour } from '../../fixtures/remote-actions/remote-actions.ts';

/**
 * The embedded stack's command transport with real processes (test/fixtures/remote-actions/): what a
 * command that misbehaves comes to, what reaches its environment, and that it is stopped.
 */
const params = { bucket: 'maestro-demo', key: 'remote/command.txt', text: 'hello' };
const MAESTRO_ENV = {
  PATH: process.env.PATH ?? '',
  MAESTRO_STATE_TABLE: 'maestro-state',
  AWS_SECRET_ACCESS_KEY: 'maestro-own-secret',
  POWERTOOLS_SERVICE_NAME: 'maestro',
};

const contextWith = (transport = commandTransport({ env: MAESTRO_ENV }), signal?: AbortSignal): ActionContext => ({
  objects: {} as ActionContext['objects'],
  items: {} as ActionContext['items'],
  runId: 'run-1',
  taskIndex: 0,
  idempotencyKey: 'key-1',
  environment: 'dev',
  remote: transport,
  signal,
});

async function planError(action: RemoteAction<typeof params>, ctx = contextWith()): Promise<ActionProtocolError> {
  const error = await action.plan(params, ctx).then(
    () => undefined,
    (caught: Error) => caught,
  );
  expect(error).toBeInstanceOf(ActionProtocolError);
  return error as ActionProtocolError;
}

describe('a command that breaks the protocol', () => {
  const reasons: [Misbehaviour, string, RegExp][] = [
    ['garbage', 'not-json', /not JSON.*Sure! Here is the plan/],
    ['empty', 'not-json', /\(empty\)/],
    ['wrong-shape', 'wrong-shape', /plan\.summary.*plan\.change|plan\.change.*plan\.summary/],
    ['extra-key', 'wrong-shape', /approved/],
    ['undeclared-resource', 'undeclared-resource', /maestro-artifacts/],
    ['flood', 'reply-too-large', /262144 bytes/],
  ];
  for (const [mode, reason, message] of reasons) {
    it(`${mode} → ActionProtocolError ${reason}`, async () => {
      const error = await planError(misbehavingRemoteAction(mode));
      expect(error.details).toMatchObject({ phase: 'plan', reason });
      expect(error.message).toMatch(message);
    });
  }

  it('exits non-zero → exit-status, with its standard error in the message', async () => {
    const error = await planError(misbehavingRemoteAction('exit'));
    expect(error.details).toMatchObject({ reason: 'exit-status', exitCode: 3 });
    expect(error.message).toContain('exited with status 3: something broke: cannot reach the inventory');
  });

  it('never answers → timeout, and the process is killed', async () => {
    const error = await planError(misbehavingRemoteAction('hang', { timeMs: 2_000 }));
    expect(error.details).toMatchObject({ reason: 'timeout', timeMs: 2_000 });
    const pid = Number(/pid (\d+)/.exec(String(error.details?.stderr))?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('a command that cannot be started → unreachable', async () => {
    const action = misbehavingRemoteAction('garbage');
    const missing = { ...action, endpoint: { command: ['/nonexistent/remote-action'] } };
    const transport = commandTransport({ env: MAESTRO_ENV });
    const error = await transport
      .invoke(missing.endpoint, { ...requestOf('plan'), action: { name: action.name, version: action.version } }, { timeMs: 5_000, maxReplyBytes: 1024 })
      .catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(ActionProtocolError);
    expect((error as ActionProtocolError).details?.reason).toBe('unreachable');
  });

  it('an abandoned call (apply’s time budget) kills the command and keeps the budget’s own error', async () => {
    const controller = new AbortController();
    const action = misbehavingRemoteAction('hang', { timeMs: 60_000 });
    const pending = action.plan(params, contextWith(undefined, controller.signal)).catch((caught: Error) => caught);
    await new Promise((resolve) => setTimeout(resolve, 300));
    controller.abort(new BudgetExceeded('fixture.hang ran past its time budget'));
    const error = await pending;
    expect(error).toBeInstanceOf(BudgetExceeded);
  });
});

describe('what a command gets', () => {
  it('PATH, a temporary directory as cwd, HOME and TMPDIR, its declared variables: none of Maestro’s environment', async () => {
    const action = misbehavingRemoteAction('env', { env: { GREETING: 'hi' } });
    const plan = await action.plan(params, contextWith());
    const { env, cwd } = (plan.data.remote as { env: Record<string, string>; cwd: string }) ?? {};
    expect(Object.keys(env).sort()).toEqual(['GREETING', 'HOME', 'PATH', 'TMPDIR']);
    expect(env.PATH).toBe(MAESTRO_ENV.PATH);
    expect(env.HOME).toBe(cwd);
    expect(cwd.startsWith(tmpdir())).toBe(true);
    // Removed once the command has exited.
    expect(existsSync(cwd)).toBe(false);
  });

  it('the endpoints and credentials of the services it declares, and only those', async () => {
    const serviceEnvironment = (services: readonly string[]) =>
      Object.fromEntries(services.map((service) => [`AWS_ENDPOINT_URL_${service.toUpperCase()}`, `http://127.0.0.1:9/${service}`]));
    const action = misbehavingRemoteAction('env', { services: ['s3'] });
    const plan = await action.plan(params, contextWith(commandTransport({ env: MAESTRO_ENV, serviceEnvironment })));
    const { env } = plan.data.remote as { env: Record<string, string> };
    expect(Object.keys(env).sort()).toEqual(['AWS_ENDPOINT_URL_S3', 'HOME', 'PATH', 'TMPDIR']);
  });
});

describe('remote actions in other languages (the examples of docs/remote-actions.md)', () => {
  for (const script of ['hello.py', 'hello.sh'] as const) {
    it(`${script}: plan, apply, verify and rollback`, async () => {
      const action = helloRemoteAction(script);
      const ctx = contextWith();
      const plan = await action.plan({ name: 'Ada' }, ctx);
      expect(plan).toMatchObject({ summary: 'say hello to Ada', change: 'none', resource: 'noop://' });
      expect(await action.apply(plan, ctx)).toEqual({ said: 'hello, Ada' });
      await action.verify(plan, { said: 'hello, Ada' }, ctx);
      await action.rollback(plan, undefined, ctx);
    });
  }
});

function requestOf(phase: 'plan') {
  return {
    protocol: 'maestro.action/v1' as const,
    action: { name: 'x', version: '1.0.0' },
    phase,
    input: params,
    context: { runId: 'run-1', taskIndex: 0, idempotencyKey: 'key-1', environment: 'dev', deadline: new Date().toISOString() },
  };
}
