import * as z from 'zod';
import { ActionFailed, ActionProtocolError, StalePlan, TransientError, VerificationFailed } from '../errors.ts';
import type { MaestroError } from '../errors.ts';
import type { TaskPlan } from '../runs/model.ts';

/**
 * maestro.action/v1: how Maestro calls an action whose code is a team's own (any language), as a
 * local command, an HTTP endpoint or a Lambda function (docs/remote-actions.md). One JSON request per
 * phase, one JSON reply; everything in the reply is checked here before Maestro uses any of it.
 */
export const REMOTE_PROTOCOL = 'maestro.action/v1';

export const RemotePhase = z.enum(['plan', 'apply', 'verify', 'rollback']);
export type RemotePhase = z.infer<typeof RemotePhase>;

/** The protocol's size limits, in bytes of UTF-8 JSON (a plan is stored with its task in one DynamoDB item). */
export const REMOTE_LIMITS = {
  /** The request Maestro sends (input, plan and outcome included). */
  requestBytes: 256 * 1024,
  /** The reply Maestro reads; a transport stops reading past it. */
  replyBytes: 256 * 1024,
  /** The tail of a command's standard error kept in the error. */
  stderrBytes: 4 * 1024,
} as const;

const JsonRecord = z.record(z.string(), z.unknown());

/** The TaskPlan shape (runs/model.ts), as a remote action's plan reply must have it. */
export const TaskPlanSchema = z.strictObject({
  summary: z.string().min(1).max(1000),
  change: z.enum(['create', 'update', 'delete', 'none', 'read']),
  resource: z.string().min(1).max(2048),
  diff: z.string().max(128 * 1024),
  preconditions: JsonRecord,
  data: JsonRecord,
}) satisfies z.ZodType<TaskPlan>;

export const RemoteRequestContext = z.strictObject({
  runId: z.string(),
  taskIndex: z.number().int().min(0),
  /** Stable across retries and replays of the task: apply marks its write with it and recognises it. */
  idempotencyKey: z.string(),
  /** apply only: 1 for the first attempt. */
  attempt: z.number().int().min(1).optional(),
  environment: z.string(),
  /** When Maestro stops waiting (ISO 8601): the transport kills or abandons the call then. */
  deadline: z.iso.datetime({ offset: true }),
});

/** What Maestro sends, in every phase. `input` is the task's validated params (its schema is the pack's, in TypeScript). */
export const RemoteActionRequest = z.strictObject({
  protocol: z.literal(REMOTE_PROTOCOL),
  action: z.strictObject({ name: z.string(), version: z.string() }),
  phase: RemotePhase,
  input: z.unknown(),
  /** apply, verify, rollback: the plan the remote made (as it made it). */
  plan: TaskPlanSchema.optional(),
  /** verify, rollback: what apply answered (rollback may have none: a crash may have left none). */
  outcome: JsonRecord.optional(),
  context: RemoteRequestContext,
});
export type RemoteActionRequest = z.infer<typeof RemoteActionRequest>;

/** The error names a remote may answer that keep their meaning, and the phases they mean it in; any other becomes ActionFailed. */
const MAPPED_ERRORS = new Map<string, { phases: readonly RemotePhase[]; make: (message: string) => MaestroError }>([
  ['ActionFailed', { phases: RemotePhase.options, make: (message) => new ActionFailed(message) }],
  // The workflow retries it a bounded number of times (the ASL's Retry): a throttled dependency.
  ['TransientError', { phases: RemotePhase.options, make: (message) => new TransientError(message) }],
  ['StalePlan', { phases: ['apply'], make: (message) => new StalePlan(message) }],
  ['VerificationFailed', { phases: ['verify'], make: (message) => new VerificationFailed(message) }],
]);
export const MAPPED_ERROR_NAMES: readonly string[] = [...MAPPED_ERRORS.keys()];

const RemoteError = z.strictObject({
  name: z.string().min(1).max(128),
  message: z.string().max(4096),
});
const Failure = z.strictObject({ protocol: z.literal(REMOTE_PROTOCOL).optional(), ok: z.literal(false), error: RemoteError });
const okWith = <Shape extends z.core.$ZodLooseShape>(shape: Shape) =>
  z.strictObject({ protocol: z.literal(REMOTE_PROTOCOL).optional(), ok: z.literal(true), ...shape });

/** The reply each phase must give: plan answers a plan, apply an outcome, verify and rollback nothing else. */
export const RemoteActionReply = {
  plan: z.discriminatedUnion('ok', [okWith({ plan: TaskPlanSchema }), Failure]),
  apply: z.discriminatedUnion('ok', [okWith({ outcome: JsonRecord }), Failure]),
  verify: z.discriminatedUnion('ok', [okWith({}), Failure]),
  rollback: z.discriminatedUnion('ok', [okWith({}), Failure]),
} as const;
export type RemoteActionReply<Phase extends RemotePhase = RemotePhase> = z.infer<(typeof RemoteActionReply)[Phase]>;

// --- endpoints and the transport port ---

/** The environment variables a local command is given besides the fixed ones (declared by the pack, constants). */
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

