import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import { decideByLink, reviewByLink } from '../../core/approvals/link-decisions.ts';
import type { LinkView } from '../../core/approvals/link-decisions.ts';
import { ValidationFailed } from '../../core/errors.ts';
import { RunStatus } from '../../core/runs/model.ts';
import { logger } from '../shared/logger.ts';
import { approvalPage } from './approval-pages.ts';
import { headerValue } from './authenticate.ts';
import { json, readJsonBody } from './http.ts';
import type { LinkRequest, OperationRequest } from './operation-request.ts';
import { checkpointRun } from '../shared/audit-checkpoint.ts';

export const TokenPath = z.object({ token: z.string().min(1).max(4096) });
export const Decision = z.strictObject({ decision: z.enum(['approve', 'reject']), comment: z.string().trim().max(1000).optional() });

/**
 * A link whose MAC does not verify wrote nothing (see link-decisions.ts); it is only logged and
 * counted (`ApprovalLinksForged`), rate-limited per source IP so a flood costs a bounded number of lines.
 */
function noted(view: LinkView, request: LinkRequest): LinkView {
  if (view.kind !== 'refused' || !view.unverified) return view;
  const sourceIp = request.event.requestContext?.identity?.sourceIp ?? 'unknown';
  const { allowed, suppressed } = request.deps.unverifiedLinks.take(sourceIp, request.deps.clock().getTime());
  if (allowed) {
    (request.telemetry?.log ?? logger).warn('approval link refused without writing anything', { reason: view.reason, sourceIp, suppressed });
    request.telemetry?.addMetrics([{ name: 'ApprovalLinksForged', unit: 'Count', value: 1 + suppressed }]);
  }
  return view;
}

/** The pages behind approval links. GET shows; only POST decides. */
export const linkOperations: Record<'reviewApproval' | 'decideByLink', (request: LinkRequest) => Promise<APIGatewayProxyResult>> = {
  async reviewApproval(request) {
    const { event, deps } = request;
    const token = TokenPath.safeParse(event.pathParameters ?? {});
    if (!token.success) return approvalPage({ kind: 'refused', error: new ValidationFailed('This is not an approval link.', { field: 'token' }) });
    return approvalPage(noted(await reviewByLink(deps, token.data.token), request));
  },

  async decideByLink(request) {
    const { event, deps } = request;
    const token = TokenPath.safeParse(event.pathParameters ?? {});
    if (!token.success) return approvalPage({ kind: 'refused', error: new ValidationFailed('This is not an approval link.', { field: 'token' }) });
    const body = Decision.safeParse(formOrJson(event));
    if (!body.success) {
      return approvalPage({
        kind: 'refused',
        error: new ValidationFailed('Choose approve or reject (decision), with an optional comment.', { field: 'decision' }),
      });
    }
    const view = await decideByLink(deps, token.data.token, body.data.decision, body.data.comment || undefined);
    if (view.kind === 'decided') await checkpointRun(deps, view.run.id); // each decision is anchored
    return approvalPage(noted(view, request));
  },
};

/** The page's form posts application/x-www-form-urlencoded; API clients may post JSON. */
function formOrJson(event: APIGatewayProxyEvent): unknown {
  const contentType = headerValue(event, 'content-type') ?? '';
  if (/^application\/x-www-form-urlencoded/i.test(contentType)) {
    const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
    if (raw.length > 16_384) throw new ValidationFailed('the form is too large', { field: 'body' });
    return Object.fromEntries(new URLSearchParams(raw));
  }
  return readJsonBody(event) ?? {};
}

/** GET /approvals: what waits for a decision, with deadlines and tallies (any authenticated role). */
export async function listApprovals({ deps }: OperationRequest): Promise<APIGatewayProxyResult> {
  const waiting = await deps.runs.listAwaitingApproval();
  return json(200, {
    approvals: waiting
      .filter((run) => run.status === RunStatus.AWAITING_APPROVAL && run.approval?.state === 'PENDING')
      .map((run) => ({
        runId: run.id,
        goal: run.goal,
        environment: run.environment,
        requestedBy: run.requestedBy,
        planDigest: run.approval!.planDigest,
        requestedAt: run.approval!.requestedAt,
        deadline: run.approval!.deadline,
        quorum: run.approval!.quorum,
        approvers: run.approval!.approvers,
        approvals: run.approval!.decisions.filter((decision) => decision.decision === 'approve').map((decision) => decision.by),
      })),
  });
}
