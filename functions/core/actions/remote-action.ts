import type { z } from 'zod';
import { ActionFailed } from '../errors.ts';
import type { TaskPlan } from '../runs/model.ts';
import type { Action, ActionContext, ActionExample, ActionSafety } from './contract.ts';
import {
  CommandEndpoint,
  LambdaEndpoint,
  REMOTE_LIMITS,
  REMOTE_PROTOCOL,
  RemoteEndpoint,
  UrlEndpoint,
  parseRemoteReply,
  protocolError,
} from './remote-protocol.ts';
import type { RemoteActionRequest, RemotePhase } from './remote-protocol.ts';
import type { ResourceRef } from './resources.ts';

/**
 * What a pack declares of a remote action, in TypeScript: everything the gates need (the schema, the
 * resources, the safety class) is the pack's, so the managed-resources gate, Cedar and the locks
 * decide before the remote code runs. Only the phases' work is remote.
 */
export interface RemoteActionDefinition<Params> {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly safety: ActionSafety;
  readonly schema: z.ZodType<Params>;
  readonly resources: (params: Params) => readonly ResourceRef[];
  readonly examples: readonly ActionExample<Params>[];
  /** Where the code runs: `{command}` or `{url}` on the embedded stack, `{lambdaArn}` in AWS. */
  readonly endpoint: RemoteEndpoint;
}

/** A remote action: an {@link Action} whose phases are calls through the context's transport. */
export interface RemoteAction<Params> extends Action<Params> {
  readonly endpoint: RemoteEndpoint;
}

/**
 * What Maestro records as a remote action's plan: the remote's own plan, with its `data` kept under
 * `data.remote` and the validated input beside it (apply, verify and rollback get both back).
 */
interface RecordedData extends Record<string, unknown> {
  input: unknown;
  remote: Record<string, unknown>;
}

/**
 * An action served by a team's own code over maestro.action/v1 (remote-protocol.ts). Every reply is
 * validated; a plan must name one of the resources the pack declared (`noop://` when it declares none).
 */
export function remoteAction<Params>(definition: RemoteActionDefinition<Params>): RemoteAction<Params> {
  const given = definition.endpoint as object;
  // The schema of the kind it names, so the error names the field (a union would only say "invalid").
  const schema = 'command' in given ? CommandEndpoint : 'url' in given ? UrlEndpoint : 'lambdaArn' in given ? LambdaEndpoint : RemoteEndpoint;
  const endpoint = schema.safeParse(given);
  if (!endpoint.success) {
    const issue = endpoint.error.issues[0];
    throw new Error(`remote action ${definition.name}: endpoint${issue?.path.length ? `.${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid'}`);
  }
  const { name, version, safety } = definition;

  async function call<Phase extends RemotePhase>(phase: Phase, body: Pick<RemoteActionRequest, 'input' | 'plan' | 'outcome'>, ctx: ActionContext) {
    const transport = ctx.remote;
    if (!transport) throw new ActionFailed(`remote action ${name}: this executor has no remote-action transport`);
    const timeMs = safety.budgets.timeMs;
    const request: RemoteActionRequest = {
      protocol: REMOTE_PROTOCOL,
      action: { name, version },
      phase,
      ...body,
      context: {
        runId: ctx.runId,
        taskIndex: ctx.taskIndex,
        idempotencyKey: ctx.idempotencyKey,
        ...(phase === 'apply' && ctx.attempt !== undefined ? { attempt: ctx.attempt } : {}),
        environment: ctx.environment ?? '',
        deadline: new Date(Date.now() + timeMs).toISOString(),
      },
    };
    const bytes = Buffer.byteLength(JSON.stringify(request));
    if (bytes > REMOTE_LIMITS.requestBytes) {
      throw protocolError(request, 'request-too-large', `the request has ${bytes} bytes, more than the ${REMOTE_LIMITS.requestBytes} allowed`, { bytes });
    }
    const text = await transport.invoke(endpoint.data as RemoteEndpoint, request, { signal: ctx.signal, timeMs, maxReplyBytes: REMOTE_LIMITS.replyBytes });
    return parseRemoteReply({ action: request.action, phase }, text);
  }

  /** The remote's plan and the input, back from what {@link RecordedData} keeps. */
  function unwrap(plan: TaskPlan): { plan: TaskPlan; input: unknown } {
    const data = plan.data as Partial<RecordedData>;
    if (!data.remote || typeof data.remote !== 'object') throw new ActionFailed(`remote action ${name}: the recorded plan was not made by it`);
    return { plan: { ...plan, data: data.remote }, input: data.input };
  }

  return {
    name,
    version,
    description: definition.description,
    safety,
    schema: definition.schema,
    resources: definition.resources,
    examples: definition.examples,
    endpoint: endpoint.data as RemoteEndpoint,
    // Its code runs in a process of its own (a command, an endpoint, a function): not isolated again.
    remote: true,

    async plan(params, ctx) {
      const reply = await call('plan', { input: params }, ctx);
      const declared = definition.resources(params).map((resource) => resource.uri);
      const allowed = declared.length > 0 ? declared : ['noop://'];
      if (!allowed.includes(reply.plan.resource)) {
        throw protocolError(
          { action: { name, version }, phase: 'plan' },
          'undeclared-resource',
          `the plan names ${reply.plan.resource}, which is not among the declared resources (${allowed.join(', ')})`,
          {
            resource: reply.plan.resource,
            declared: allowed,
          },
        );
      }
      const data: RecordedData = { input: params, remote: reply.plan.data };
      return { ...reply.plan, data };
    },

    async apply(recorded, ctx) {
      const { plan, input } = unwrap(recorded);
      return (await call('apply', { input, plan }, ctx)).outcome;
    },

    async verify(recorded, outcome, ctx) {
      const { plan, input } = unwrap(recorded);
      await call('verify', { input, plan, outcome }, ctx);
    },

    async rollback(recorded, outcome, ctx) {
      const { plan, input } = unwrap(recorded);
      await call('rollback', { input, plan, ...(outcome === undefined ? {} : { outcome }) }, ctx);
    },
  };
}
