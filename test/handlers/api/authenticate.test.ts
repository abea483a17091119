import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { authenticate } from '../../../functions/handlers/api/authenticate.ts';
import { errorResponse } from '../../../functions/handlers/api/http.ts';
import { loadConfig } from '../../../functions/handlers/shared/config.ts';

// Synthetic API Gateway events as IAM authorization delivers them (requestContext.identity.userArn / caller).
const ACCOUNT = '123456789012';
const iamEvent = (userArn: string | undefined, caller?: string) =>
  ({ headers: {}, requestContext: { identity: { userArn, caller, sourceIp: '10.0.0.1' } } }) as unknown as APIGatewayProxyEvent;
const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` }, requestContext: { identity: {} } }) as unknown as APIGatewayProxyEvent;

const config = (roles: Record<string, string[]>) =>
  loadConfig({ MAESTRO_STATE_TABLE: 'maestro-state', MAESTRO_AUTH_MODE: 'iam', MAESTRO_IAM_ROLES: JSON.stringify(roles) }).identity;
const devConfig = loadConfig({ MAESTRO_STATE_TABLE: 'maestro-state', MAESTRO_AUTH_MODE: 'dev-tokens' }).identity;

/** What the API answers when authentication throws: status, code, message. */
async function answer(run: () => Promise<unknown>): Promise<{ status: number; code?: string; message?: string }> {
  try {
    await run();
    return { status: 200 };
  } catch (error) {
    const response = errorResponse(error, 'test');
    const body = JSON.parse(response.body) as { error: { code: string; message: string } };
    return { status: response.statusCode, code: body.error.code, message: body.error.message };
  }
}

describe('IAM mode fails closed', () => {
  const mapped = config({
    [`arn:aws:iam::${ACCOUNT}:role/ops`]: ['operator'],
    [`arn:aws:iam::${ACCOUNT}:role/teams/payments/approvers`]: ['approver'],
    [`arn:aws:iam::${ACCOUNT}:user/alice`]: ['admin', 'operator'],
  });

  it('refuses an unmapped principal with 403 naming what to configure (today: operator)', async () => {
    const refused = await answer(() => authenticate(iamEvent(`arn:aws:sts::${ACCOUNT}:assumed-role/intern/laptop`, 'AROAEXAMPLE:laptop'), mapped));
    expect(refused).toMatchObject({ status: 403, code: 'Forbidden' });
    expect(refused.message).toContain('MAESTRO_IAM_ROLES');
    expect(refused.message).toContain(`arn:aws:iam::${ACCOUNT}:role/intern`);
    for (const arn of [
      `arn:aws:iam::${ACCOUNT}:user/bob`,
      `arn:aws:iam::${ACCOUNT}:root`,
      `arn:aws:sts::${ACCOUNT}:federated-user/alice`,
      `arn:aws:sts::999999999999:assumed-role/ops/s1`,
    ]) {
      expect((await answer(() => authenticate(iamEvent(arn), mapped))).status, arn).toBe(403);
    }
    expect((await answer(() => authenticate(iamEvent(`arn:aws:iam::${ACCOUNT}:user/bob`), config({})))).status).toBe(403);
    expect((await answer(() => authenticate(iamEvent(undefined), mapped))).status).toBe(401);
  });

  it('maps an assumed-role session through its role ARN (paths included); the session name never matters', async () => {
    const a = await authenticate(iamEvent(`arn:aws:sts::${ACCOUNT}:assumed-role/ops/alice-session`), mapped);
    const b = await authenticate(iamEvent(`arn:aws:sts::${ACCOUNT}:assumed-role/ops/anything-else`), mapped);
    expect(a).toEqual({ id: `arn:aws:iam::${ACCOUNT}:role/ops`, roles: ['operator'], kind: 'iam', issuer: 'aws-iam' });
    expect(b).toEqual(a); // one principal: a second session cannot approve its own run or vote twice
    expect(await authenticate(iamEvent(`arn:aws:sts::${ACCOUNT}:assumed-role/approvers/x`), mapped)).toEqual({
      id: `arn:aws:iam::${ACCOUNT}:role/teams/payments/approvers`,
      roles: ['approver'],
      kind: 'iam',
      issuer: 'aws-iam',
    });
    expect(await authenticate(iamEvent(`arn:aws:iam::${ACCOUNT}:user/alice`), mapped)).toEqual({
      id: `arn:aws:iam::${ACCOUNT}:user/alice`,
      roles: ['admin', 'operator'],
      kind: 'iam',
      issuer: 'aws-iam',
    });
  });

  it('refuses, at start-up, a mapping keyed on a session ARN or naming an unknown role', () => {
    expect(() => config({ [`arn:aws:sts::${ACCOUNT}:assumed-role/ops/alice`]: ['admin'] })).toThrow(/MAESTRO_IAM_ROLES.*never an assumed-role session/);
    expect(() => config({ [`arn:aws:iam::${ACCOUNT}:role/ops`]: ['root'] })).toThrow(/MAESTRO_IAM_ROLES/);
    expect(() => loadConfig({ MAESTRO_STATE_TABLE: 'maestro-state', MAESTRO_IAM_ROLES: '{"__proto__": ["admin"]}' })).toThrow(/MAESTRO_IAM_ROLES/);
  });
});

describe('dev tokens are own entries only', () => {
  it('answers 401 (never 500) to inherited property names as tokens', async () => {
    for (const token of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf']) {
      expect(await answer(() => authenticate(bearer(token), devConfig)), token).toMatchObject({ status: 401, code: 'Unauthenticated' });
    }
    expect((await authenticate(bearer('dev-operator'), devConfig)).id).toBe('dev-operator');
  });
});

describe('development tokens stay on the embedded stack', () => {
  it('refuses a development token in iam mode (401 naming the mode), and dev-tokens mode in Lambda at start-up', async () => {
    const refused = await answer(() => authenticate(bearer('dev-admin'), config({})));
    expect(refused).toMatchObject({ status: 401, code: 'Unauthenticated' });
    expect(refused.message).toContain('authMode is iam');
    expect(() => loadConfig({ MAESTRO_STATE_TABLE: 'maestro-state', MAESTRO_AUTH_MODE: 'dev-tokens', AWS_LAMBDA_FUNCTION_NAME: 'maestro-api' })).toThrow(
      /dev-tokens.*refused in Lambda \(maestro-api\)/,
    );
  });

  it('refuses a JWT when no OIDC issuer is configured (401), whatever the mode', async () => {
    const jwt = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJkZXYtYWRtaW4ifQ.';
    for (const identity of [devConfig, config({})]) {
      const refused = await answer(() => authenticate(bearer(jwt), identity));
      expect(refused).toMatchObject({ status: 401, code: 'Unauthenticated' });
      expect(refused.message).toContain('identity.oidc is not configured');
    }
  });
});
