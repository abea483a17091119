import * as z from 'zod';
import { DrTargets } from '../dr/targets.ts';
import { LicenseSources } from '../egress/license-registry.ts';
import { EgressAllowlists, EnvironmentEgress } from '../egress/policy.ts';
import { EgressLimits } from '../egress/run-budget-ledger.ts';
import { StaticHosts } from '../egress/settings.ts';
import { Guardrails } from './guardrails.ts';
import { TriggersSection } from '../triggers/trigger-model.ts';
import { PACK_NAME, Packs } from './packs.ts';
import { Role } from '../auth.ts';
import { isMappableIamArn } from '../iam-principals.ts';

const Arn = z.string().startsWith('arn:', 'must be an ARN');
const BucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name');
const Url = z.url();

/** Where the state lives: the state table and the versioned artifact vault. */
export const StateSection = z
  .strictObject({
    table: z.string().min(3, 'must name the state table').describe('The DynamoDB state table (runs, tasks, events, outbox, locks, control). Required.'),
    artifactBucket: BucketName.optional().describe(
      'The versioned artifact vault (signed audit heads, DR artifacts). Unset: no audit head is signed and DR cannot store artifacts.',
    ),
  })
  .describe('Where Maestro keeps its state.');

/** The state machines handlers start or answer. */
export const WorkflowsSection = z
  .strictObject({
    runStateMachineArn: Arn.optional().describe('The run workflow (statemachines/run.asl.json); unset, runs cannot be started.'),
    drBackupStateMachineArn: Arn.optional().describe('The DR backup workflow (statemachines/dr-backup.asl.json).'),
    drRestoreStateMachineArn: Arn.optional().describe('The DR restore workflow (statemachines/dr-restore.asl.json).'),
    taskExecutors: z
      .strictObject({ read: z.string().min(1), write: z.string().min(1), internet: z.string().min(1) })
      .optional()
      .describe(
        'In AWS: the action executor functions by class (`{"read":"…","write":"…","internet":"…"}`). Unset: the embedded stack runs actions in its own process with target-only dependencies; a Lambda function refuses to run one.',
      ),
    packExecutors: z
      .record(
        z.string().regex(PACK_NAME, 'must be a pack name'),
        z.strictObject({ read: z.string().min(1), write: z.string().min(1), internet: z.string().min(1).optional() }),
      )
      .optional()
      .describe(
        'In AWS: each pack\'s own executor functions by class (`{"example":{"read":"…","write":"…"}}`, `internet` when one of its actions reaches the internet); a pack\'s actions run only there, never in the built-ins\' executors. Unset: with `taskExecutors` set, a pack\'s action is refused.',
      ),
  })
  .describe('The Step Functions state machines.');

export const DrSection = z
  .strictObject({
    manifestKeyId: z
      .string()
      .min(1)
      .default('alias/maestro-manifest-signing')
      .describe('The KMS key (ECC_NIST_P256) backup manifests and restore evidence are signed with.'),
    targets: DrTargets.optional().describe(
      'What backups protect (functions/core/dr/targets.ts). Unset: the demo target over targets.demoTable and targets.demoBucket.',
    ),
  })
  .describe('Disaster recovery.');

export const TargetsSection = z
  .strictObject({
    demoTable: z.string().min(3).default('maestro-demo').describe('The demo table runs may act on, and the default DR target protects.'),
    demoBucket: BucketName.default('maestro-demo').describe('The demo bucket runs may act on, and the default DR target protects.'),
  })
  .describe('The demo resources.');

export const OutboxSection = z
  .strictObject({
    eventBusName: z.string().min(1).max(256).default('default').describe('The EventBridge bus outbox messages are published to.'),
  })
  .describe('The transactional outbox relay.');

export const AuditSection = z
  .strictObject({
    signingKey: z
      .string()
      .min(1)
      .default('alias/maestro-manifest-signing')
      .describe('The KMS key audit heads are signed with (the manifest-signing key, by alias).'),
    checkpoints: z
      .enum(['on', 'off'])
      .default('on')
      .describe(
        '`off` where the function may not sign (in AWS: the API and the executing steps): no checkpoint is attempted at status changes there; the final head (Finalize) is not affected.',
      ),
  })
  .describe('The hash-chained audit trail and its signed heads.');

export const EgressSection = z
  .strictObject({
    allowlists: EgressAllowlists.default({}).describe(
      'Per-environment host allowlists (`{"dev":["api.example.com"]}`); an entry here replaces that environment\'s `egress` in the guardrails. Default: none (deny all).',
    ),
    staticHosts: StaticHosts.default({}).describe(
      'Names answered before DNS, like /etc/hosts (`{"api.test":["127.0.0.1"]}`); the guard still judges the addresses.',
    ),
    sources: LicenseSources.default([]).describe(
      'The license registry: `[{"id","urlPrefix","license","automatedAccess","attribution?"}]`. Default: nothing licensed.',
    ),
    limits: EgressLimits.prefault({}).describe('Egress budgets per run and circuit-breaker settings (functions/core/egress/run-budget-ledger.ts).'),
  })
  .describe('Egress of http.fetch and POST /egress/check.');