/** A local command (embedded stack): the request on its standard input, the reply on its standard output. */
export const CommandEndpoint = z.strictObject({
  command: z.array(z.string().min(1)).min(1),
  /** Extra variables, as constants. @default none */
  env: z.record(EnvName, z.string()).optional(),
  /** The managed-target services the command calls: it gets their endpoints and the credentials. @default none */
  services: z.array(z.enum(['s3', 'dynamodb'])).optional(),
});
/** An HTTP endpoint: the request POSTed as JSON, the reply as the body (on the embedded stack, loopback only). */
export const UrlEndpoint = z.strictObject({ url: z.url({ protocol: /^https?$/ }) });
/** A Lambda function (AWS), invoked synchronously with the request as its payload. */
export const LambdaEndpoint = z.strictObject({
  lambdaArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9_$-]{1,128})?$/, 'must be a Lambda function ARN'),
});
export const RemoteEndpoint = z.union([CommandEndpoint, UrlEndpoint, LambdaEndpoint]);
export type RemoteEndpoint = z.infer<typeof RemoteEndpoint>;
export type RemoteEndpointKind = 'command' | 'url' | 'lambda';

export const endpointKindOf = (endpoint: RemoteEndpoint): RemoteEndpointKind => ('command' in endpoint ? 'command' : 'url' in endpoint ? 'url' : 'lambda');

export interface RemoteInvokeOptions {
  /** Fires when Maestro stops waiting (apply's time budget): the transport stops the call. */
  signal?: AbortSignal;
  /** How long the call may take. */
  timeMs: number;
  /** Stop reading past this many bytes of reply (ActionProtocolError `reply-too-large`). */
  maxReplyBytes: number;
}

/**
 * Sends one request to a remote action and returns its reply's text, unparsed (one parser and one size
 * limit for every transport: {@link parseRemoteReply}). A failure of the transport itself (a non-zero
 * exit, an HTTP error status, a timeout, a function error) is an ActionProtocolError, or, for a
 * function error whose name is mapped, that error ({@link mappedRemoteError}).
 */
export interface RemoteActionTransport {
  invoke(endpoint: RemoteEndpoint, request: RemoteActionRequest, options: RemoteInvokeOptions): Promise<string>;
}

/** One transport per endpoint kind; a kind this deployment has none for is refused (`unsupported-endpoint`). */
export function remoteTransports(byKind: Partial<Record<RemoteEndpointKind, RemoteActionTransport>>): RemoteActionTransport {
  return {
    invoke(endpoint, request, options) {
      const kind = endpointKindOf(endpoint);
      const transport = byKind[kind];
      if (!transport) {
        throw protocolError(request, 'unsupported-endpoint', `${kind} endpoints are not served here`, {
          served: Object.keys(byKind).filter((name) => byKind[name as RemoteEndpointKind]),
        });
      }
      return transport.invoke(endpoint, request, options);
    },
  };
}

// --- replies ---

/** Why a reply was refused: the value of `details.reason` (stable, for tests, metrics and runbooks). */
export type ProtocolFailure =
  | 'not-json'
  | 'wrong-shape'
  | 'reply-too-large'
  | 'request-too-large'
  | 'timeout'
  | 'exit-status'
  | 'http-status'
  | 'function-error'
  | 'unreachable'
  | 'undeclared-resource'
  | 'unsupported-endpoint';

/** An ActionProtocolError naming the action, the phase and what was wrong. */
export function protocolError(
  request: Pick<RemoteActionRequest, 'action' | 'phase'>,
  reason: ProtocolFailure,
  what: string,
  details: Record<string, unknown> = {},
): ActionProtocolError {
  return new ActionProtocolError(`remote action ${request.action.name} (${request.phase}): ${what}`, {
    details: { action: request.action.name, phase: request.phase, reason, ...details },
  });
}

/**
 * The domain error a remote's error name stands for in this phase (`StalePlan` from apply,
 * `VerificationFailed` from verify, `ActionFailed` and `TransientError` from any), else undefined.
 */
export function mappedRemoteError(phase: RemotePhase, name: string, message: string): MaestroError | undefined {
  const mapped = MAPPED_ERRORS.get(name);
  return mapped?.phases.includes(phase) ? mapped.make(message) : undefined;
}

/**
 * Reads a reply's text: at most {@link REMOTE_LIMITS.replyBytes}, JSON, the phase's shape. An
 * `{ok: false}` reply throws its mapped error, or ActionFailed naming the remote's error.
 */
export function parseRemoteReply<Phase extends RemotePhase>(
  request: Pick<RemoteActionRequest, 'action'> & { phase: Phase },
  text: string,
): Extract<RemoteActionReply<Phase>, { ok: true }> {
  const bytes = Buffer.byteLength(text);
  if (bytes > REMOTE_LIMITS.replyBytes) {
    throw protocolError(request, 'reply-too-large', `the reply has ${bytes} bytes, more than the ${REMOTE_LIMITS.replyBytes} allowed`, { bytes });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw protocolError(request, 'not-json', `the reply is not JSON (${(error as Error).message}): ${preview(text)}`);
  }
  const parsed = RemoteActionReply[request.phase].safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.length ? issue.path.join('.') : '(reply)'}: ${issue.message}`);
    throw protocolError(request, 'wrong-shape', `the reply does not match ${REMOTE_PROTOCOL}: ${issues.join('; ')}`, { issues });
  }
  const reply = parsed.data as RemoteActionReply<Phase>;
  if (!reply.ok) {
    const { name, message } = reply.error;
    const text = `${request.action.name} (${request.phase}): ${message}`;
    throw mappedRemoteError(request.phase, name, text) ?? new ActionFailed(`${text} [${name}]`, { details: { remoteError: name } });
  }
  return reply as Extract<RemoteActionReply<Phase>, { ok: true }>;
}

/** The start of a text, printable, for an error message. */
export function preview(text: string, max = 120): string {
  const shown = JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
  return text.length === 0 ? '(empty)' : shown;
}
