/**
 * What each guardrail key means, for the generated reference (docs/configuration.md). The guardrails
 * schema (guardrails.ts) documents its keys in comments; these are the same texts, by key, until they
 * move onto the schema as `.describe()`. `<name>` stands for any environment or action name.
 */
export const GUARDRAIL_DESCRIPTIONS: Readonly<Record<string, string>> = {
  guardrails: 'How far automation may go (the keys at the top of maestro.config.yaml).',
  'guardrails.tracing': 'X-Ray tracing of the handlers.',
  'guardrails.tracing.enabled': 'Whether the handlers are traced.',
  'guardrails.killSwitch': 'The state the kill switch starts in; POST /control/kill-switch (admin) flips it at run time.',
  'guardrails.killSwitch.engaged': 'Engaged: nothing applies, every run stops at its next gate.',
  'guardrails.defaultEnvironment': 'The environment of a run that names none; must be one of `environments`.',
  'guardrails.environments': 'The environments runs may target (at least one).',
  'guardrails.environments.<name>': "One environment's guardrails.",
  'guardrails.environments.<name>.autonomyCeiling':
    'The most autonomy any run here may have: 0 plan only, 1 READ applies unattended, 2 READ and WRITE, 3 everything within policy.',
  'guardrails.environments.<name>.approvers': 'Who may approve applies here (principal ids).',
  'guardrails.environments.<name>.quorum': 'How many distinct approvers (never the requester) must approve.',
  'guardrails.environments.<name>.egress': 'Which hosts http.fetch may reach from this environment (host patterns, or `{hosts, allowHttp}`). Default: none.',
  'guardrails.environments.<name>.approvalDeadlineSeconds': 'How long an approval waits: a reminder at half time, then the run ends EXPIRED.',
  'guardrails.environments.<name>.changeFreezes':
    'Windows in which WRITE and DEPLOY applies are refused (ChangeFreeze) unless an admin override is on record: `{name, from, to}` or `{name, weekdays, fromHourUtc, toHourUtc}`.',
  'guardrails.reasonForAccess': 'The reason a change must give.',
  'guardrails.reasonForAccess.minLength': 'Fewest characters of a reason-for-access.',
  'guardrails.actions': 'Per-action budgets, by action name (`s3.put-object`).',
  'guardrails.actions.<name>': "One action's budgets.",
  'guardrails.actions.<name>.timeMs': "The apply's time budget; past it the task fails with BudgetExceeded. Default: the action's own.",
  'guardrails.actions.<name>.rateLimit': 'How often the action may apply, across runs (`{capacity, refillPerSecond}`). Default: unlimited.',
  'guardrails.rateLimits': 'Rate limits on callers.',
  'guardrails.rateLimits.perPrincipal': "Each principal's token bucket for creating runs (`{capacity, refillPerSecond}`).",
  'guardrails.rateLimits.perPrincipal.capacity': 'Requests at once.',
  'guardrails.rateLimits.perPrincipal.refillPerSecond': 'Tokens added per second.',
  'guardrails.admission': 'Backpressure.',
  'guardrails.admission.maxActiveRuns': 'Above this many unfinished runs, new ones are refused with 429.',
  'guardrails.blastRadius': 'Per-run caps, checked once the plan is known.',
  'guardrails.blastRadius.maxChangingTasks': 'Most tasks of one run that change something.',
  'guardrails.blastRadius.maxDeletes': 'Most tasks of one run that delete something.',
};
