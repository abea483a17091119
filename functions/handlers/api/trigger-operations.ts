import { createHash } from 'node:crypto';
import type { APIGatewayProxyResult } from 'aws-lambda';
import * as z from 'zod';
import { Role, requireRole } from '../../core/auth.ts';
import { PayloadTooLarge, TriggerExists, TriggerNotFound } from '../../core/errors.ts';
import { findTrigger, fireTrigger, listTriggers } from '../../core/triggers/fire-trigger.ts';
import { TriggerDefinition, TriggerId } from '../../core/triggers/trigger-model.ts';
import type { Trigger } from '../../core/triggers/trigger-model.ts';
import { verifyWebhook } from '../../core/triggers/webhook-signature.ts';
import { webhookSecret } from '../../core/triggers/webhook-secret.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { headerValue } from './authenticate.ts';
import { MAX_BODY_BYTES, json, readJsonBody } from './http.ts';
import type { LinkRequest, OperationRequest } from './operation-request.ts';

export const TriggerIdPath = z.object({ id: TriggerId });
export const PauseBody = z.strictObject({ reason: z.string().trim().min(10, 'say why, in at least 10 characters').max(500) });

const triggerView = (trigger: Trigger) => ({
  ...trigger.definition,
  source: trigger.source,
  paused: trigger.paused,
  createdBy: trigger.createdBy,
  createdAt: trigger.createdAt,
  lastRunId: trigger.lastRunId,
  ...(trigger.definition.kind === 'webhook' ? { webhookUrl: `/webhooks/${trigger.definition.id}` } : {}),
});

async function triggerOf(request: Pick<OperationRequest, 'event' | 'deps'>): Promise<Trigger> {
  const { id } = parseOrThrow(TriggerIdPath, request.event.pathParameters ?? {});
  const trigger = await findTrigger(request.deps, id);
  if (!trigger) throw new TriggerNotFound(`trigger ${id} does not exist`, { field: 'id' });
  return trigger;
}

/** Triggers: list, read (with the journal of firings), create (admin), pause and resume (audited). */
export const triggerOperations = {
  async listTriggers({ deps }: OperationRequest) {
    return json(200, { triggers: (await listTriggers(deps)).map(triggerView) });
  },

  async getTrigger(request: OperationRequest) {
    const trigger = await triggerOf(request);
    return json(200, { trigger: triggerView(trigger), journal: (await request.deps.triggers.listEvents(trigger.definition.id)).slice(-50) });
  },

  /** A trigger runs unattended up to its own ceiling: only an admin creates one. A webhook's secret is answered here, once. */
  async createTrigger({ event, deps, principal, correlationId }: OperationRequest) {
    requireRole(principal, Role.admin);
    const definition = parseOrThrow(TriggerDefinition, readJsonBody(event));
    if (deps.configTriggers.some((declared) => declared.id === definition.id)) {
      throw new TriggerExists(`trigger ${definition.id} is declared in maestro.config.yaml`, { field: 'id' });
    }
    const trigger = await deps.triggers.create({ definition, actor: principal.id, correlationId, now: deps.clock() });
    const secret = definition.kind === 'webhook' ? await webhookSecret(deps.linkSigner, definition.id, trigger.secretVersion) : undefined;
    return json(201, { trigger: triggerView(trigger), ...(secret ? { webhookSecret: secret } : {}) }, { location: `/triggers/${definition.id}` });
  },

  async pauseTrigger(request: OperationRequest) {
    requireRole(request.principal, Role.operator, Role.admin);
    return setPaused(request, true);
  },

  /** Resuming lets a trigger run unattended again: admin only. */
  async resumeTrigger(request: OperationRequest) {
    requireRole(request.principal, Role.admin);
    return setPaused(request, false);
  },
};

async function setPaused(request: OperationRequest, paused: boolean): Promise<APIGatewayProxyResult> {
  const trigger = await triggerOf(request);
  const { reason } = parseOrThrow(PauseBody, readJsonBody(request.event));
  const { deps, principal, correlationId } = request;
  const next = await deps.triggers.setPaused({
    id: trigger.definition.id,
    paused,
    actor: principal.id,
    reason,
    correlationId,
    now: deps.clock(),
    seed: trigger.source === 'config' ? trigger : undefined,
  });
  return json(200, { trigger: triggerView({ ...trigger, ...next, definition: trigger.definition, source: trigger.source }) });
}

/**
 * POST /webhooks/{id}: the signature is the credential (no token). Verified over the raw body
 * before anything is parsed or written; the firing key is the body's digest, so a replay creates nothing.
 */
export async function receiveWebhook({ event, deps, correlationId }: LinkRequest): Promise<APIGatewayProxyResult> {
  const { id } = parseOrThrow(TriggerIdPath, event.pathParameters ?? {});
  const trigger = await findTrigger(deps, id);
  if (trigger?.definition.kind !== 'webhook') throw new TriggerNotFound(`no webhook trigger ${id}`, { field: 'id' });
  const raw = event.body === null || event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.length > MAX_BODY_BYTES) throw new PayloadTooLarge(`the body is ${raw.length} bytes; at most ${MAX_BODY_BYTES} are accepted`, { field: 'body' });
  verifyWebhook({
    secret: await webhookSecret(deps.linkSigner, id, trigger.secretVersion),
    rawBody: raw,
    signature: headerValue(event, 'x-hub-signature-256'),
    timestampField: trigger.definition.timestampField,
    toleranceSeconds: trigger.definition.toleranceSeconds,
    now: deps.clock(),
  });
  const key = `webhook:${createHash('sha256').update(raw).digest('hex')}`;
  const outcome = await fireTrigger(deps, { triggerId: id, key, correlationId });
  return json(outcome.outcome === 'duplicate' ? 200 : 202, { triggerId: id, key, ...outcome });
}
