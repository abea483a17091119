import type { Role } from '../auth.ts';
import type { OidcSettings } from '../config/schema.ts';
import { Forbidden } from '../errors.ts';
import type { Principal } from '../runs/model.ts';

/** What a verified token says about its bearer (the adapter has checked signature, `iss`, `aud`, `exp`, `nbf`). */
export interface VerifiedToken {
  issuer: string;
  subject: string;
  email?: string;
  /** The groups claim as the token carries it (a list, or one string). */
  groups: readonly string[];
  /** The OAuth client the token was issued to (`client_id`/`azp`), when it says. */
  clientId?: string;
}

/** The port the API authenticates bearer tokens through (functions/adapters/oidc-token-verifier.ts). */
export interface TokenVerifier {
  /** Throws Unauthenticated, with a message that says what is wrong, for any token that does not verify. */
  verify(token: string): Promise<VerifiedToken>;
}

/** A bearer credential that looks like a JWS (three base64url parts): OIDC's, never a development token. */
export const looksLikeJwt = (token: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);

/**
 * The principal of a verified token: id = `sub`, roles from its groups through `groupRoles` (a Map
 * lookup, so a group named `constructor` maps nothing). A token whose groups map to no role is a
 * valid caller Maestro does not know: Forbidden (403), naming the groups it had.
 */
export function oidcPrincipal(
  token: VerifiedToken,
  settings: Pick<OidcSettings, 'groupRoles' | 'groupsClaim'> & { agentClients?: readonly string[]; agentRoles?: readonly Role[] },
): Principal {
  const machine = token.clientId !== undefined && token.clientId === token.subject;
  // A client listed in agentClients is an AI agent: it acts for its own service identity and never approves.
  const agent = machine && (settings.agentClients ?? []).includes(token.clientId as string);
  const mapping = new Map(Object.entries(settings.groupRoles));
  const roles = new Set<Role>();
  for (const group of token.groups) {
    const mapped = mapping.get(group);
    for (const role of mapped === undefined ? [] : Array.isArray(mapped) ? mapped : [mapped]) roles.add(role as Role);
  }
  // Client-credentials tokens may carry no groups at all (Cognito's): a listed agent client then has agentRoles.
  if (roles.size === 0 && agent) for (const role of settings.agentRoles ?? []) roles.add(role);
  if (roles.size === 0) {
    const had = token.groups.length > 0 ? `its groups (${token.groups.join(', ')}) map` : `it has no ${settings.groupsClaim} claim, so nothing maps`;
    throw new Forbidden(`${token.subject} from ${token.issuer} is signed in, but ${had} to no Maestro role: add a group to identity.oidc.groupRoles`, {
      field: 'identity.oidc.groupRoles',
    });
  }
  return {
    id: token.subject,
    roles: [...roles],
    kind: agent ? 'agent' : machine ? 'machine' : 'user',
    ...(agent ? { onBehalfOf: token.clientId } : {}),
    issuer: token.issuer,
    ...(token.email ? { email: token.email } : {}),
  };
}

/** The names a principal may be listed under as an approver: its id, and its email when it has one. */
export const identitiesOf = (principal: Pick<Principal, 'id' | 'email'>): string[] => (principal.email ? [principal.id, principal.email] : [principal.id]);
