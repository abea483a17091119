import { generateKeyPair, importJWK, SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import type { JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStack } from '../../local/stack.ts';
import { API_RESOURCE } from '../../local/oidc/dev-oidc-provider.ts';
import { agentToken, signIn } from '../../local/oidc/sign-in.ts';
import { api, startTestStack, waitForRun, waitForRunWhere } from '../support/test-stack.ts';

// Tokens come from the embedded OpenID provider (authorization code + PKCE through its login
// interaction, and client credentials); bad ones are forged with jose: with the provider's own key
// (so only the claim is wrong), with a key of our own, with alg none, or altered after signing.
let stack: EmbeddedStack;
let issuer: string;
const redirectUri = () => `${stack.endpoints.api}/console/callback`;
const tokenOf = async (user: string) => (await signIn({ issuer, redirectUri: redirectUri(), user })).accessToken;

beforeAll(async () => {
  Object.assign(process.env, {
    // An environment whose approver is listed by email, not by subject.
    MAESTRO_CONFIG__environments__staging:
      '{autonomyCeiling: 0, approvers: [approver2@maestro.example], quorum: 1, approvalDeadlineSeconds: 600, managedResources: {buckets: [maestro-demo]}}',
  });
  stack = await startTestStack('oidc');
  issuer = stack.endpoints.oidc!;
});
afterAll(async () => {
  await stack?.stop();
});

const runBody = (environment: string, key: string) => ({
  goal: `oidc ${key}`,
  mode: 'APPLY',
  environment,
  reasonForAccess: 'oidc identity end-to-end test',
  tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key, body: `${key}\n` } }],
});

/** A token signed with the provider's current private key: everything right but what `claims` changes. */
async function signedByProvider(claims: Record<string, unknown>, options: { expiresAt?: number } = {}) {
  const jwk = stack.oidc!.signingKeys()[0];
  const key = await importJWK(jwk, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    sub: 'dev-operator',
    iss: issuer,
    aud: API_RESOURCE,
    iat: now - 60,
    exp: options.expiresAt ?? now + 600,
    email: 'operator@maestro.example',
    groups: ['maestro-operators'],
    ...claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid: jwk.kid })
    .sign(key);
}

