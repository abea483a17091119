import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CliError, ExitCode } from '../client.ts';
import type { SignedInTokens } from '../client.ts';
import { readSession, removeSession, saveSession, withCredentialsLock } from './credentials-file.ts';
import type { Session } from './credentials-file.ts';

/** What discovery (`<issuer>/.well-known/openid-configuration`) tells a client. */
export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint?: string;
}

export interface LoginOptions {
  /** The API the tokens are for: the session is cached under it. */
  api: string;
  issuer: string;
  clientId: string;
  scope: string;
  /** An RFC 8707 resource indicator (the API's audience), when the provider wants one. */
  resource?: string;
  /** The loopback port to listen on. @default an ephemeral one */
  port?: number;
  /** How long to wait for the browser to come back. */
  timeoutSeconds: number;
  /** Called with the authorization URL once the loopback listener is ready (print it, open a browser). */
  onAuthorizationUrl: (url: string) => void;
}

/** Reads an OAuth/OIDC JSON answer; an error answer becomes a CliError naming the endpoint and the provider's error. */
async function oauthJson(response: Response, what: string): Promise<Record<string, unknown>> {
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // reported below
  }
  if (!response.ok) {
    const said =
      typeof body.error === 'string' ? `${body.error}${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''}` : text.slice(0, 200);
    throw new CliError(`${what} → ${response.status} ${said}`, ExitCode.usage, body);
  }
  return body;
}

async function send(url: string, init: RequestInit, what: string): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    throw new CliError(`cannot reach the OpenID provider (${what}, ${url}): ${cause?.code ?? (error as Error).message}`, ExitCode.usage);
  }
  return oauthJson(response, what);
}

export async function discover(issuer: string): Promise<ProviderMetadata> {
  const base = issuer.replace(/\/+$/, '');
  const metadata = (await send(
    `${base}/.well-known/openid-configuration`,
    { headers: { accept: 'application/json' } },
    'discovery',
  )) as Partial<ProviderMetadata>;
  // The issuer a discovery document names must be the one asked for (OpenID Connect Discovery §4.3).
  if (metadata.issuer !== issuer && metadata.issuer !== base)
    throw new CliError(`the discovery document of ${issuer} names another issuer (${String(metadata.issuer)})`, ExitCode.usage);
  if (typeof metadata.authorization_endpoint !== 'string' || typeof metadata.token_endpoint !== 'string')
    throw new CliError(`the discovery document of ${issuer} has no authorization or token endpoint`, ExitCode.usage);
  return metadata as ProviderMetadata;
}

const postForm = (url: string, form: Record<string, string>, what: string) =>
  send(
    url,
    { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams(form) },
    what,
  );

/** The claims of a JWT, unverified: for display and the nonce check only (the API verifies what it is sent). */
function claimsOf(jwt: unknown): Record<string, unknown> {
  if (typeof jwt !== 'string') return {};
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The session a token answer describes (a refresh answer may leave out the refresh and ID tokens: the old ones stay). */
function sessionOf(tokens: Record<string, unknown>, base: Omit<Session, 'accessToken' | 'expiresAt'>, now = Date.now()): Session {
  if (typeof tokens.access_token !== 'string' || tokens.access_token.length === 0)
    throw new CliError('the token endpoint answered no access_token', ExitCode.usage);
  const expiresIn = typeof tokens.expires_in === 'number' && tokens.expires_in > 0 ? tokens.expires_in : 300;
  const idToken = typeof tokens.id_token === 'string' ? tokens.id_token : base.idToken;
  const claims = claimsOf(idToken);
  return {
    ...base,
    accessToken: tokens.access_token,
    expiresAt: now + expiresIn * 1000,
    ...(typeof tokens.refresh_token === 'string' ? { refreshToken: tokens.refresh_token } : {}),
    ...(idToken ? { idToken } : {}),
    ...(typeof claims.sub === 'string' ? { subject: claims.sub } : {}),
    ...(typeof claims.email === 'string' ? { email: claims.email } : {}),
  };
}

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

const PAGE = (title: string, text: string) =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font-family:sans-serif;margin:3em"><h1>${title}</h1><p>${text}</p></body>\n`;

/**
 * The authorization code flow with PKCE (S256) for a native app (RFC 8252): listens on 127.0.0.1 (an
 * ephemeral port), hands the authorization URL to the caller (the user's browser goes there and signs
 * in), takes the code on `/callback` (its `state` must match), exchanges it with the code verifier,
 * and caches the tokens for `api` (0600). Returns the saved session.
 */
export async function login(options: LoginOptions): Promise<{ session: Session; file: string }> {
  const provider = await discover(options.issuer);
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');

  let settle!: { resolve: (code: string) => void; reject: (error: Error) => void };
  const code = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method !== 'GET' || url.pathname !== '/callback') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const given = url.searchParams.get('state') ?? '';
    // Another page's request to this port (or a stale tab) is not the answer: it is refused and the wait goes on.
    if (!same(given, state)) {
      response.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE('Sign-in refused', 'This answer does not belong to this sign-in.'));
      return;
    }
    const error = url.searchParams.get('error');
    const received = url.searchParams.get('code');
    if (error || !received) {
      response
        .writeHead(400, { 'content-type': 'text/html; charset=utf-8' })
        .end(PAGE('Sign-in failed', 'The provider refused the sign-in; see the terminal.'));
      settle.reject(
        new CliError(`the provider refused the sign-in: ${error ?? 'no code'}: ${url.searchParams.get('error_description') ?? ''}`.trimEnd(), ExitCode.refused),
      );
      return;
    }
    response
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(PAGE('Signed in to Maestro', 'You can close this tab and go back to the terminal.'));
    settle.resolve(received);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new CliError(`cannot listen on 127.0.0.1:${options.port ?? 0}: ${error.message}`, ExitCode.usage)));
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  const timer = setTimeout(
    () => settle.reject(new CliError(`no sign-in came back within ${options.timeoutSeconds} s (pass --timeout to wait longer)`, ExitCode.usage)),
    options.timeoutSeconds * 1000,
  );
  try {
    const authorize = new URL(provider.authorization_endpoint);
    for (const [name, value] of Object.entries({
      client_id: options.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: options.scope,
      state,
      nonce,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...(options.resource ? { resource: options.resource } : {}),
    })) {
      authorize.searchParams.set(name, value);
    }
    options.onAuthorizationUrl(authorize.toString());
    const received = await code;
    const tokens = await postForm(
      provider.token_endpoint,
      {
        grant_type: 'authorization_code',
        code: received,
        redirect_uri: redirectUri,
        client_id: options.clientId,
        code_verifier: verifier,
        ...(options.resource ? { resource: options.resource } : {}),
      },
      'the token endpoint',
    );
    const idClaims = claimsOf(tokens.id_token);
    if (tokens.id_token !== undefined && idClaims.nonce !== nonce) throw new CliError('the ID token does not carry this sign-in’s nonce', ExitCode.usage);
    const session = sessionOf(tokens, {
      issuer: provider.issuer,
      clientId: options.clientId,
      tokenEndpoint: provider.token_endpoint,
      ...(provider.revocation_endpoint ? { revocationEndpoint: provider.revocation_endpoint } : {}),
      scope: options.scope,
      ...(options.resource ? { resource: options.resource } : {}),
    });
    return { session, file: saveSession(options.api, session) };
  } finally {
    clearTimeout(timer);
    server.closeAllConnections();
    server.close();
  }
}

