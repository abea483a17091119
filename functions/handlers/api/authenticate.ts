import type { APIGatewayProxyEvent } from 'aws-lambda';
import { Role } from '../../core/auth.ts';
import { Forbidden, Unauthenticated } from '../../core/errors.ts';
import type { Principal } from '../../core/runs/model.ts';
import { iamMappings, iamPrincipal, roleArnHint } from '../../core/iam-principals.ts';
import type { Config } from '../../core/config/schema.ts';

/**
 * Development-only bearer tokens of the embedded stack. In AWS the API uses IAM auth: API Gateway
 * has verified the caller's signature before the handler runs, and roles come from MAESTRO_IAM_ROLES.
 * A Map, so a token such as `constructor` or `__proto__` finds nothing.
 */
export const DEV_TOKENS: ReadonlyMap<string, Principal> = new Map([
  ['dev-operator', { id: 'dev-operator', roles: [Role.operator] }],
  ['dev-approver', { id: 'dev-approver', roles: [Role.approver] }],
  ['dev-admin', { id: 'dev-admin', roles: [Role.operator, Role.approver, Role.admin] }],
]);

export function authenticate(event: APIGatewayProxyEvent, config: Config['identity']): Principal {
  if (config.authMode === 'dev-tokens') {
    const header = headerValue(event, 'authorization');
    if (!header) throw new Unauthenticated('send Authorization: Bearer <token> (dev-operator, dev-approver or dev-admin)', { field: 'Authorization' });
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const principal = token ? DEV_TOKENS.get(token) : undefined;
    if (!principal) throw new Unauthenticated('unknown bearer token', { field: 'Authorization' });
    return principal;
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
  return principal;
}

export function headerValue(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}
