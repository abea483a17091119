import { Forbidden } from './errors.ts';
import type { Principal } from './runs/model.ts';

export const Role = { operator: 'operator', approver: 'approver', admin: 'admin' } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Refuses with Forbidden unless the principal holds one of the roles. */
export function requireRole(principal: Principal, ...roles: Role[]): void {
  if (!roles.some((role) => principal.roles.includes(role))) {
    throw new Forbidden(`${principal.id} needs the ${roles.join(' or ')} role for this`);
  }
}
