import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import Provider, { errors as oidcErrors } from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { OidcSettings } from '../../functions/core/config/schema.ts';

/**
 * The embedded stack's OpenID provider: a real `oidc-provider` (discovery, JWKS, authorization code +
 * PKCE, client credentials, JWT access tokens) with development users, so signing in locally takes
 * the same path as against Okta, Entra ID, IAM Identity Center or Cognito. Development only: its login
 * page (oidc-provider's devInteractions) takes any password, and only the users below exist.
 */

/** The development users and their groups (the groups map to Maestro roles through DEV_GROUP_ROLES). */
export const DEV_USERS = [
  { id: 'dev-operator', email: 'operator@maestro.example', groups: ['maestro-operators'] },
  { id: 'dev-approver', email: 'approver@maestro.example', groups: ['maestro-approvers'] },
  { id: 'dev-approver-2', email: 'approver2@maestro.example', groups: ['maestro-approvers'] },
  { id: 'dev-admin', email: 'admin@maestro.example', groups: ['maestro-admins'] },
  // Signed in, but in no group Maestro maps: the API answers 403.
  { id: 'dev-guest', email: 'guest@maestro.example', groups: ['contractors'] },
] as const;

export const DEV_GROUP_ROLES: Record<string, string[]> = {
  'maestro-operators': ['operator'],
  'maestro-approvers': ['approver'],
  'maestro-admins': ['operator', 'approver', 'admin'],
};

/** The console: a public client (no secret), authorization code with PKCE. */
export const CONSOLE_CLIENT_ID = 'maestro-console';
/**
 * The `maestro` CLI (`maestro login`): a native public client, authorization code with PKCE and a
 * loopback redirect on any port (RFC 8252 §7.3: oidc-provider ignores the port of a native client's
 * loopback redirect), and refresh tokens so a cached sign-in outlives its access token.
 */
export const CLI_CLIENT_ID = 'maestro-cli';
export const CLI_REDIRECT_URI = 'http://127.0.0.1/callback';
/** Scripts and agents: a confidential client, client credentials. */
export const AGENT_CLIENT_ID = 'maestro-agent';
export const AGENT_CLIENT_SECRET = 'maestro-agent-development-secret';
/** The groups the agent client's tokens carry. */
export const AGENT_GROUPS = ['maestro-operators'];
/** The API as a resource server: access tokens are JWTs for this audience. */
export const API_RESOURCE = 'urn:maestro:api';
export const API_SCOPE = 'maestro';

export interface DevOidcProviderOptions {
  /** Where its signing keys are kept across restarts. */
  dataDir: string;
  /** Where the console's sign-in returns (`<api>/console/callback`). */
  consoleRedirectUri: string;
  port?: number;
}

export interface RunningDevOidcProvider {
  /** The issuer URL (`iss`), also where discovery is: `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  /** What the API's identity.oidc should say to trust this provider. */
  settings: OidcSettings;
  /** The private signing keys, newest first (tests sign deliberately bad tokens with them). */
  signingKeys(): JWK[];
  /** Starts signing with a new key; the old one stays published so tokens already issued still verify. */
  rotateKeys(): Promise<JWK>;
  stop(): Promise<void>;
}

async function newSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

