import type { Config } from './schema.ts';

/** How a dedicated variable's text becomes a value: as is, JSON, or `true`/`false`. */
export type VariableFormat = 'string' | 'json' | 'flag';

export interface EnvironmentVariable {
  /** The variable's name. */
  readonly name: string;
  /** The configuration key it sets (`state.table`). */
  readonly key: string;
  readonly format: VariableFormat;
}

const v = (name: string, key: string, format: VariableFormat = 'string'): EnvironmentVariable => ({ name, key, format });

/**
 * The dedicated environment variables, one per configuration key they set: the names CDK gives a
 * Lambda function (lib/) and the loader reads (functions/handlers/shared/config.ts). They override the
 * file and the `MAESTRO_CONFIG__` overrides.
 */
export const ENVIRONMENT_VARIABLES = [
  v('MAESTRO_STATE_TABLE', 'state.table'),
  v('MAESTRO_ARTIFACT_BUCKET', 'state.artifactBucket'),
  v('MAESTRO_RUN_STATE_MACHINE_ARN', 'workflows.runStateMachineArn'),
  v('MAESTRO_DR_BACKUP_STATE_MACHINE_ARN', 'workflows.drBackupStateMachineArn'),
  v('MAESTRO_DR_RESTORE_STATE_MACHINE_ARN', 'workflows.drRestoreStateMachineArn'),
  v('MAESTRO_MANIFEST_KEY_ID', 'dr.manifestKeyId'),
  v('MAESTRO_DR_TARGETS', 'dr.targets', 'json'),
  v('MAESTRO_DEMO_TABLE', 'targets.demoTable'),
  v('MAESTRO_DEMO_BUCKET', 'targets.demoBucket'),
  v('MAESTRO_EVENT_BUS_NAME', 'outbox.eventBusName'),
  v('MAESTRO_AUDIT_SIGNING_KEY', 'audit.signingKey'),
  v('MAESTRO_AUDIT_CHECKPOINTS', 'audit.checkpoints'),
  v('MAESTRO_EGRESS_ALLOWLIST', 'egress.allowlists', 'json'),
  v('MAESTRO_EGRESS_STATIC_HOSTS', 'egress.staticHosts', 'json'),
  v('MAESTRO_EGRESS_SOURCES', 'egress.sources', 'json'),
  v('MAESTRO_EGRESS_LIMITS', 'egress.limits', 'json'),
  v('MAESTRO_AUTH_MODE', 'identity.authMode'),
  v('MAESTRO_IAM_ROLES', 'identity.iamRoles', 'json'),
  v('MAESTRO_OIDC', 'identity.oidc', 'json'),
  v('MAESTRO_TASK_EXECUTORS', 'workflows.taskExecutors', 'json'),
  v('MAESTRO_PACK_EXECUTORS', 'workflows.packExecutors', 'json'),
  v('MAESTRO_PUBLIC_URL', 'approvals.publicUrl'),
  v('MAESTRO_APPROVAL_KEY', 'approvals.linkKey'),
  v('MAESTRO_NOTIFICATIONS_FILE', 'approvals.notificationsFile'),
  v('MAESTRO_SLACK_WEBHOOK_URL', 'approvals.slackWebhookUrl'),
  v('MAESTRO_SLACK_EVENT_BUS', 'approvals.slackEventBus'),
  v('MAESTRO_SES_FROM', 'approvals.sesFrom'),
  v('MAESTRO_POLICY_DIR', 'policy.dir'),
  v('MAESTRO_S3_FORCE_PATH_STYLE', 'aws.s3ForcePathStyle', 'flag'),
  v('AWS_ENDPOINT_URL', 'aws.endpoints.default'),
  v('AWS_ENDPOINT_URL_DYNAMODB', 'aws.endpoints.dynamodb'),
  v('AWS_ENDPOINT_URL_DYNAMODB_STREAMS', 'aws.endpoints.dynamodbStreams'),
  v('AWS_ENDPOINT_URL_S3', 'aws.endpoints.s3'),
  v('AWS_ENDPOINT_URL_SFN', 'aws.endpoints.sfn'),
  v('AWS_ENDPOINT_URL_KMS', 'aws.endpoints.kms'),
  v('AWS_ENDPOINT_URL_EVENTBRIDGE', 'aws.endpoints.eventbridge'),
  v('AWS_ENDPOINT_URL_SESV2', 'aws.endpoints.sesv2'),
  v('AWS_ENDPOINT_URL_LAMBDA', 'aws.endpoints.lambda'),
  v('AWS_ENDPOINT_URL_SSM', 'aws.endpoints.ssm'),
  v('AWS_ENDPOINT_URL_CLOUDWATCH', 'aws.endpoints.cloudwatch'),
  v('MAESTRO_PACKS', 'packs', 'json'),
  v('MAESTRO_SUBSCRIPTION_DESTINATIONS', 'subscriptions.destinations', 'json'),
] as const satisfies readonly EnvironmentVariable[];

export type ConfigKey = (typeof ENVIRONMENT_VARIABLES)[number]['key'];

/** The variable that sets `key` (`envVar('state.table')` is `MAESTRO_STATE_TABLE`). */
export function envVar(key: ConfigKey): string {
  return ENVIRONMENT_VARIABLES.find((variable) => variable.key === key)!.name;
}

/** The file of configuration: `maestro.config.yaml` unless set (relative to the bundle or working directory). */
export const CONFIG_FILE_VARIABLE = 'MAESTRO_CONFIG_FILE';
/** `MAESTRO_CONFIG__a__b=value` sets key `a.b` (a YAML value); a first segment that is no section name is a guardrail key. */
export const CONFIG_OVERRIDE_VARIABLE_PREFIX = 'MAESTRO_CONFIG__';

function valueAt(config: unknown, key: string): unknown {
  let node = config;
  for (const segment of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/**
 * What an environment must hold for the loader to reproduce `config`: the dedicated variables, and
 * the guardrails as one `MAESTRO_CONFIG__<key>` override per top-level guardrail key (JSON, which is
 * YAML), so the result does not depend on the file found. Static credentials are not included.
 */
export function configToEnvironment(config: Config): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of ENVIRONMENT_VARIABLES) {
    const value = valueAt(config, variable.key);
    if (value === undefined) continue;
    env[variable.name] = variable.format === 'json' ? JSON.stringify(value) : String(value);
  }
  for (const [key, value] of Object.entries(config.guardrails)) {
    if (value !== undefined) env[`${CONFIG_OVERRIDE_VARIABLE_PREFIX}${key}`] = JSON.stringify(value);
  }
  return env;
}
