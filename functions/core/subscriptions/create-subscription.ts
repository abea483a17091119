import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { assertEgress } from '../egress/check-egress.ts';
import { ValidationFailed } from '../errors.ts';
import type { Principal } from '../runs/model.ts';
import { parseOrThrow } from '../validation.ts';
import { SubscriptionKind, subscriptionView } from './model.ts';
import type { Subscription, SubscriptionView } from './model.ts';
import type { SubscriptionDeps } from './ports.ts';

const EventType = z.union([z.literal('*'), z.string().regex(/^[A-Z][A-Za-z]{1,63}$/, 'must be an event type (DriftDetected, RunSucceeded) or *')]);
const EnvironmentName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be an environment name');
const Destination = z.string().min(1).max(2048);

export const CreateSubscriptionRequest = z
  .strictObject({
    /** Deliver the message as JSON to this URL. */
    url: Destination.optional(),
    /** Deliver a Slack message to this incoming webhook. */
    slack: z.strictObject({ webhookUrl: Destination }).optional(),
    /** SNS topics: not delivered yet (refused, naming the field). */
    sns: z.unknown().optional(),
    eventTypes: z.array(EventType).min(1).max(50),
    /** @default every environment */
    environments: z.array(EnvironmentName).max(50).default([]),
    description: z.string().trim().min(1).max(200).optional(),
  })
  .superRefine((request, ctx) => {
    if (request.sns !== undefined)
      ctx.addIssue({ code: 'custom', path: ['sns'], message: 'SNS delivery is not available: subscribe a url or a slack webhook' });
    else if ((request.url === undefined) === (request.slack === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'give exactly one of url or slack' });
    }
  });

/**
 * Records a subscription, once its destination passes the egress guard (the subscriptions'
 * destinations allowlist: scheme, host, port, and every address the name resolves to), with a new
 * signing secret that this answer alone carries.
 */
export async function createSubscription(
  deps: SubscriptionDeps,
  command: { body: unknown; principal: Principal; knownEnvironments: readonly string[] },
): Promise<{ subscription: SubscriptionView; secret: string }> {
  const request = parseOrThrow(CreateSubscriptionRequest, command.body);
  const field = request.url !== undefined ? 'url' : 'slack.webhookUrl';
  const rawUrl = request.url ?? request.slack!.webhookUrl;
  request.environments.forEach((environment, index) => {
    if (!command.knownEnvironments.includes(environment)) {
      throw new ValidationFailed(`unknown environment "${environment}"; known: ${command.knownEnvironments.join(', ')}`, { field: `environments[${index}]` });
    }
  });
  const decision = await assertEgress(rawUrl, deps.destinations, deps.resolve, field);
  const subscription: Subscription = {
    id: deps.newId(),
    kind: request.url !== undefined ? SubscriptionKind.url : SubscriptionKind.slack,
    url: decision.url!,
    eventTypes: [...new Set(request.eventTypes)],
    environments: [...new Set(request.environments)],
    secret: randomBytes(32).toString('base64url'),
    createdBy: command.principal.id,
    createdAt: deps.clock().toISOString(),
    ...(request.description ? { description: request.description } : {}),
  };
  await deps.subscriptions.put(subscription);
  return { subscription: subscriptionView(subscription), secret: subscription.secret };
}
