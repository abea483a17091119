import * as z from 'zod';
import { Role, requireRole } from '../../core/auth.ts';
import { checkEgress } from '../../core/egress/check-egress.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { json, readJsonBody } from './http.ts';
import type { OperationRequest } from './operation-request.ts';

export const EgressCheckBody = z.strictObject({
  url: z.string().min(1, 'must be a URL').max(4096),
  /** @default the configuration's defaultEnvironment */
  environment: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be an environment name')
    .optional(),
});

/** Egress: decisions without connections, for policy authors testing allowlists. */
export const egressOperations = {
  /** POST /egress/check (admin): the guard's decision for a URL, exactly as http.fetch would get it; never connects. */
  async checkEgress({ event, deps, principal }: OperationRequest) {
    requireRole(principal, Role.admin);
    const body = parseOrThrow(EgressCheckBody, readJsonBody(event));
    const environment = body.environment ?? deps.guardrails?.defaultEnvironment ?? 'dev';
    const services = deps.egress.forEnvironment(environment);
    const decision = await checkEgress(body.url, services.policy, services.resolve);
    const source = decision.url ? services.licenses.sourceOf(decision.url) : undefined;
    return json(200, {
      allowed: decision.allowed,
      reason: decision.reason,
      rule: decision.rule,
      resolvedAddresses: decision.resolvedAddresses,
      environment,
      url: decision.url,
      license: source
        ? { source: source.id, license: source.license, automatedAccess: source.automatedAccess }
        : { source: null, reason: 'no registered source covers this URL: http.fetch would refuse it with LicenseDenied' },
    });
  },
};