export const SubscriptionsSection = z
  .strictObject({
    destinations: EnvironmentEgress.default([]).describe(
      'Where subscriptions may deliver (POST /subscriptions): egress allowlist entries, judged by the egress guard at creation and at every delivery (`["hooks.slack.com"]`, or `{"hosts":[{"host":"127.0.0.1","ports":[9000],"allowAddresses":["127.0.0.1/32"]}],"allowHttp":true}` for a loopback receiver in tests). Default: none (no subscription can be created).',
    ),
  })
  .describe('Subscriptions: signed deliveries of outbox events to URLs and Slack webhooks.');

/** Keys checked on the parsed JSON itself (a `__proto__` key is an own property there, and refused). */
const IamRoles = z
  .unknown()
  .superRefine((roles, ctx) => {
    for (const arn of roles && typeof roles === 'object' ? Object.keys(roles) : []) {
      if (!isMappableIamArn(arn))
        ctx.addIssue({
          code: 'custom',
          path: [arn],
          message: 'must be a role ARN (arn:aws:iam::<account>:role/<path/name>) or a user ARN, never an assumed-role session',
        });
    }
  })
  .pipe(z.record(z.string(), z.array(z.enum(Object.values(Role))).min(1)));

/** OpenID Connect for people (and client-credentials machines): tokens from one issuer, verified against its JWKS. */
export const OidcSettings = z
  .strictObject({
    issuer: Url.describe("The issuer URL exactly as its tokens' `iss` says (its discovery document is at `<issuer>/.well-known/openid-configuration`)."),
    audience: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .describe("The `aud` a token must carry: the API's resource (access tokens) and/or the console's client id (ID tokens)."),
    groupsClaim: z.string().min(1).default('groups').describe("The claim that carries the caller's groups (`cognito:groups` for Cognito)."),
    groupRoles: z
      .record(z.string().min(1), z.union([z.enum(Object.values(Role)), z.array(z.enum(Object.values(Role))).min(1)]))
      .default({})
      .describe('Groups to Maestro roles (`{"ops":"operator","leads":["approver"]}`); a valid token with no mapped group is refused (403).'),
    agentClients: z
      .array(z.string().min(1))
      .default([])
      .describe('OAuth clients (`client_id`) whose client-credentials tokens are AI agents: principal kind `agent`, acting for the client, never an approver.'),
    agentRoles: z
      .array(z.enum(Object.values(Role)))
      .default(['operator'])
      .describe(
        "The roles of an agentClients token whose groups map to none (Cognito's client-credentials tokens carry no groups); an agent never approves whatever its roles.",
      ),
    clockSkewSeconds: z.number().int().min(0).max(300).default(60).describe('How far `exp`/`nbf`/`iat` may be off (bounded to 5 minutes).'),
    algorithms: z
      .array(z.enum(['RS256', 'ES256', 'PS256', 'RS384', 'ES384', 'RS512', 'ES512', 'EdDSA']))
      .min(1)
      .default(['RS256', 'ES256'])
      .describe('The signature algorithms accepted (`none` and HMAC never are).'),
    jwksCooldownSeconds: z
      .number()
      .int()
      .min(0)
      .max(600)
      .default(30)
      .describe('After fetching the JWKS, how long a token with an unknown `kid` waits before the JWKS is fetched again (key rotation).'),
  })
  .describe('OpenID Connect settings.');
export type OidcSettings = z.infer<typeof OidcSettings>;

export const IdentitySection = z
  .strictObject({
    authMode: z
      .enum(['iam', 'dev-tokens'])
      .default('iam')
      .describe("`iam`: API Gateway authenticated the caller (production). `dev-tokens`: the embedded stack's bearer tokens."),
    iamRoles: IamRoles.default({}).describe(
      'Role lists per IAM role ARN (an assumed-role session maps through its role) or user ARN (`{"arn:aws:iam::123456789012:role/ops":["operator"]}`); an unmapped caller is refused (403).',
    ),
    oidc: OidcSettings.optional().describe(
      'OpenID Connect: `Authorization: Bearer <JWT>` from this issuer (people through the console, machines through client credentials). Unset: no token is accepted.',
    ),
  })
  .describe('Who callers are.');

