import type { Principal } from './runs/model.ts';

/**
 * IAM callers to Maestro principals (MAESTRO_IAM_ROLES): by role ARN, through which an assumed-role
 * session maps, or by an explicit user ARN. Nothing else maps, and an unmapped caller has no roles.
 */

/** A role or user ARN as configured, split into what identifies it. */
const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\x21-\x7e]+\/)?([\w+=,.@-]{1,64})$/;
const USER_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):user\/(?:[\x21-\x7e]+\/)?[\w+=,.@-]{1,64}$/;
/** What API Gateway reports for a caller using a role: the session name is the caller's choice. */
const ASSUMED_ROLE_ARN = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/[\w+=,.@-]+$/;

/** MAESTRO_IAM_ROLES keys a config may hold: a role ARN (any path) or a user ARN, never a session. */
export const isMappableIamArn = (arn: string) => ROLE_ARN.test(arn) || USER_ARN.test(arn);

export interface IamMappings {
  /** `partition:account:roleName` → the role ARN as configured and its roles (role names are unique per account, whatever the path). */
  roles: Map<string, { arn: string; roles: readonly string[] }>;
  /** User ARN → roles. */
  users: Map<string, readonly string[]>;
}

const built = new WeakMap<object, IamMappings>();

export function iamMappings(config: Readonly<Record<string, readonly string[]>>): IamMappings {
  const cached = built.get(config);
  if (cached) return cached;
  const mappings: IamMappings = { roles: new Map(), users: new Map() };
  for (const [arn, roles] of Object.entries(config)) {
    const role = ROLE_ARN.exec(arn);
    if (role) mappings.roles.set(`${role[1]}:${role[2]}:${role[3]}`, { arn, roles });
    else if (USER_ARN.test(arn)) mappings.users.set(arn, roles);
  }
  built.set(config, mappings);
  return mappings;
}

/**
 * The principal an IAM caller is, or undefined when nothing maps it. An assumed-role session maps
 * through its role, and its id is the role's ARN, so the session name (chosen by the caller) changes
 * neither its roles nor who it is (a requester cannot approve their own run from a second session).
 */
export function iamPrincipal(arn: string, mappings: IamMappings): Principal | undefined {
  const session = ASSUMED_ROLE_ARN.exec(arn);
  if (session) {
    const role = mappings.roles.get(`${session[1]}:${session[2]}:${session[3]}`);
    return role && role.roles.length > 0 ? { id: role.arn, roles: role.roles } : undefined;
  }
  const role = ROLE_ARN.exec(arn);
  if (role) {
    const mapped = mappings.roles.get(`${role[1]}:${role[2]}:${role[3]}`);
    return mapped && mapped.roles.length > 0 ? { id: mapped.arn, roles: mapped.roles } : undefined;
  }
  const roles = USER_ARN.test(arn) ? mappings.users.get(arn) : undefined;
  return roles && roles.length > 0 ? { id: arn, roles } : undefined;
}

/** The role ARN to configure for a caller: an assumed-role session's role (add its path if it has one). */
export function roleArnHint(arn: string): string {
  const session = ASSUMED_ROLE_ARN.exec(arn);
  return session ? `arn:${session[1]}:iam::${session[2]}:role/${session[3]}` : arn;
}
