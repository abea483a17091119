import { builtOnce } from '../../core/built-once.ts';
import * as z from 'zod';
import { CreateRunRequest } from '../../core/runs/create-run.ts';
import { RollbackRequest } from '../../core/runs/create-rollback-run.ts';
import { RedriveRequest } from '../../core/outbox/redrive-dead-letters.ts';
import { Decision, TokenPath } from './approval-operations.ts';
import { SinceQuery } from './audit-operations.ts';
import { ActionNamePath } from './catalog-operations.ts';
import { BackupBody, EventsQuery as DrEventsQuery, IdPath, JobIdPath, LastEventId, RestoreBody, TargetPath } from './dr-operations.ts';
import { EgressCheckBody } from './egress-operations.ts';
import { DriftIdPath, DriftQuery, SweepBody } from './drift-operations.ts';
import { RemediateRequest } from '../../core/drift/remediate-drift.ts';
import { CreateSubscriptionRequest } from '../../core/subscriptions/create-subscription.ts';
import { SubscriptionIdPath } from './subscription-operations.ts';
import { CancelBody, EventsQuery, IdempotencyKeyHeader, RunsQuery } from './operations.ts';
import { DeadLettersQuery } from '../outbox/operations.ts';
import { RunIdPath } from './operation-request.ts';
import { responseSchemas } from './response-schemas.ts';
import { ConsoleAssetPath } from './console-assets.ts';
import { DecisionBody, FreezeOverrideBody, KillSwitchBody } from './safety-operations.ts';
import type { ApiOperation } from './routes.ts';
import { TemplateDefinition } from '../../core/templates/template-model.ts';
import { TriggerDefinition } from '../../core/triggers/trigger-model.ts';
import { TemplateNamePath, TemplateRunBody, TemplateVersionQuery } from './template-operations.ts';
import { PauseBody, TriggerIdPath } from './trigger-operations.ts';

/** What one operation takes and answers, for the OpenAPI document; the request schemas are the handlers' own. */
export interface OperationContract {
  readonly summary: string;
  readonly tag:
    | 'runs'
    | 'approvals'
    | 'safety'
    | 'audit'
    | 'dr'
    | 'actions'
    | 'outbox'
    | 'egress'
    | 'drift'
    | 'subscriptions'
    | 'templates'
    | 'triggers'
    | 'meta';
  /** Roles allowed (the handler's `requireRole`); omitted: any authenticated role. */
  readonly roles?: readonly string[];
  readonly path?: z.ZodType;
  readonly query?: z.ZodType;
  readonly headers?: Readonly<Record<string, z.ZodType>>;
  readonly body?: z.ZodType;
  /** The body may also be a form (the approval page's own form). */
  readonly formBody?: boolean;
  readonly success: {
    readonly status: number;
    /** Another success status with the same body (a repeated Idempotency-Key answers 200). */
    readonly alsoStatus?: number;
    readonly schema?: z.ZodType;
    readonly contentType?: string;
    readonly headers?: readonly string[];
  };
  /** HTTP statuses of the error answers this operation can give, besides those every operation of its kind can. */
  readonly errors?: readonly number[];
}

const OPERATOR = ['operator', 'admin'];
const APPROVER = ['approver', 'admin'];
const ADMIN = ['admin'];
const HTML = 'text/html; charset=utf-8';