export const ApprovalsSection = z
  .strictObject({
    publicUrl: Url.default('http://127.0.0.1:8080').describe("The API's public base URL, which approval links point at (a trailing / is dropped)."),
    linkKey: z.string().min(1).default('alias/maestro-approval-links').describe('The KMS HMAC key that signs approval links.'),
    notificationsFile: z.string().min(1).optional().describe("The embedded stack's notification sink (one JSON line per Slack or email message)."),
    slackWebhookUrl: Url.optional().describe('A Slack incoming webhook approval requests are posted to.'),
    slackEventBus: z
      .string()
      .min(1)
      .optional()
      .describe('In AWS: the EventBridge bus whose rule posts Slack messages to the webhook (no internet route needed).'),
    sesFrom: z.string().min(3).optional().describe('The verified SES identity approval emails come from; unset, no email is sent through SES.'),
  })
  .describe('Approval links and notifications.');

export const PolicySection = z
  .strictObject({
    dir: z
      .string()
      .min(1)
      .default('policies')
      .describe(
        'The directory of the Cedar schema (`*.cedarschema`) and policies (`*.cedar`); relative paths from the Lambda bundle or the working directory.',
      ),
  })
  .describe('Cedar policies.');

export const AwsSection = z
  .strictObject({
    region: z.string().min(1).optional().describe("The region SDK clients use. Unset: the SDK's own (AWS_REGION in Lambda)."),
    endpoints: z
      .strictObject({
        default: Url.optional().describe('The endpoint of every service not named below.'),
        dynamodb: Url.optional().describe('DynamoDB.'),
        dynamodbStreams: Url.optional().describe('DynamoDB Streams.'),
        s3: Url.optional().describe('S3.'),
        sfn: Url.optional().describe('Step Functions.'),
        kms: Url.optional().describe('KMS.'),
        eventbridge: Url.optional().describe('EventBridge.'),
        sesv2: Url.optional().describe('SES v2.'),
        lambda: Url.optional().describe('Lambda (the action executors in AWS; the aliases `lambda.shift-alias` moves).'),
        ssm: Url.optional().describe('SSM Parameter Store (`ssm.put-parameter`).'),
        cloudwatch: Url.optional().describe('CloudWatch (the alarms `lambda.shift-alias` watches).'),
      })
      .default({})
      .describe('Service endpoints (the embedded stack, LocalStack). Unset: AWS.'),
    s3ForcePathStyle: z
      .boolean()
      .optional()
      .describe('Path-style S3 addressing. Default: on when an S3 endpoint is set (local endpoints have no per-bucket host names).'),
    credentials: z
      .strictObject({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) })
      .optional()
      .describe("Static credentials, for local endpoints only (the embedded stack). Unset: the SDK's credential chain."),
  })
  .describe('How SDK clients reach AWS.');

/** The embedded stack's action sandbox: warm sandbox processes per action (local/sandbox/warm-pool.ts). */
export const SandboxSection = z
  .strictObject({
    maxWorkers: z
      .number()
      .int()
      .min(0)
      .max(16)
      .default(2)
      .describe('Warm sandbox processes kept per action at most (never shared between actions). 0: a fresh process for every apply.'),
    maxUsesPerWorker: z
      .number()
      .int()
      .min(1)
      .default(50)
      .describe('Applies one sandbox process answers before it is replaced; it is replaced at once after a violation, a timeout or a crash.'),
    idleMs: z.number().int().min(0).default(60_000).describe('How long an idle sandbox process is kept before it is ended.'),
    prewarm: z.boolean().default(false).describe('Start one sandbox process per action at start-up instead of at its first apply.'),
  })
  .describe('The embedded stack’s action sandbox (in AWS the executor functions play its part).');

/**
 * Maestro's whole configuration, in sections. The guardrails section is `maestro.config.yaml`'s
 * historical top level (see functions/core/config/guardrails.ts).
 */
export const Config = z.strictObject({
  state: StateSection.prefault({} as z.input<typeof StateSection>),
  workflows: WorkflowsSection.prefault({}),
  dr: DrSection.prefault({}),
  targets: TargetsSection.prefault({}),
  outbox: OutboxSection.prefault({}),
  audit: AuditSection.prefault({}),
  egress: EgressSection.prefault({}),
  identity: IdentitySection.prefault({}),
  approvals: ApprovalsSection.prefault({}),
  policy: PolicySection.prefault({}),
  aws: AwsSection.prefault({}),
  sandbox: SandboxSection.prefault({}),
  subscriptions: SubscriptionsSection.prefault({}),
  packs: Packs,
  triggers: TriggersSection,
  guardrails: Guardrails.describe('How far automation may go: autonomy, approvers, freezes, budgets (the keys at the top of maestro.config.yaml).'),
});
export type ConfigInput = z.input<typeof Config>;
/** The parsed configuration; frozen once loaded. */
export type Config = Readonly<z.infer<typeof Config>>;

/** The section names; every other top-level key of maestro.config.yaml belongs to `guardrails`. */
export const CONFIG_SECTIONS = Object.keys(Config.shape).filter((key) => key !== 'guardrails') as (keyof typeof Config.shape)[];
