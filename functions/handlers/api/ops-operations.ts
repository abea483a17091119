import { outboxOperations } from '../outbox/operations.ts';
import { auditOperations } from './audit-operations.ts';
import { drOperations } from './dr-operations.ts';
import { driftOperations } from './drift-operations.ts';
import { egressOperations } from './egress-operations.ts';
import type { Operation } from './operation-request.ts';
import type { OpsAuthenticatedOperation } from './routes.ts';
import { subscriptionOperations } from './subscription-operations.ts';
import { templateOperations } from './template-operations.ts';
import { triggerOperations } from './trigger-operations.ts';

/** The operations API's authenticated operations (the routes of routes.ts with `family: 'ops'`). */
export const opsOperations: Record<OpsAuthenticatedOperation, Operation> = {
  ...outboxOperations,
  ...auditOperations,
  ...egressOperations,
  ...drOperations,
  ...driftOperations,
  ...subscriptionOperations,
  ...templateOperations,
  ...triggerOperations,
};
