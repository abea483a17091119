/** Authorization code + PKCE (RFC 7636, S256) and the authorization request, without the DOM. */

const base64Url = (bytes: Uint8Array): string => {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

/** A random URL-safe string of `bytes` random bytes (verifiers, states, nonces). */
export function randomToken(bytes = 32): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The S256 challenge of a verifier: BASE64URL(SHA-256(verifier)). */
export async function challengeOf(verifier: string): Promise<string> {
  return base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

export interface SignInSettings {
  issuer: string;
  clientId: string;
  scope: string;
  /** The API as an RFC 8707 resource, when the issuer issues access tokens per resource. */
  resource?: string;
}

export interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
}

/** Checks a discovery document against the configured issuer (a mismatch means the wrong provider). */
export function checkDiscovery(settings: SignInSettings, document: unknown): Discovery {
  const found = document as Partial<Discovery> | null;
  if (!found || typeof found !== 'object') throw new Error('the discovery document is not an object');
  if (found.issuer !== settings.issuer) throw new Error(`the discovery document is for issuer ${String(found.issuer)}, not ${settings.issuer}`);
  for (const key of ['authorization_endpoint', 'token_endpoint'] as const) {
    if (typeof found[key] !== 'string') throw new Error(`the discovery document has no ${key}`);
  }
  return found as Discovery;
}

/** The URL the browser goes to for signing in. */
export function authorizationUrl(
  discovery: Discovery,
  settings: SignInSettings,
  request: { redirectUri: string; state: string; nonce: string; challenge: string; forceLogin: boolean },
): string {
  const url = new URL(discovery.authorization_endpoint);
  const params: [string, string][] = [
    ['client_id', settings.clientId],
    ['response_type', 'code'],
    ['redirect_uri', request.redirectUri],
    ['scope', settings.scope],
    ['state', request.state],
    ['nonce', request.nonce],
    ['code_challenge', request.challenge],
    ['code_challenge_method', 'S256'],
  ];
  if (settings.resource) params.push(['resource', settings.resource]);
  // After a sign-out the provider's own session would sign the same person in again: ask for the login page.
  if (request.forceLogin) params.push(['prompt', 'login']);
  for (const [name, value] of params) url.searchParams.set(name, value);
  return url.toString();
}

/** The form body of the token request that redeems the code. */
export function tokenRequestBody(settings: SignInSettings, request: { code: string; redirectUri: string; verifier: string }): string {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    code: request.code,
    redirect_uri: request.redirectUri,
    client_id: settings.clientId,
    code_verifier: request.verifier,
  });
  if (settings.resource) body.set('resource', settings.resource);
  return body.toString();
}

/** The claims of a JWT's payload, for display only (the API verifies every token it gets). */
export function unverifiedClaims(jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[1];
  if (!part) return {};
  try {
    const padded = part.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (part.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
