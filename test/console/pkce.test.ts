import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { authorizationUrl, challengeOf, checkDiscovery, randomToken, tokenRequestBody, unverifiedClaims } from '../../console/src/lib/pkce.ts';

const settings = { issuer: 'http://127.0.0.1:4000', clientId: 'maestro-console', scope: 'openid email groups', resource: 'urn:maestro:api' };
const discovery = { issuer: settings.issuer, authorization_endpoint: `${settings.issuer}/auth`, token_endpoint: `${settings.issuer}/token` };

describe("the console's sign-in (authorization code + PKCE S256)", () => {
  it('derives the challenge as BASE64URL(SHA-256(verifier)), from a 64-character random verifier', async () => {
    const verifier = randomToken(48);
    expect(verifier).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(await challengeOf(verifier)).toBe(createHash('sha256').update(verifier).digest('base64url'));
  });

  it('asks for a code with the challenge, the state, the nonce and the resource; prompt=login only after a sign-out', () => {
    const request = { redirectUri: 'http://127.0.0.1:8080/console/callback', state: 's', nonce: 'n', challenge: 'c', forceLogin: false };
    const url = new URL(authorizationUrl(discovery, settings, request));
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'maestro-console',
      response_type: 'code',
      redirect_uri: request.redirectUri,
      scope: 'openid email groups',
      state: 's',
      nonce: 'n',
      code_challenge: 'c',
      code_challenge_method: 'S256',
      resource: 'urn:maestro:api',
    });
    expect(new URL(authorizationUrl(discovery, settings, { ...request, forceLogin: true })).searchParams.get('prompt')).toBe('login');
  });

  it('redeems the code with the verifier', () => {
    const body = new URLSearchParams(tokenRequestBody(settings, { code: 'abc', redirectUri: 'http://x/console/callback', verifier: 'v' }));
    expect(Object.fromEntries(body)).toEqual({
      grant_type: 'authorization_code',
      code: 'abc',
      redirect_uri: 'http://x/console/callback',
      client_id: 'maestro-console',
      code_verifier: 'v',
      resource: 'urn:maestro:api',
    });
  });

  it('refuses a discovery document of another issuer, or one without endpoints', () => {
    expect(() => checkDiscovery(settings, { ...discovery, issuer: 'http://evil.example' })).toThrow(/not http:\/\/127.0.0.1:4000/);
    expect(() => checkDiscovery(settings, { issuer: settings.issuer })).toThrow(/authorization_endpoint/);
    expect(checkDiscovery(settings, discovery)).toEqual(discovery);
  });

  it('reads display claims from a JWT, and nothing from garbage', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'dev-approver', email: 'approver@maestro.example' })).toString('base64url');
    expect(unverifiedClaims(`h.${payload}.s`)).toEqual({ sub: 'dev-approver', email: 'approver@maestro.example' });
    expect(unverifiedClaims('not-a-jwt')).toEqual({});
    expect(unverifiedClaims('a.!!!.c')).toEqual({});
  });
});
