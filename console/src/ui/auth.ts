import { authorizationUrl, challengeOf, checkDiscovery, randomToken, tokenRequestBody, unverifiedClaims } from '../lib/pkce.ts';
import type { Discovery, SignInSettings } from '../lib/pkce.ts';
import type { Me } from '../lib/run-facts.ts';

/**
 * Sign-in with the issuer from the API's config: authorization code + PKCE (S256). The tokens stay in
 * this tab's sessionStorage (gone when the tab closes); nothing is kept in cookies or localStorage.
 */
const KEY = {
  tokens: 'maestro.tokens',
  pending: 'maestro.signIn',
  signedOut: 'maestro.signedOut',
} as const;

export interface Session {
  accessToken: string;
  idToken?: string;
  expiresAt: number;
  me: Me;
}

export const redirectUri = (): string => `${location.origin}/console/callback`;

async function discover(settings: SignInSettings): Promise<Discovery> {
  const response = await fetch(`${settings.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { credentials: 'omit' });
  if (!response.ok) throw new Error(`the issuer's discovery document answered HTTP ${response.status}`);
  return checkDiscovery(settings, await response.json());
}

export function currentSession(): Session | undefined {
  const raw = sessionStorage.getItem(KEY.tokens);
  if (!raw) return undefined;
  try {
    const session = JSON.parse(raw) as Session;
    if (typeof session.accessToken !== 'string' || Date.now() > session.expiresAt) {
      sessionStorage.removeItem(KEY.tokens);
      return undefined;
    }
    return session;
  } catch {
    sessionStorage.removeItem(KEY.tokens);
    return undefined;
  }
}

export async function beginSignIn(settings: SignInSettings): Promise<void> {
  const discovery = await discover(settings);
  const verifier = randomToken(48);
  const state = randomToken(16);
  const nonce = randomToken(16);
  const returnTo = location.hash.startsWith('#/') ? location.hash : '#/runs';
  sessionStorage.setItem(KEY.pending, JSON.stringify({ verifier, state, nonce, returnTo }));
  const url = authorizationUrl(discovery, settings, {
    redirectUri: redirectUri(),
    state,
    nonce,
    challenge: await challengeOf(verifier),
    forceLogin: sessionStorage.getItem(KEY.signedOut) === '1',
  });
  location.assign(url);
}

/** On /console/callback: checks the state, redeems the code, keeps the tokens. Returns where to go next. */
export async function finishSignIn(settings: SignInSettings): Promise<string> {
  const params = new URLSearchParams(location.search);
  const pendingRaw = sessionStorage.getItem(KEY.pending);
  sessionStorage.removeItem(KEY.pending);
  if (params.get('error')) throw new Error(`the issuer refused the sign-in: ${params.get('error')}: ${params.get('error_description') ?? ''}`);
  if (!pendingRaw) throw new Error('no sign-in was started in this tab (or it was finished already)');
  const pending = JSON.parse(pendingRaw) as { verifier: string; state: string; nonce: string; returnTo: string };
  if (params.get('state') !== pending.state) throw new Error('the sign-in answer does not belong to this tab (state mismatch)');
  const code = params.get('code');
  if (!code) throw new Error('the sign-in answer carries no code');
  const discovery = await discover(settings);
  const response = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: tokenRequestBody(settings, { code, redirectUri: redirectUri(), verifier: pending.verifier }),
    credentials: 'omit',
  });
  const tokens = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`the token endpoint refused the code: ${String(tokens.error)}: ${String(tokens.error_description ?? '')}`);
  const idToken = typeof tokens.id_token === 'string' ? tokens.id_token : undefined;
  const claims = idToken ? unverifiedClaims(idToken) : {};
  if (idToken && claims.nonce !== pending.nonce) throw new Error("the ID token does not carry this sign-in's nonce");
  const accessToken = typeof tokens.access_token === 'string' && tokens.access_token.split('.').length === 3 ? tokens.access_token : idToken;
  if (!accessToken) throw new Error('the token endpoint gave no token the API can verify');
  const expiresIn = typeof tokens.expires_in === 'number' ? tokens.expires_in : 3600;
  const me: Me = { sub: String(claims.sub ?? unverifiedClaims(accessToken).sub ?? ''), email: typeof claims.email === 'string' ? claims.email : undefined };
  const session: Session = { accessToken, idToken, expiresAt: Date.now() + expiresIn * 1000 - 30_000, me };
  sessionStorage.setItem(KEY.tokens, JSON.stringify(session));
  sessionStorage.removeItem(KEY.signedOut);
  return pending.returnTo;
}

/** Drops the tokens without asking the provider for a fresh login next time. */
export function forgetSession(): void {
  sessionStorage.removeItem(KEY.tokens);
}

export function signOut(): void {
  sessionStorage.removeItem(KEY.tokens);
  sessionStorage.setItem(KEY.signedOut, '1');
}