/** Refresh this long before the access token expires, so it does not expire in flight. */
const EARLY_MS = 30_000;

/**
 * The tokens of `api`'s cached session, or undefined when nobody logged in to it. The access token
 * is refreshed (under the credentials file's lock, the new tokens saved) once it has expired or is
 * about to, or when the API refused it; a refresh the provider refuses ends the session.
 */
export function signedInTokens(api: string): SignedInTokens | undefined {
  const first = readSession(api);
  if (!first) return undefined;
  let current = first;
  return {
    async accessToken(options = {}) {
      if (!options.refresh && current.expiresAt - EARLY_MS > Date.now()) return current.accessToken;
      const spent = current.accessToken;
      current = await withCredentialsLock(async () => {
        // Another command may have refreshed while this one waited for the lock.
        const latest = readSession(api);
        if (!latest) throw new CliError(`you were logged out of ${api}: run maestro login`, ExitCode.usage);
        if (latest.accessToken !== spent && latest.expiresAt - EARLY_MS > Date.now()) return latest;
        if (!latest.refreshToken) throw new CliError(`your sign-in to ${api} has expired and has no refresh token: run maestro login`, ExitCode.usage);
        let tokens: Record<string, unknown>;
        try {
          tokens = await postForm(
            latest.tokenEndpoint,
            {
              grant_type: 'refresh_token',
              refresh_token: latest.refreshToken,
              client_id: latest.clientId,
              ...(latest.resource ? { resource: latest.resource } : {}),
            },
            'the token endpoint (refresh)',
          );
        } catch (error) {
          if (error instanceof CliError && /→ 400 invalid_grant/.test(error.message)) {
            removeSession(api);
            throw new CliError(`your sign-in to ${api} has expired (the provider refused the refresh token): run maestro login`, ExitCode.usage);
          }
          throw error;
        }
        const { accessToken: _old, expiresAt: _then, ...base } = latest;
        const refreshed = sessionOf(tokens, base);
        saveSession(api, refreshed);
        return refreshed;
      });
      return current.accessToken;
    },
  };
}

/** Forgets `api`'s session, revoking its refresh token at the provider first when it can (best effort). */
export async function logout(api: string): Promise<{ removed: boolean; revoked: boolean }> {
  const session = readSession(api);
  if (!session) return { removed: false, revoked: false };
  let revoked = false;
  if (session.revocationEndpoint && session.refreshToken) {
    try {
      const response = await fetch(session.revocationEndpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: session.refreshToken, token_type_hint: 'refresh_token', client_id: session.clientId }),
      });
      revoked = response.ok;
    } catch {
      // The provider is unreachable: the local copy is removed anyway.
    }
  }
  return { removed: removeSession(api), revoked };
}