/** Every operation of routes.ts: the type makes a route without a contract (or a contract without a route) a compile error. */
function buildOperationContracts(): Record<ApiOperation, OperationContract> {
  const { responses, McpMessage } = responseSchemas();
  return {
    health: { summary: 'Liveness: the API answers', tag: 'meta', success: { status: 200, schema: responses.health } },
    openApi: { summary: 'This OpenAPI 3.1 document', tag: 'meta', success: { status: 200, schema: responses.openApi } },
    mcp: {
      summary: 'The MCP server (Streamable HTTP, stateless, JSON answers): one JSON-RPC message per POST; Host and Origin must be loopback (docs/mcp.md)',
      tag: 'meta',
      body: McpMessage,
      success: { status: 200, alsoStatus: 202, schema: responses.mcp },
      errors: [406, 413, 415],
    },
    createRun: {
      summary: 'Ask for a run (PLAN or APPLY) of one or more catalog actions',
      tag: 'runs',
      roles: OPERATOR,
      headers: { 'Idempotency-Key': IdempotencyKeyHeader },
      body: CreateRunRequest,
      success: { status: 201, alsoStatus: 200, schema: responses.createRun, headers: ['location'] },
      errors: [409, 413, 415, 423, 429, 503],
    },
    listRuns: { summary: 'List runs, newest first', tag: 'runs', query: RunsQuery, success: { status: 200, schema: responses.listRuns } },
    getRun: { summary: 'One run with its tasks and plans', tag: 'runs', path: RunIdPath, success: { status: 200, schema: responses.getRun }, errors: [404] },
    listRunEvents: {
      summary: "A run's audit events, in order (hash-chained)",
      tag: 'runs',
      path: RunIdPath,
      query: EventsQuery,
      success: { status: 200, schema: responses.listRunEvents },
      errors: [404],
    },
    cancelRun: {
      summary: 'Cancel a run (one applying stops before its next task and rolls back)',
      tag: 'runs',
      roles: OPERATOR,
      path: RunIdPath,
      body: CancelBody,
      success: { status: 202, schema: responses.cancelRun },
      errors: [404, 409, 413, 415],
    },
    rollbackRun: {
      summary: "A new run that undoes a finished run's applied tasks, last first (planned, gated and approved like any run)",
      tag: 'runs',
      roles: OPERATOR,
      path: RunIdPath,
      body: RollbackRequest,
      success: { status: 201, schema: responses.rollbackRun },
      errors: [404, 409, 413, 415],
    },
    approveRun: {
      summary: "Approve a run's plan (an approver other than the requester)",
      tag: 'approvals',
      roles: APPROVER,
      path: RunIdPath,
      body: DecisionBody,
      success: { status: 200, schema: responses.decision },
      errors: [404, 409, 410, 413, 415],
    },
    rejectRun: {
      summary: "Reject a run's plan",
      tag: 'approvals',
      roles: APPROVER,
      path: RunIdPath,
      body: DecisionBody,
      success: { status: 200, schema: responses.decision },
      errors: [404, 409, 410, 413, 415],
    },
    listApprovals: { summary: 'Runs waiting for a decision', tag: 'approvals', success: { status: 200, schema: responses.listApprovals } },
    reviewApproval: {
      summary: 'The page behind an approval link: the plan and its diff, with approve and reject buttons',
      tag: 'approvals',
      path: TokenPath,
      success: { status: 200, contentType: HTML },
    },
    decideByLink: {
      summary: 'Decide through an approval link (single use); answers with a page',
      tag: 'approvals',
      path: TokenPath,
      body: Decision,
      formBody: true,
      success: { status: 200, contentType: HTML },
    },
    listLocks: { summary: 'Resource locks held by running runs', tag: 'safety', success: { status: 200, schema: responses.listLocks } },
    getControl: {
      summary: 'The control record: kill switch, freeze overrides, guardrails, policies',
      tag: 'safety',
      success: { status: 200, schema: responses.getControl },
    },
    setKillSwitch: {
      summary: 'Engage or release the kill switch',
      tag: 'safety',
      roles: ADMIN,
      body: KillSwitchBody,
      success: { status: 200, schema: responses.setKillSwitch },
      errors: [409, 413, 415],
    },
    addFreezeOverride: {
      summary: "Override an environment's change freeze until a time",
      tag: 'safety',
      roles: ADMIN,
      body: FreezeOverrideBody,
      success: { status: 200, schema: responses.addFreezeOverride },
      errors: [409, 413, 415],
    },
    listDeadLetters: {
      summary: "The outbox's dead letters",
      tag: 'outbox',
      roles: ADMIN,
      query: DeadLettersQuery,
      success: { status: 200, schema: responses.listDeadLetters },
    },
    redriveOutbox: {
      summary: 'Publish dead letters again',
      tag: 'outbox',
      roles: ADMIN,
      body: RedriveRequest,
      success: { status: 200, schema: responses.redriveOutbox },
      errors: [413, 415],
    },
    resumeRun: {
      summary: "Get a run's stopped workflow going again",
      tag: 'runs',
      roles: OPERATOR,
      path: RunIdPath,
      success: { status: 202, schema: responses.resumeRun },
      errors: [404, 409, 503],
    },
    auditVerify: {
      summary: "Recompute a run's audit chain and check its KMS-signed heads",
      tag: 'audit',
      path: RunIdPath,
      success: { status: 200, schema: responses.auditVerify },
      errors: [404],
    },
    auditExport: {
      summary: 'The audit trail as JSON Lines, run by run',
      tag: 'audit',
      roles: ADMIN,
      query: SinceQuery,
      success: { status: 200, contentType: 'application/x-ndjson; charset=utf-8', headers: ['x-record-count'] },
    },
    getSlo: {
      summary: 'SLOs computed from the audit events',
      tag: 'audit',
      query: SinceQuery,
      success: { status: 200, schema: responses.getSlo },
    },
    checkEgress: {
      summary: 'The egress decision for a URL, without connecting',
      tag: 'egress',
      roles: ADMIN,
      body: EgressCheckBody,
      success: { status: 200, schema: responses.checkEgress },
      errors: [413, 415],
    },
    drBackup: {
      summary: 'Back up a DR target (quiesce, snapshot, sign)',
      tag: 'dr',
      roles: OPERATOR,
      body: BackupBody,
      success: { status: 202, schema: responses.drBackup, headers: ['location'] },
      errors: [404, 409, 413, 415, 423],
    },
    drRestore: {
      summary: 'Restore a DR target from a snapshot (or test-restore it)',
      tag: 'dr',
      roles: OPERATOR,
      body: RestoreBody,
      success: { status: 202, schema: responses.drRestore, headers: ['location'] },
      errors: [404, 409, 413, 415, 423],
    },
    drRollback: {
      summary: 'Flip a restored target back to the copy live before the restore',
      tag: 'dr',
      roles: OPERATOR,
      path: JobIdPath,
      success: { status: 200, schema: responses.drRollback },
      errors: [404, 409],
    },
    drStatus: { summary: 'A DR job and its progress', tag: 'dr', path: IdPath, success: { status: 200, schema: responses.drStatus }, errors: [404] },
    drStatusEvents: {
      summary: "A DR job's events as server-sent events (long polling until the job ends or waitSeconds)",
      tag: 'dr',
      path: IdPath,
      query: DrEventsQuery,
      headers: { 'Last-Event-ID': LastEventId },
      success: { status: 200, contentType: 'text/event-stream; charset=utf-8' },
      errors: [404],
    },
    drTarget: {
      summary: 'A DR target and which copy is live',
      tag: 'dr',
      path: TargetPath,
      success: { status: 200, schema: responses.drTarget },
      errors: [404],
    },
    listActions: {
      summary: 'The action catalog, with input JSON Schemas',
      tag: 'actions',
      success: { status: 200, schema: responses.listActions },
    },
    console: { summary: 'The web console (signs in with the OpenID provider, then calls this API)', tag: 'meta', success: { status: 200, contentType: HTML } },
    consoleAsset: {
      summary: "The console's files: callback (the page again), app.js, app.css, config.json (where to sign in)",
      tag: 'meta',
      path: ConsoleAssetPath,
      success: { status: 200, contentType: 'text/plain; charset=utf-8' },
      errors: [404],
    },
    getAction: {
      summary: 'One catalog action',
      tag: 'actions',
      path: ActionNamePath,
      success: { status: 200, schema: responses.getAction },
      errors: [404],
    },
    listDrift: {
      summary: 'Drift findings, newest first: resources that differ from what the SUCCEEDED run that last changed them applied',
      tag: 'drift',
      query: DriftQuery,
      success: { status: 200, schema: responses.listDrift },
    },
    getDrift: {
      summary: 'One drift finding, with its whole diff',
      tag: 'drift',
      path: DriftIdPath,
      success: { status: 200, schema: responses.getDrift },
      errors: [404],
    },
    remediateDrift: {
      summary: "A gated run that applies again what the finding's run applied (parks for approval where the environment wants one)",
      tag: 'drift',
      roles: OPERATOR,
      path: DriftIdPath,
      body: RemediateRequest,
      success: { status: 201, alsoStatus: 200, schema: responses.remediateDrift, headers: ['location'] },
      errors: [404, 409, 413, 415, 423, 429, 503],
    },
    sweepDrift: {
      summary: "Sweep an environment for drift now, as its schedule would (re-plans what each resource's last SUCCEEDED run applied)",
      tag: 'drift',
      roles: OPERATOR,
      body: SweepBody,
      success: { status: 200, schema: responses.sweepDrift },
      errors: [413, 415],
    },
    createSubscription: {
      summary:
        'Subscribe a URL or a Slack webhook to outbox events (signed with the secret this answer alone carries; the destination must pass the egress guard)',
      tag: 'subscriptions',
      roles: ADMIN,
      body: CreateSubscriptionRequest,
      success: { status: 201, schema: responses.createSubscription, headers: ['location'] },
      errors: [403, 413, 415],
    },
    listSubscriptions: {
      summary: 'Every subscription (never a secret)',
      tag: 'subscriptions',
      roles: ADMIN,
      success: { status: 200, schema: responses.listSubscriptions },
    },
    getSubscription: {
      summary: 'One subscription and its dead letters',
      tag: 'subscriptions',
      roles: ADMIN,
      path: SubscriptionIdPath,
      success: { status: 200, schema: responses.getSubscription },
      errors: [404],
    },
    deleteSubscription: {
      summary: 'Stop delivering to a subscription',
      tag: 'subscriptions',
      roles: ADMIN,
      path: SubscriptionIdPath,
      success: { status: 200, schema: responses.deleteSubscription },
      errors: [404],
    },
    listTemplates: { summary: 'Run templates (the latest version of each)', tag: 'templates', success: { status: 200, schema: responses.listTemplates } },
    getTemplate: {
      summary: 'One template version (the latest by default) with its audit journal',
      tag: 'templates',
      path: TemplateNamePath,
      query: TemplateVersionQuery,
      success: { status: 200, schema: responses.getTemplate },
      errors: [404],
    },
    putTemplate: {
      summary: 'Record a template as its next version (the same content again makes none); audited',
      tag: 'templates',
      roles: ADMIN,
      body: TemplateDefinition,
      success: { status: 201, alsoStatus: 200, schema: responses.putTemplate },
      errors: [409, 413, 415],
    },
    runTemplate: {
      summary: 'Create a run from a template and parameters (admitted exactly as POST /runs)',
      tag: 'templates',
      roles: OPERATOR,
      path: TemplateNamePath,
      headers: { 'Idempotency-Key': IdempotencyKeyHeader },
      body: TemplateRunBody,
      success: { status: 201, alsoStatus: 200, schema: responses.runTemplate, headers: ['location'] },
      errors: [404, 409, 413, 415, 423, 429, 503],
    },
    listTriggers: {
      summary: 'Triggers (declared in maestro.config.yaml and created through the API)',
      tag: 'triggers',
      success: { status: 200, schema: responses.listTriggers },
    },
    getTrigger: {
      summary: 'One trigger with its journal (firings, skips, pauses)',
      tag: 'triggers',
      path: TriggerIdPath,
      success: { status: 200, schema: responses.getTrigger },
      errors: [404],
    },
    createTrigger: {
      summary: 'Create a trigger (schedule, event pattern or webhook) of a template; a webhook answers its secret once',
      tag: 'triggers',
      roles: ADMIN,
      body: TriggerDefinition,
      success: { status: 201, schema: responses.createTrigger, headers: ['location'] },
      errors: [409, 413, 415],
    },
    pauseTrigger: {
      summary: 'Pause a trigger (its firings are skipped); audited',
      tag: 'triggers',
      roles: OPERATOR,
      path: TriggerIdPath,
      body: PauseBody,
      success: { status: 200, schema: responses.pauseTrigger },
      errors: [404, 409, 413, 415],
    },
    resumeTrigger: {
      summary: 'Resume a paused trigger; audited',
      tag: 'triggers',
      roles: ADMIN,
      path: TriggerIdPath,
      body: PauseBody,
      success: { status: 200, schema: responses.resumeTrigger },
      errors: [404, 409, 413, 415],
    },
    receiveWebhook: {
      summary:
        'A webhook delivery: X-Hub-Signature-256 (HMAC-SHA-256 of the raw body) is the credential; the signed body carries its timestamp; a replay creates nothing',
      tag: 'triggers',
      path: TriggerIdPath,
      headers: { 'X-Hub-Signature-256': z.string().describe('sha256=<hex HMAC-SHA-256 of the raw body under the trigger secret>') },
      body: z.looseObject({}).describe('any JSON object carrying its timestamp at the trigger timestampField'),
      success: { status: 202, alsoStatus: 200, schema: responses.receiveWebhook },
      errors: [400, 401, 404, 413, 429, 503],
    },
  };
}

/** Built on first use, by the OpenAPI document (openapi.ts), not when the API's bundle is imported. */
export const operationContracts = /* @__PURE__ */ builtOnce(buildOperationContracts);
