import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcTokenVerifier } from '../../functions/adapters/oidc-token-verifier.ts';
import { Unauthenticated } from '../../functions/core/errors.ts';

/**
 * Cognito's access tokens (what the bearer API's Cognito authorizer requires, with the maestro/api
 * scope) carry no `aud`: the app client is in `client_id`. The verifier holds such a token to its
 * client instead, and only such a token: a token with neither, or an ID token without `aud`, is refused.
 */
let server: Server;
let issuer: string;
let privateKey: CryptoKey;

beforeAll(async () => {
  const keys = await generateKeyPair('ES256');
  privateKey = keys.privateKey;
  const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    if (request.url === '/.well-known/openid-configuration') response.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks` }));
    else response.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

const verifier = () =>
  new OidcTokenVerifier({
    issuer,
    audience: ['console-client', 'agent-client'],
    groupsClaim: 'cognito:groups',
    groupRoles: { operators: 'operator' },
    agentClients: ['agent-client'],
    clockSkewSeconds: 60,
    algorithms: ['ES256'],
    jwksCooldownSeconds: 0,
  } as never);
const sign = (claims: JWTPayload) =>
  new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(issuer).setIssuedAt().setExpirationTime('5m').sign(privateKey);

describe('OidcTokenVerifier and Cognito access tokens', () => {
  it("accepts an access token without aud whose client_id is one of the audiences, with the user's groups", async () => {
    const token = await sign({ sub: 'user-1', token_use: 'access', client_id: 'console-client', scope: 'openid maestro/api', 'cognito:groups': ['operators'] });
    expect(await verifier().verify(token)).toMatchObject({ subject: 'user-1', groups: ['operators'], clientId: 'console-client' });
  });

  it("accepts an agent's client-credentials token (sub is the client)", async () => {
    const token = await sign({ sub: 'agent-client', token_use: 'access', client_id: 'agent-client', scope: 'maestro/api' });
    expect(await verifier().verify(token)).toMatchObject({ subject: 'agent-client', clientId: 'agent-client' });
  });

  it('refuses an access token of another client, naming it', async () => {
    const token = await sign({ sub: 'user-1', token_use: 'access', client_id: 'someone-elses-client' });
    await expect(verifier().verify(token)).rejects.toThrow(Unauthenticated);
    await expect(verifier().verify(token)).rejects.toThrow(/for client "someone-elses-client", not console-client or agent-client/);
  });

  it('still requires aud of any other token (no token_use access, or an ID token)', async () => {
    for (const claims of [
      { sub: 'u', client_id: 'console-client' },
      { sub: 'u', token_use: 'id', client_id: 'console-client' },
    ]) {
      await expect(verifier().verify(await sign(claims))).rejects.toThrow(Unauthenticated);
    }
    // and a token with a wrong aud is refused even if its client_id is known
    await expect(verifier().verify(await sign({ sub: 'u', aud: 'other', token_use: 'access', client_id: 'console-client' }))).rejects.toThrow(
      /audience "other"/,
    );
  });
});
