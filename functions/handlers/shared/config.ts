import { z } from 'zod';
import { Role } from '../../core/auth.ts';
import { isMappableIamArn } from '../../core/iam-principals.ts';
import { LicenseSources } from '../../core/egress/license-registry.ts';
import { EgressLimits } from '../../core/egress/run-budget-ledger.ts';
import { EgressAllowlists } from '../../core/egress/policy.ts';
import { StaticHosts, jsonVariable } from '../../core/egress/settings.ts';

/** Keys checked on the parsed JSON itself (a `__proto__` key is an own property there, and refused). */
const IamRoles = z
  .unknown()
  .superRefine((roles, ctx) => {
    for (const arn of roles && typeof roles === 'object' ? Object.keys(roles) : []) {
      if (!isMappableIamArn(arn)) ctx.addIssue({ code: 'custom', path: [arn], message: 'must be a role ARN (arn:aws:iam::<account>:role/<path/name>) or a user ARN, never an assumed-role session' });
    }
  })
  .pipe(z.record(z.string(), z.array(z.enum(Object.values(Role))).min(1)));

const Flag = z.enum(['true', 'false']).transform((value) => value === 'true');

const HandlerEnvironment = z.object({
  MAESTRO_STATE_TABLE: z.string().min(3, 'must name the state table'),
  MAESTRO_RUN_STATE_MACHINE_ARN: z.string().startsWith('arn:').optional(),
  /** `iam`: API Gateway authenticated the caller (production). `dev-tokens`: the embedded stack's bearer tokens. */
  MAESTRO_AUTH_MODE: z.enum(['iam', 'dev-tokens']).default('iam'),
  /**
   * Role lists per IAM role ARN (an assumed-role session maps through its role) or user ARN, as JSON
   * (`{"arn:aws:iam::123456789012:role/ops": ["operator"]}`); an unmapped caller is refused (403).
   */
  MAESTRO_IAM_ROLES: jsonVariable(IamRoles, '{}'),
  MAESTRO_S3_FORCE_PATH_STYLE: Flag.optional(),
  AWS_ENDPOINT_URL: z.string().optional(),
  AWS_ENDPOINT_URL_S3: z.string().optional(),
  /** Egress (http.fetch, POST /egress/check): per-environment host allowlists as JSON (`{"dev":["api.example.com"]}`). @default {} (deny all) */
  MAESTRO_EGRESS_ALLOWLIST: jsonVariable(EgressAllowlists, '{}'),
  /** Names answered before DNS, like /etc/hosts (`{"api.test":["127.0.0.1"]}`); the guard still judges the addresses. @default {} */
  MAESTRO_EGRESS_STATIC_HOSTS: jsonVariable(StaticHosts, '{}'),
  /** The license registry: `[{"id","urlPrefix","license","automatedAccess","attribution?"}]`. @default [] (nothing licensed) */
  MAESTRO_EGRESS_SOURCES: jsonVariable(LicenseSources, '[]'),
  /** Egress budgets and breaker settings (functions/core/egress/run-budget-ledger.ts). @default {} (the defaults there) */
  MAESTRO_EGRESS_LIMITS: jsonVariable(EgressLimits, '{}'),
  /** The API's public base URL, which approval links point at. */
  MAESTRO_PUBLIC_URL: z.url().default('http://127.0.0.1:8080'),
  /** The KMS HMAC key that signs approval links. */
  MAESTRO_APPROVAL_KEY: z.string().min(1).default('alias/maestro-approval-links'),
  /** The embedded stack's notification sink (one JSON line per Slack or email message). */
  MAESTRO_NOTIFICATIONS_FILE: z.string().min(1).optional(),
  MAESTRO_SLACK_WEBHOOK_URL: z.url().optional(),
  /** In AWS: the EventBridge bus whose rule posts Slack messages to the webhook (no internet route needed). */
  MAESTRO_SLACK_EVENT_BUS: z.string().min(1).optional(),
  /** The verified SES identity approval emails come from; unset, no email is sent through SES. */
  MAESTRO_SES_FROM: z.string().min(3).optional(),
  /**
   * In AWS: the action executor functions, by class, as JSON (`{"read":"…","write":"…","internet":"…"}`).
   * Unset (the embedded stack), actions run in this process with target-only dependencies.
   */
  MAESTRO_TASK_EXECUTORS: jsonVariable(z.strictObject({ read: z.string().min(1), write: z.string().min(1), internet: z.string().min(1) }).nullable(), 'null'),
});

export interface HandlerConfig {
  stateTable: string;
  runStateMachineArn?: string;
  authMode: 'iam' | 'dev-tokens';
  iamRoles: Record<string, string[]>;
  s3ForcePathStyle: boolean;
  publicUrl: string;
  approvalKey: string;
  notifications: { file?: string; slackWebhookUrl?: string; slackEventBus?: string; sesFrom?: string };
  /** The action executor functions by class (AWS); undefined: in process. */
  taskExecutors?: { read: string; write: string; internet: string };
  egress: {
    allowlists: EgressAllowlists;
    staticHosts: StaticHosts;
    sources: LicenseSources;
    limits: EgressLimits;
  };
}

/** Reads the handlers' environment once, failing loudly with the name of the bad key. */
export function loadHandlerConfig(env: NodeJS.ProcessEnv = process.env): HandlerConfig {
  const parsed = HandlerEnvironment.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`invalid handler configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    stateTable: e.MAESTRO_STATE_TABLE,
    runStateMachineArn: e.MAESTRO_RUN_STATE_MACHINE_ARN,
    authMode: e.MAESTRO_AUTH_MODE,
    iamRoles: e.MAESTRO_IAM_ROLES,
    s3ForcePathStyle: e.MAESTRO_S3_FORCE_PATH_STYLE ?? Boolean(e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL),
    publicUrl: e.MAESTRO_PUBLIC_URL.replace(/\/$/, ''),
    approvalKey: e.MAESTRO_APPROVAL_KEY,
    notifications: { file: e.MAESTRO_NOTIFICATIONS_FILE, slackWebhookUrl: e.MAESTRO_SLACK_WEBHOOK_URL, slackEventBus: e.MAESTRO_SLACK_EVENT_BUS, sesFrom: e.MAESTRO_SES_FROM },
    egress: { allowlists: e.MAESTRO_EGRESS_ALLOWLIST, staticHosts: e.MAESTRO_EGRESS_STATIC_HOSTS, sources: e.MAESTRO_EGRESS_SOURCES, limits: e.MAESTRO_EGRESS_LIMITS },
    taskExecutors: e.MAESTRO_TASK_EXECUTORS ?? undefined,
  };
}

/**
 * What an action executor reads: how to reach the managed targets and the egress settings. It has no
 * state table (its function is given none), so the handlers' one required key does not apply.
 */
export function loadExecutorConfig(env: NodeJS.ProcessEnv = process.env): Pick<HandlerConfig, 's3ForcePathStyle' | 'egress'> {
  const { s3ForcePathStyle, egress } = loadHandlerConfig({ ...env, MAESTRO_STATE_TABLE: env.MAESTRO_STATE_TABLE || 'no-state-table' });
  return { s3ForcePathStyle, egress };
}