describe('OIDC sign-in for people and machines', () => {
  it('accepts an access token and an ID token from the provider: the run is requested by the subject', async () => {
    const tokens = await signIn({ issuer, redirectUri: redirectUri(), user: 'dev-operator' });
    for (const token of [tokens.accessToken, tokens.idToken]) {
      const created = await api(stack, 'POST', '/runs', { token, body: { goal: 'read only', mode: 'PLAN', tasks: [{ action: 'noop', params: {} }] } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const run = (await api(stack, 'GET', `/runs/${created.body.runId}`)).body.run;
      expect(run.requestedBy).toBe('dev-operator');
    }
  });

  it('accepts a machine (client credentials) in the operator group, and refuses it what operators may not do', async () => {
    const token = await agentToken(issuer);
    expect(decodeJwt(token)).toMatchObject({ sub: 'maestro-agent', aud: API_RESOURCE });
    const created = await api(stack, 'POST', '/runs', { token, body: { goal: 'agent', mode: 'PLAN', tasks: [{ action: 'noop', params: {} }] } });
    expect(created.status).toBe(201);
    const refused = await api(stack, 'POST', '/control/kill-switch', { token, body: { engaged: true, reason: 'not an admin here' } });
    expect(refused.status).toBe(403);
  });

  it('answers 403 to a valid token whose groups map to no role, naming the groups', async () => {
    const refused = await api(stack, 'GET', '/runs', { token: await tokenOf('dev-guest') });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('Forbidden');
    expect(refused.body.error.message).toContain('contractors');
    expect(refused.body.error.message).toContain('groupRoles');
  });
});

describe('bad tokens are 401 with a message that says what is wrong', () => {
  it('refuses expired, wrong-audience, wrong-issuer, not-yet-valid, alg none, tampered and unknown-kid tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    const good = await tokenOf('dev-operator');
    expect((await api(stack, 'GET', '/runs', { token: good })).status).toBe(200);
    const [header, payload, signature] = good.split('.');
    const altered = JSON.stringify({ ...decodeJwt(good), groups: ['maestro-admins'] });
    const { privateKey: ours } = await generateKeyPair('RS256');
    const cases: [string, string, RegExp][] = [
      ['expired', await signedByProvider({}, { expiresAt: now - 3600 }), /expired/],
      ['wrong audience', await signedByProvider({ aud: 'some-other-api' }), /audience "some-other-api", not urn:maestro:api or maestro-console/],
      ['wrong issuer', await signedByProvider({ iss: 'https://evil.example' }), /issued by "https:\/\/evil.example", not by http:\/\/127\.0\.0\.1/],
      ['not yet valid', await signedByProvider({ nbf: now + 3600 }), /not valid yet/],
      [
        'alg none',
        `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(decodeJwt(good))).toString('base64url')}.`,
        /algorithm "none" is not accepted/,
      ],
      ['tampered payload', `${header}.${Buffer.from(altered).toString('base64url')}.${signature}`, /signature does not verify/],
      ['tampered signature', `${header}.${payload}.${signature.slice(0, -4)}AAAA`, /signature does not verify/],
      [
        'own key, unknown kid',
        await new SignJWT({ groups: ['maestro-admins'] })
          .setProtectedHeader({ alg: 'RS256', kid: 'attacker-key' })
          .setSubject('dev-admin')
          .setIssuer(issuer)
          .setAudience(API_RESOURCE)
          .setExpirationTime(now + 600)
          .sign(ours),
        /no key of http:\/\/127\.0\.0\.1:\d+ matches the token's kid "attacker-key"/,
      ],
      [
        'HMAC with the public key as secret',
        await new SignJWT({ groups: ['maestro-admins'] })
          .setProtectedHeader({ alg: 'HS256', kid: stack.oidc!.signingKeys()[0].kid })
          .setSubject('dev-admin')
          .setIssuer(issuer)
          .setAudience(API_RESOURCE)
          .setExpirationTime(now + 600)
          .sign(new TextEncoder().encode(JSON.stringify(publicPart(stack.oidc!.signingKeys()[0])))),
        /algorithm "HS256" is not accepted/,
      ],
    ];
    for (const [name, token, message] of cases) {
      const refused = await api(stack, 'POST', '/runs', { token, body: { goal: name, mode: 'PLAN', tasks: [{ action: 'noop', params: {} }] } });
      expect(refused.status, name).toBe(401);
      expect(refused.body.error.code, name).toBe('Unauthenticated');
      expect(refused.body.error.message, name).toMatch(message);
    }
    // Nothing was created by any of them.
    const runs = (await api(stack, 'GET', '/runs?limit=100')).body.runs as { goal: string }[];
    expect(runs.filter((run) => cases.some(([name]) => run.goal === name))).toEqual([]);
  });

  it('follows a key rotation: a token signed with the new key is accepted, one signed with the old key still is', async () => {
    stack.reconfigure({ identity: { oidc: { ...stack.oidc!.settings, jwksCooldownSeconds: 0 } } });
    const before = await tokenOf('dev-operator');
    expect((await api(stack, 'GET', '/runs', { token: before })).status).toBe(200); // the JWKS is now cached
    const rotated = await stack.oidc!.rotateKeys();
    const after = await tokenOf('dev-operator');
    expect(decodeProtectedHeader(after).kid).toBe(rotated.kid);
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
    expect((await api(stack, 'GET', '/runs', { token: after })).status).toBe(200);
    expect((await api(stack, 'GET', '/runs', { token: before })).status).toBe(200);
    stack.reconfigure();
  });
});

describe('approvers are identities, and decisions say who decided through which provider', () => {
  it('an approver signs in and approves; the decision event records the subject, the email and the issuer', { timeout: 120_000 }, async () => {
    const operator = await tokenOf('dev-operator');
    const created = await api(stack, 'POST', '/runs', { token: operator, body: runBody('prod', 'oidc/prod.txt') });
    expect(created.status).toBe(201);
    const runId = created.body.runId as string;
    await waitForRunWhere(stack, runId, (run) => run.status === 'AWAITING_APPROVAL', 'parked for approval');
    const approved = await api(stack, 'POST', `/runs/${runId}/approve`, { token: await tokenOf('dev-admin'), body: { comment: 'diff read' } });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    const run = await waitForRun(stack, runId);
    expect(run.status).toBe('SUCCEEDED');
    const events = (await api(stack, 'GET', `/runs/${runId}/events`)).body.events as { type: string; actor?: string; payload?: any }[];
    const granted = events.find((event) => event.type === 'ApprovalGranted')!;
    expect(granted.actor).toBe('dev-admin');
    expect(granted.payload.decidedBy).toEqual({ id: 'dev-admin', email: 'admin@maestro.example', kind: 'user', identityProvider: issuer });
    expect(run.approval.decisions[0]).toMatchObject({ by: 'dev-admin', identityProvider: issuer, email: 'admin@maestro.example', via: 'api' });
  });

  it('refuses the requester their own run, signed in as themselves', async () => {
    const admin = await tokenOf('dev-admin');
    const created = await api(stack, 'POST', '/runs', { token: admin, body: runBody('prod', 'oidc/own.txt') });
    const runId = created.body.runId as string;
    await waitForRunWhere(stack, runId, (run) => run.status === 'AWAITING_APPROVAL', 'parked for approval');
    const own = await api(stack, 'POST', `/runs/${runId}/approve`, { token: admin, body: {} });
    expect(own.status).toBe(403);
    expect(own.body.error.message).toContain('requester cannot approve');
    await api(stack, 'POST', `/runs/${runId}/cancel`, { token: admin, body: { reason: 'test done' } });
  });

  it('matches an approver listed by email, and refuses a non-listed approver', { timeout: 120_000 }, async () => {
    const created = await api(stack, 'POST', '/runs', { token: await tokenOf('dev-operator'), body: runBody('staging', 'oidc/staging.txt') });
    const runId = created.body.runId as string;
    await waitForRunWhere(stack, runId, (run) => run.status === 'AWAITING_APPROVAL', 'parked for approval');
    const operator = await api(stack, 'POST', `/runs/${runId}/approve`, { token: await tokenOf('dev-operator'), body: {} });
    expect(operator.status).toBe(403); // an operator has no approver role
    const notListed = await api(stack, 'POST', `/runs/${runId}/approve`, { token: await tokenOf('dev-approver'), body: {} });
    expect(notListed.status).toBe(403);
    expect(notListed.body.error.message).toContain('approver2@maestro.example');
    const listed = await api(stack, 'POST', `/runs/${runId}/approve`, { token: await tokenOf('dev-approver-2'), body: { comment: 'by email' } });
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect((await waitForRun(stack, runId)).status).toBe('SUCCEEDED');
  });
});

function publicPart(jwk: JWK): JWK {
  const { kty, n, e, kid } = jwk;
  return { kty, n, e, kid };
}