export async function startDevOidcProvider(options: DevOidcProviderOptions): Promise<RunningDevOidcProvider> {
  mkdirSync(options.dataDir, { recursive: true });
  const keysFile = join(options.dataDir, 'signing-keys.json');
  let keys: JWK[] = existsSync(keysFile) ? (JSON.parse(readFileSync(keysFile, 'utf8')) as JWK[]) : [await newSigningKey()];
  writeFileSync(keysFile, JSON.stringify(keys), { mode: 0o600 });
  const cookieKeys = [randomBytes(32).toString('base64url')];

  let current: Provider | undefined;
  const server = createServer((request, response) => {
    if (!current) {
      response.writeHead(503).end();
      return;
    }
    current.callback()(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const users = new Map<string, (typeof DEV_USERS)[number]>(DEV_USERS.map((user) => [user.id, user]));

  const configuration = (): Configuration => ({
    clients: [
      {
        client_id: CONSOLE_CLIENT_ID,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [options.consoleRedirectUri],
      },
      {
        client_id: CLI_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [CLI_REDIRECT_URI],
      },
      {
        client_id: AGENT_CLIENT_ID,
        client_secret: AGENT_CLIENT_SECRET,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks: { keys: keys as never },
    cookies: { keys: cookieKeys },
    pkce: { required: () => true },
    // The console redeems its code from the browser: its own origin (the API's) may call the token endpoint, no other.
    clientBasedCORS: (_ctx, origin, client) => client.clientId === CONSOLE_CLIENT_ID && origin === new URL(options.consoleRedirectUri).origin,
    scopes: ['openid', 'email', 'groups', 'offline_access'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      // `maestro logout` revokes its refresh token; a client may revoke only its own tokens.
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== API_RESOURCE) throw new oidcErrors.InvalidTarget();
          return { scope: API_SCOPE, audience: API_RESOURCE, accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    async findAccount(_ctx, id) {
      const user = users.get(id);
      if (!user) return undefined;
      return {
        accountId: user.id,
        claims: async () => ({ sub: user.id, email: user.email, email_verified: true, groups: [...user.groups] }),
      };
    },
    // The CLI gets a refresh token without the consent prompt offline_access would need here; like
    // offline_access, its refresh token outlives the provider's session.
    async issueRefreshToken(_ctx, client, code) {
      return client.grantTypeAllowed('refresh_token') && (code.scopes.has('offline_access') || client.clientId === CLI_CLIENT_ID);
    },
    async expiresWithSession(ctx, code) {
      return !code.scopes.has('offline_access') && ctx.oidc.client?.clientId !== CLI_CLIENT_ID;
    },
    // The console and the CLI are first-party: a signed-in user is not asked to consent to them.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const clientId = ctx.oidc.client!.clientId;
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      if ((clientId !== CONSOLE_CLIENT_ID && clientId !== CLI_CLIENT_ID) || !ctx.oidc.session?.accountId) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email groups');
      grant.addResourceScope(API_RESOURCE, API_SCOPE);
      await grant.save();
      return grant;
    },
    // Access tokens carry who the caller is to the API: a user's email and groups, or the agent's groups.
    async extraTokenClaims(_ctx, token) {
      if (token.kind === 'ClientCredentials') return { groups: AGENT_GROUPS };
      const user = 'accountId' in token && typeof token.accountId === 'string' ? users.get(token.accountId) : undefined;
      return user ? { email: user.email, groups: [...user.groups] } : undefined;
    },
    ttl: { AccessToken: 3600, IdToken: 3600, ClientCredentials: 3600, RefreshToken: 14 * 86_400, Interaction: 600, Session: 3600, Grant: 14 * 86_400 },
    renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  const build = () => {
    const provider = new Provider(issuer, configuration());
    provider.proxy = false;
    return provider;
  };
  current = build();

  return {
    issuer,
    settings: {
      issuer,
      audience: [API_RESOURCE, CONSOLE_CLIENT_ID],
      groupsClaim: 'groups',
      groupRoles: DEV_GROUP_ROLES as OidcSettings['groupRoles'],
      agentClients: [AGENT_CLIENT_ID],
      agentRoles: ['operator'],
      clockSkewSeconds: 60,
      algorithms: ['RS256', 'ES256'],
      jwksCooldownSeconds: 30,
    },
    signingKeys: () => keys.map((key) => ({ ...key })),
    async rotateKeys() {
      const key = await newSigningKey();
      keys = [key, ...keys].slice(0, 3);
      writeFileSync(keysFile, JSON.stringify(keys), { mode: 0o600 });
      current = build();
      return { ...key };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
