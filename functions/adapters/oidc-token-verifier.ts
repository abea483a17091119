import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import type { OidcSettings } from '../core/config/schema.ts';
import { Unauthenticated } from '../core/errors.ts';
import type { TokenVerifier, VerifiedToken } from '../core/identity/oidc-principal.ts';

/** How long the discovery document and the JWKS requests may take before the request fails (ms). */
const FETCH_TIMEOUT_MS = 5_000;
/** How long a fetched JWKS is trusted before it is fetched again even without an unknown `kid` (ms). */
const JWKS_MAX_AGE_MS = 10 * 60_000;

type RemoteKeys = ReturnType<typeof createRemoteJWKSet>;

/**
 * Verifies OIDC tokens with `jose` against the issuer's JWKS, found through its discovery document
 * (`jwks_uri`). The key set is cached; a token signed with a key it does not hold (a rotation) makes
 * it fetch the set again, at most once per `jwksCooldownSeconds`. Signature (with an allowlisted
 * algorithm: never `none`, never HMAC), `iss`, `aud`, `exp` and `nbf` (with bounded skew) are all
 * enforced; every refusal is Unauthenticated with a message that names what was wrong.
 */
export class OidcTokenVerifier implements TokenVerifier {
  private keys: Promise<RemoteKeys> | undefined;
  private readonly settings: OidcSettings;
  private readonly fetchImpl: typeof fetch;

  constructor(settings: OidcSettings, options: { fetch?: typeof fetch } = {}) {
    this.settings = settings;
    this.fetchImpl = options.fetch ?? fetch;
  }

  async verify(token: string): Promise<VerifiedToken> {
    const { issuer, audience, algorithms, clockSkewSeconds, groupsClaim } = this.settings;
    let header: ReturnType<typeof decodeProtectedHeader>;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch {
      throw refused('the bearer token is not a well-formed JWT');
    }
    // Named before anything is fetched, for a clear message; jose enforces both again below.
    if (typeof header.alg !== 'string' || !(algorithms as readonly string[]).includes(header.alg)) {
      throw refused(`the token's algorithm ${JSON.stringify(header.alg ?? null)} is not accepted (accepted: ${algorithms.join(', ')})`);
    }
    if (unverified.iss !== issuer) throw refused(`the token was issued by ${JSON.stringify(unverified.iss ?? null)}, not by ${issuer}`);

    // Cognito's access tokens carry no `aud`: their app client is in `client_id` (and `token_use` is
    // `access`), so that client must be one of the audiences instead, checked once the signature is.
    const clientAudience = unverified.aud === undefined && unverified.token_use === 'access' && typeof unverified.client_id === 'string';
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.keySet(), {
        issuer,
        ...(clientAudience ? {} : { audience: audience as string | string[] }),
        algorithms: [...algorithms],
        clockTolerance: clockSkewSeconds,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      throw refusal(error, this.settings, header.kid);
    }
    if (clientAudience && !([audience].flat() as string[]).includes(payload.client_id as string)) {
      throw refused(`the token is for client ${JSON.stringify(payload.client_id)}, not ${[audience].flat().join(' or ')}`);
    }
    const groups = payload[groupsClaim];
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : undefined;
    return {
      issuer,
      subject: payload.sub!,
      ...(typeof payload.email === 'string' ? { email: payload.email } : {}),
      groups: Array.isArray(groups) ? groups.filter((group): group is string => typeof group === 'string') : typeof groups === 'string' ? [groups] : [],
      ...(clientId ? { clientId } : {}),
    };
  }

  /** The issuer's key set, from its discovery document's `jwks_uri` (fetched once; a failed discovery is tried again next time). */
  private keySet(): Promise<RemoteKeys> {
    this.keys ??= this.discover().catch((error: unknown) => {
      this.keys = undefined;
      throw error;
    });
    return this.keys;
  }

  private async discover(): Promise<RemoteKeys> {
    const { issuer, jwksCooldownSeconds } = this.settings;
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let document: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const response = await this.fetchImpl(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      document = (await response.json()) as typeof document;
    } catch (error) {
      throw refused(`the identity provider's discovery document (${url}) could not be read: ${(error as Error).message}`);
    }
    if (document.issuer !== issuer) throw refused(`the discovery document at ${url} names issuer ${JSON.stringify(document.issuer)}, not ${issuer}`);
    if (typeof document.jwks_uri !== 'string') throw refused(`the discovery document at ${url} has no jwks_uri`);
    return createRemoteJWKSet(new URL(document.jwks_uri), {
      timeoutDuration: FETCH_TIMEOUT_MS,
      cooldownDuration: jwksCooldownSeconds * 1000,
      cacheMaxAge: JWKS_MAX_AGE_MS,
    });
  }
}

function refused(message: string): Unauthenticated {
  return new Unauthenticated(message, { field: 'Authorization' });
}

/** jose's error, as a message a caller can act on. */
function refusal(error: unknown, settings: OidcSettings, kid: string | undefined): Unauthenticated {
  if (error instanceof Unauthenticated) return error;
  if (error instanceof errors.JWTExpired)
    return refused(`the token expired (exp ${String(error.payload.exp)}, clock skew allowed ${settings.clockSkewSeconds} s)`);
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') {
      const expected = Array.isArray(settings.audience) ? settings.audience.join(' or ') : settings.audience;
      return refused(`the token is for audience ${JSON.stringify(error.payload.aud ?? null)}, not ${expected}`);
    }
    if (error.claim === 'iss') return refused(`the token was issued by ${JSON.stringify(error.payload.iss ?? null)}, not by ${settings.issuer}`);
    if (error.claim === 'nbf') return refused(`the token is not valid yet (nbf ${String(error.payload.nbf)})`);
    return refused(`the token's ${error.claim} claim is invalid: ${error.reason}`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return refused(`the token's algorithm is not accepted (accepted: ${settings.algorithms.join(', ')})`);
  if (error instanceof errors.JWKSNoMatchingKey) return refused(`no key of ${settings.issuer} matches the token's kid ${JSON.stringify(kid ?? null)}`);
  if (error instanceof errors.JWSSignatureVerificationFailed) return refused('the token signature does not verify (it was altered, or signed by someone else)');
  if (error instanceof errors.JWKSTimeout) return refused(`the identity provider's JWKS did not answer in time`);
  if (error instanceof errors.JOSEError) return refused(`the token does not verify: ${error.message}`);
  return refused(`the token could not be verified: ${(error as Error).message}`);
}
