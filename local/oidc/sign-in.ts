import { createHash, randomBytes } from 'node:crypto';
import { AGENT_CLIENT_ID, AGENT_CLIENT_SECRET, API_RESOURCE, API_SCOPE, CONSOLE_CLIENT_ID } from './dev-oidc-provider.ts';

/**
 * Signs a development user in through the provider's real endpoints, as a browser would, with plain
 * HTTP: the authorization request (code + PKCE S256) → the login interaction → the redirect with the
 * code → the token endpoint. For tests and scripts on the embedded stack.
 */
export async function signIn(input: {
  issuer: string;
  redirectUri: string;
  user: string;
  password?: string;
}): Promise<{ accessToken: string; idToken: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const authorize = new URL(`${input.issuer}/auth`);
  for (const [name, value] of Object.entries({
    client_id: CONSOLE_CLIENT_ID,
    response_type: 'code',
    redirect_uri: input.redirectUri,
    scope: `openid email groups ${API_SCOPE}`,
    resource: API_RESOURCE,
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  })) {
    authorize.searchParams.set(name, value);
  }
  const callback = new URL(await browse({ authorizeUrl: authorize.toString(), redirectUri: input.redirectUri, user: input.user, password: input.password }));
  if (callback.searchParams.get('state') !== state) throw new Error(`the callback's state does not match: ${callback}`);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`sign-in of ${input.user} failed: ${callback.searchParams.get('error')}: ${callback.searchParams.get('error_description')}`);

  const tokens = await postForm(`${input.issuer}/token`, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: input.redirectUri,
    client_id: CONSOLE_CLIENT_ID,
    code_verifier: verifier,
  });
  return { accessToken: String(tokens.access_token), idToken: String(tokens.id_token) };
}

/**
 * What a browser does with an authorization URL: follows it to the login interaction, submits the
 * development user's login, and follows the redirects until one goes to `redirectUri` (any port when
 * `redirectUri` has none, as a native client's loopback redirect). Returns that URL, with its `code`
 * and `state` (or `error`), without requesting it: the caller delivers it (e.g. to `maestro login`).
 */
export async function browse(input: { authorizeUrl: string; redirectUri: string; user: string; password?: string }): Promise<string> {
  const jar = new Map<string, string>();
  const send = async (url: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const at = pair.indexOf('=');
      const value = pair.slice(at + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) jar.delete(pair.slice(0, at));
      else jar.set(pair.slice(0, at), value);
    }
    return response;
  };
  const follow = async (response: Response, base: string) => {
    const location = response.headers.get('location');
    if (!location || response.status < 300 || response.status >= 400)
      throw new Error(`expected a redirect from ${base}, got HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`);
    return new URL(location, base).toString();
  };
  const target = new URL(input.redirectUri);
  const arrived = (url: string) => {
    const at = new URL(url);
    return at.protocol === target.protocol && at.hostname === target.hostname && at.pathname === target.pathname && (!target.port || at.port === target.port);
  };

  let url = await follow(await send(input.authorizeUrl), input.authorizeUrl);
  if (arrived(url)) return url; // an error answered at once (e.g. an unknown redirect_uri)
  // The login interaction: its form posts to the interaction's own URL.
  const page = await (await send(url)).text();
  const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
  if (!action) throw new Error(`no login form at ${url}`);
  const submit = new URL(action.replaceAll('&amp;', '&'), url).toString();
  url = await follow(
    await send(submit, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ prompt: 'login', login: input.user, password: input.password ?? 'development' }).toString(),
    }),
    submit,
  );
  // Resume the authorization: it redirects to the client's redirect URI with the code. A native
  // client (the CLI) is always asked to confirm (oidc-provider's native_client_prompt): press Continue.
  for (let hops = 0; hops < 6 && !arrived(url); hops++) {
    const response = await send(url);
    if (response.status === 200) {
      const text = await response.text();
      const confirm = /<form[^>]*action="([^"]+)"[^>]*>\s*<input type="hidden" name="prompt" value="consent"\/>/.exec(text)?.[1];
      if (!confirm) throw new Error(`sign-in of ${input.user} stopped at ${url}: ${/<title>([^<]*)</.exec(text)?.[1] ?? text.slice(0, 200)}`);
      const target = new URL(confirm.replaceAll('&amp;', '&'), url).toString();
      url = await follow(
        await send(target, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'prompt=consent' }),
        target,
      );
      continue;
    }
    url = await follow(response, url);
  }
  if (!arrived(url)) throw new Error(`sign-in of ${input.user} never reached ${input.redirectUri} (last: ${url})`);
  return url;
}

/** A machine's access token (client credentials, the agent client). */
export async function agentToken(issuer: string): Promise<string> {
  const tokens = await postForm(
    `${issuer}/token`,
    { grant_type: 'client_credentials', resource: API_RESOURCE, scope: API_SCOPE },
    { authorization: `Basic ${Buffer.from(`${AGENT_CLIENT_ID}:${AGENT_CLIENT_SECRET}`).toString('base64')}` },
  );
  return String(tokens.access_token);
}

async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}: ${JSON.stringify(body)}`);
  return body;
}
