import type { APIGatewayProxyEvent } from 'aws-lambda';
import { Role } from '../../core/auth.ts';
import { Forbidden, Unauthenticated } from '../../core/errors.ts';
import type { Principal } from '../../core/runs/model.ts';
import { iamMappings, iamPrincipal, roleArnHint } from '../../core/iam-principals.ts';
import type { Config } from '../../core/config/schema.ts';
import { looksLikeJwt, oidcPrincipal } from '../../core/identity/oidc-principal.ts';
import type { TokenVerifier } from '../../core/identity/oidc-principal.ts';

/**
 * Development-only bearer tokens of the embedded stack. In AWS the API uses IAM auth: API Gateway
 * has verified the caller's signature before the handler runs, and roles come from MAESTRO_IAM_ROLES.
 * A Map, so a token such as `constructor` or `__proto__` finds nothing.
 */
const DEV_ISSUER = 'maestro-dev-tokens';
export const DEV_TOKENS: ReadonlyMap<string, Principal> = new Map([
  ['dev-operator', { id: 'dev-operator', roles: [Role.operator], kind: 'dev', issuer: DEV_ISSUER }],
  ['dev-approver', { id: 'dev-approver', roles: [Role.approver], kind: 'dev', issuer: DEV_ISSUER }],
  ['dev-approver-2', { id: 'dev-approver-2', roles: [Role.approver], kind: 'dev', issuer: DEV_ISSUER }],
  ['dev-admin', { id: 'dev-admin', roles: [Role.operator, Role.approver, Role.admin], kind: 'dev', issuer: DEV_ISSUER }],
  // An AI agent acting for dev-operator: an operator's roles, never an approver (an agent cannot approve).
  ['dev-agent', { id: 'dev-agent', roles: [Role.operator], kind: 'agent', onBehalfOf: 'dev-operator', issuer: DEV_ISSUER }],
]);

/**
 * Who calls: a bearer JWT is verified as OIDC (when `identity.oidc` is configured); any other bearer
 * token is a development token, accepted only with `authMode: dev-tokens` (the embedded stack; the
 * loader refuses that mode in Lambda); without a bearer token, the IAM caller API Gateway verified.
 */
export async function authenticate(event: APIGatewayProxyEvent, config: Config['identity'], verifier?: TokenVerifier): Promise<Principal> {
  const header = headerValue(event, 'authorization');
  const bearer = header === undefined ? undefined : /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  if (bearer !== undefined && looksLikeJwt(bearer)) {
    if (!config.oidc || !verifier) throw new Unauthenticated('this API accepts no OIDC tokens: identity.oidc is not configured', { field: 'Authorization' });
    return oidcPrincipal(await verifier.verify(bearer), config.oidc);
  }
  if (config.authMode === 'dev-tokens') {
    if (!header) {
      throw new Unauthenticated('send Authorization: Bearer <token> (an OIDC token, or dev-operator, dev-approver, dev-approver-2, dev-admin or dev-agent)', {
        field: 'Authorization',
      });
    }
    const principal = bearer ? DEV_TOKENS.get(bearer) : undefined;
    if (!principal) throw new Unauthenticated('unknown bearer token', { field: 'Authorization' });
    return principal;
  }
  if (bearer !== undefined) {
    throw new Unauthenticated('development bearer tokens are refused here (identity.authMode is iam): send an OIDC token or sign the request (SigV4)', {
      field: 'Authorization',
    });
  }
  const arn = event.requestContext?.identity?.userArn;
  if (!arn) throw new Unauthenticated('the request carries no IAM identity', { field: 'Authorization' });
  const principal = iamPrincipal(arn, iamMappings(config.iamRoles));
  if (!principal) {
    throw new Forbidden(
      `the IAM principal ${arn} has no Maestro roles: add its role ARN (${roleArnHint(arn)}) or its user ARN to MAESTRO_IAM_ROLES (the API's iamRoles prop), e.g. {"${roleArnHint(arn)}": ["operator"]}`,
      { field: 'MAESTRO_IAM_ROLES' },
    );
  }
  return { ...principal, kind: 'iam', issuer: 'aws-iam' };
}

export function headerValue(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}
