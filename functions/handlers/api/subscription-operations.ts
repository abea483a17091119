import * as z from 'zod';
import { Role, requireRole } from '../../core/auth.ts';
import { SubscriptionNotFound } from '../../core/errors.ts';
import { subscriptionView } from '../../core/subscriptions/model.ts';
import { createSubscription } from '../../core/subscriptions/create-subscription.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { json, readJsonBody } from './http.ts';
import type { Operation } from './operation-request.ts';

export const SubscriptionIdPath = z.object({ id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a subscription id') });

const subscriptionLinks = (id: string) => ({ self: `/subscriptions/${id}` });

/** Subscriptions (admin): signed deliveries of outbox events to allowed URLs and Slack webhooks. */
export const subscriptionOperations = {
  /** POST /subscriptions: the answer carries the signing secret, once. */
  createSubscription: (async ({ event, deps, principal }) => {
    requireRole(principal, Role.admin);
    const created = await createSubscription(deps.subscriptions, {
      body: readJsonBody(event),
      principal,
      knownEnvironments: Object.keys(deps.guardrails.environments),
    });
    const id = created.subscription.id;
    return json(201, { subscription: created.subscription, secret: created.secret, links: subscriptionLinks(id) }, { location: `/subscriptions/${id}` });
  }) as Operation,

  listSubscriptions: (async ({ deps, principal }) => {
    requireRole(principal, Role.admin);
    const subscriptions = await deps.subscriptions.subscriptions.list();
    return json(200, { subscriptions: subscriptions.map(subscriptionView) });
  }) as Operation,

  /** GET /subscriptions/{id}: the subscription (never its secret) and its dead letters (deliveries that kept failing). */
  getSubscription: (async ({ event, deps, principal }) => {
    requireRole(principal, Role.admin);
    const { id } = parseOrThrow(SubscriptionIdPath, event.pathParameters ?? {});
    const subscription = await deps.subscriptions.subscriptions.get(id);
    if (!subscription) throw new SubscriptionNotFound(`subscription ${id} does not exist`, { field: 'id' });
    const deadLetters = await deps.subscriptions.deadLettersFor(id).list({ limit: 100 });
    return json(200, { subscription: subscriptionView(subscription), deadLetters: deadLetters.items, links: subscriptionLinks(id) });
  }) as Operation,

  deleteSubscription: (async ({ event, deps, principal }) => {
    requireRole(principal, Role.admin);
    const { id } = parseOrThrow(SubscriptionIdPath, event.pathParameters ?? {});
    if (!(await deps.subscriptions.subscriptions.remove(id))) throw new SubscriptionNotFound(`subscription ${id} does not exist`, { field: 'id' });
    return json(200, { id, deleted: true });
  }) as Operation,
};
