import { builtOnce } from '../../core/built-once.ts';
import * as z from 'zod';
import { RunMode, RunStatus, TaskStatus } from '../../core/runs/model.ts';

/**
 * What the API answers, as zod schemas the OpenAPI document is generated from (openapi.ts). The
 * handlers build their answers from views (run-view.ts, catalog-view.ts, ...); these schemas state
 * the fields a client may rely on. Objects are loose: a field added to a view is not a breaking change,
 * and the e2e tests check that recorded answers validate against the document.
 */
function buildResponseSchemas() {
  const Timestamp = z.string().describe('ISO 8601 date-time');
  const ErrorSummary = z.looseObject({ name: z.string(), message: z.string() });

  const ApprovalView = z.looseObject({
    state: z.enum(['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED']),
    planDigest: z.string(),
    requestedAt: Timestamp,
    deadline: Timestamp,
    approvers: z.array(z.string()),
    quorum: z.number().int(),
    decisions: z.array(z.looseObject({ by: z.string(), decision: z.enum(['approve', 'reject']), at: Timestamp, via: z.enum(['link', 'api']) })),
  });

  const TaskView = z.looseObject({
    index: z.number().int(),
    action: z.string(),
    actionVersion: z.string(),
    params: z.record(z.string(), z.unknown()),
    status: z.enum(Object.values(TaskStatus) as [string, ...string[]]),
    attempt: z.number().int(),
    idempotencyKey: z.string(),
    plan: z
      .looseObject({
        summary: z.string(),
        change: z.enum(['create', 'update', 'delete', 'none', 'read']),
        resource: z.string(),
        diff: z.string(),
        preconditions: z.record(z.string(), z.unknown()),
      })
      .optional(),
    outcome: z.record(z.string(), z.unknown()).optional(),
    error: ErrorSummary.optional(),
    updatedAt: Timestamp.optional(),
  });

  const RunView = z.looseObject({
    id: z.string(),
    status: z.enum(Object.values(RunStatus) as [string, ...string[]]),
    goal: z.string(),
    mode: z.enum(Object.values(RunMode) as [string, ...string[]]),
    environment: z.string(),
    autonomy: z.number().int(),
    reasonForAccess: z.string().optional(),
    requestedBy: z.string(),
    correlationId: z.string(),
    createdAt: Timestamp,
    startedAt: Timestamp.optional(),
    finishedAt: Timestamp.optional(),
    updatedAt: Timestamp,
    planDigest: z.string().optional(),
    approval: ApprovalView.optional(),
    inputFlags: z.array(z.string()).optional(),
    error: ErrorSummary.optional(),
    taskCount: z.number().int(),
    eventCount: z.number().int(),
    auditHead: z.string(),
    tasks: z.array(TaskView).optional().describe('present on GET /runs/{id}'),
  });

  const RunLinks = z.object({ self: z.string(), events: z.string(), cancel: z.string() });

  const EventView = z.looseObject({
    seq: z.number().int(),
    ts: Timestamp,
    type: z.string(),
    level: z.string().optional(),
    message: z.string(),
    taskIndex: z.number().int().optional(),
    actor: z.string().optional(),
    payload: z.unknown().optional(),
    correlationId: z.string().optional(),
    prevHash: z.string(),
    hash: z.string(),
  });

  const ActionView = z.looseObject({
    name: z.string(),
    version: z.string(),
    pack: z.string(),
    description: z.string(),
    category: z.string(),
    requiresApproval: z.boolean(),
    network: z.string(),
    budgets: z.looseObject({ timeMs: z.number() }),
    resourceKinds: z.array(z.string()),
    inputSchema: z.record(z.string(), z.unknown()).describe('the params as JSON Schema (draft 2020-12)'),
    examples: z.array(z.looseObject({ description: z.string(), params: z.unknown() })),
  });

  const KillSwitch = z.looseObject({ engaged: z.boolean(), reason: z.string().optional(), changedBy: z.string().optional(), changedAt: Timestamp.optional() });
  const FreezeOverride = z.looseObject({ environment: z.string(), justification: z.string(), until: Timestamp, grantedBy: z.string() });
  const AnyObject = z.looseObject({});

  const DriftFindingView = z.looseObject({
    id: z.string(),
    environment: z.string(),
    resource: z.string(),
    status: z.enum(['OPEN', 'REMEDIATING', 'RESOLVED']),
    runId: z.string().describe('the SUCCEEDED run that last changed the resource'),
    taskIndex: z.number().int(),
    action: z.string(),
    change: z.enum(['create', 'update', 'delete']),
    summary: z.string(),
    diff: z.string().describe('what re-planning that run now would change: from the observed state back to the applied one'),
    detectedAt: Timestamp,
    lastSeenAt: Timestamp,
    resolvedAt: Timestamp.optional(),
    remediation: z.looseObject({ runId: z.string().optional(), requestedBy: z.string(), reason: z.string(), at: Timestamp }).optional(),
    links: z.looseObject({ self: z.string(), remediate: z.string(), run: z.string() }),
  });

  const SubscriptionView = z.looseObject({
    id: z.string(),
    kind: z.enum(['url', 'slack']),
    url: z.string(),
    eventTypes: z.array(z.string()),
    environments: z.array(z.string()).describe('empty: every environment'),
    createdBy: z.string(),
    createdAt: Timestamp,
  });
  const TemplateView = z.looseObject({
    name: z.string(),
    version: z.number().int(),
    digest: z.string(),
    goal: z.string(),
    mode: z.enum(['PLAN', 'APPLY']),
    params: z.record(z.string(), AnyObject),
    tasks: z.array(z.looseObject({ action: z.string(), params: z.record(z.string(), z.unknown()) })),
    createdBy: z.string(),
    createdAt: Timestamp,
  });
  const TriggerView = z.looseObject({
    id: z.string(),
    kind: z.enum(['schedule', 'event', 'webhook']),
    template: z.looseObject({ name: z.string(), version: z.number().int().optional() }),
    autonomyCeiling: z.number().int(),
    overlap: z.enum(['skip', 'queue']),
    source: z.enum(['config', 'api']),
    paused: z.boolean(),
    lastRunId: z.string().optional(),
  });

  /** A JSON-RPC 2.0 message of the MCP protocol (the SDK validates the rest). */
  const McpMessage = z.looseObject({ jsonrpc: z.literal('2.0'), method: z.string().optional(), id: z.union([z.string(), z.number()]).optional() });

  /** One answer schema per operation (its success status and body). */
  const responses = {
    health: z.object({ status: z.literal('ok') }),
    openApi: AnyObject.describe('this document'),
    mcp: z.looseObject({ jsonrpc: z.literal('2.0') }).describe('the JSON-RPC answer (empty with 202 for a notification)'),
    createRun: z.object({ runId: z.string(), created: z.boolean(), links: RunLinks }),
    listRuns: z.object({ runs: z.array(RunView), nextCursor: z.string().optional() }),
    getRun: z.object({ run: RunView, links: RunLinks }),
    listRunEvents: z.object({ runId: z.string(), events: z.array(EventView), nextAfterSeq: z.number().int().optional() }),
    cancelRun: z.object({ runId: z.string(), status: z.string(), cancelRequested: z.boolean() }),
    rollbackRun: z.object({ runId: z.string(), rollbackOf: z.string(), links: RunLinks }),
    decision: z.object({
      runId: z.string(),
      status: z.string(),
      approval: z.object({ state: z.string().optional(), decidedBy: z.string().optional(), decidedAt: Timestamp.optional() }),
    }),
    listApprovals: z.object({
      approvals: z.array(
        z.looseObject({
          runId: z.string(),
          goal: z.string(),
          environment: z.string(),
          requestedBy: z.string(),
          planDigest: z.string(),
          requestedAt: Timestamp,
          deadline: Timestamp,
          quorum: z.number().int(),
          approvers: z.array(z.string()),
          approvals: z.array(z.string()),
        }),
      ),
    }),
    listLocks: z.object({ locks: z.array(AnyObject) }),
    getControl: z.looseObject({
      killSwitch: KillSwitch,
      freezeOverrides: z.array(FreezeOverride),
      guardrails: AnyObject,
      policies: z.array(z.string()),
      autonomyLevels: AnyObject,
      journal: z.array(AnyObject),
    }),
    setKillSwitch: z.looseObject({ killSwitch: KillSwitch }),
    addFreezeOverride: z.object({ freezeOverrides: z.array(FreezeOverride) }),
    listDeadLetters: z.object({ deadLetters: z.array(AnyObject), nextCursor: z.string().optional() }),
    redriveOutbox: z.object({ redriven: z.array(z.string()), stillFailing: z.array(AnyObject), notFound: z.array(z.string()) }),
    resumeRun: z.looseObject({ runId: z.string(), status: z.string() }),
    auditVerify: z.looseObject({ ok: z.boolean(), eventCount: z.number().int() }),
    getSlo: AnyObject,
    checkEgress: z.looseObject({ allowed: z.boolean(), reason: z.string().optional(), environment: z.string(), license: AnyObject }),
    drBackup: z.object({ snapshotId: z.string(), statusUrl: z.string() }),
    drRestore: z.object({ jobId: z.string(), statusUrl: z.string() }),
    drRollback: z.looseObject({ jobId: z.string(), state: z.string() }),
    drStatus: z.looseObject({ id: z.string(), kind: z.string(), state: z.string(), target: z.string() }),
    drTarget: z.looseObject({ target: AnyObject, pointerVersion: z.number().int() }),
    listActions: z.object({ actions: z.array(ActionView) }),
    getAction: z.object({ action: ActionView }),
    listDrift: z.object({ findings: z.array(DriftFindingView), nextCursor: z.string().optional() }),
    getDrift: z.object({ finding: DriftFindingView }),
    remediateDrift: z.object({ runId: z.string(), created: z.boolean(), finding: DriftFindingView, links: z.object({ run: z.string() }) }),
    createSubscription: z.object({
      subscription: SubscriptionView,
      secret: z.string().describe('the HMAC-SHA256 key of X-Maestro-Signature-256: shown here only'),
      links: z.object({ self: z.string() }),
    }),
    listSubscriptions: z.object({ subscriptions: z.array(SubscriptionView) }),
    getSubscription: z.object({ subscription: SubscriptionView, deadLetters: z.array(AnyObject), links: z.object({ self: z.string() }) }),
    deleteSubscription: z.object({ id: z.string(), deleted: z.literal(true) }),
    sweepDrift: z.looseObject({
      environment: z.string(),
      sweptAt: Timestamp,
      checked: z.number().int(),
      inSync: z.number().int(),
      detected: z.array(DriftFindingView).describe('findings recorded (and announced as DriftDetected) for the first time'),
      stillDrifted: z.array(z.string()),
      resolved: z.array(z.string()),
      skipped: z.array(z.object({ resource: z.string(), reason: z.string() })),
    }),
    listTemplates: z.object({ templates: z.array(TemplateView) }),
    getTemplate: z.object({ template: TemplateView, journal: z.array(EventView) }),
    putTemplate: z.object({ template: TemplateView, created: z.boolean() }),
    runTemplate: z.object({ runId: z.string(), created: z.boolean(), template: z.object({ name: z.string(), version: z.number().int() }), links: RunLinks }),
    listTriggers: z.object({ triggers: z.array(TriggerView) }),
    getTrigger: z.object({ trigger: TriggerView, journal: z.array(EventView) }),
    createTrigger: z.object({ trigger: TriggerView, webhookSecret: z.string().optional().describe('a webhook trigger: the HMAC secret, answered this once') }),
    pauseTrigger: z.object({ trigger: TriggerView }),
    resumeTrigger: z.object({ trigger: TriggerView }),
    receiveWebhook: z.looseObject({
      triggerId: z.string(),
      key: z.string(),
      outcome: z.enum(['created', 'duplicate', 'skipped', 'queued']),
      runId: z.string().optional(),
      reason: z.string().optional(),
    }),
  } as const;

  return { responses, McpMessage };
}

/** Built on first use, by the OpenAPI document (openapi.ts): a cold start of the API builds none of them. */
export const responseSchemas = /* @__PURE__ */ builtOnce(buildResponseSchemas);
