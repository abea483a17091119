/**
 * The workflows' tasks: one list that says, for every `${...}FunctionArn` placeholder of
 * statemachines/*.asl.json, which handler module serves it, the function's name in the embedded stack,
 * its timeout and what it may do. lib/ builds the Lambda functions from it, local/ hosts the same
 * modules in-process. Pure data: importable from CDK code and from the embedded stack alike.
 */

/** The state machines and their definition files. */
export const WORKFLOWS = {
  run: { file: 'statemachines/run.asl.json', stateMachineName: 'maestro-run' },
  'dr-backup': { file: 'statemachines/dr-backup.asl.json', stateMachineName: 'maestro-dr-backup' },
  'dr-restore': { file: 'statemachines/dr-restore.asl.json', stateMachineName: 'maestro-dr-restore' },
} as const;
export type WorkflowName = keyof typeof WORKFLOWS;

/**
 * What a task's function may do beyond the state table (lib/ turns each into grants or placement):
 * `execute*` invokes that action executor (the executors alone hold the managed targets; the internet one sits
 * on the egress path);
 * `answerTaskTokens` answers the run's waits; `sealAuditHeads` signs checkpoints of the run's audit head
 * (every other run step and the API hold no signing grant, so they sign none); the DR rights name the data they touch.
 */
export type TaskRight =
  | 'executeRead'
  | 'executeWrite'
  | 'executeInternet'
  | 'answerTaskTokens'
  | 'readTargets'
  | 'writeCopies'
  | 'readCopies'
  | 'deleteCopies'
  | 'readVault'
  | 'writeVault'
  | 'sign'
  | 'verify'
  | 'sealAuditHeads';

export interface WorkflowTask {
  /** The step's name, unique in its family: the construct id is `${id}Function`. */
  readonly id: string;
  /** The run workflow's steps, or DR's (the two DR workflows share functions). */
  readonly family: 'run' | 'dr';
  /** The state machines whose definitions call it (one function may serve several). */
  readonly workflows: readonly WorkflowName[];
  /** The ASL placeholder, `${placeholder}` in the definition files. */
  readonly placeholder: string;
  /** The handler module, from the repository root; it exports `handler` (Lambda) and `createHandler(deps)`. */
  readonly entry: string;
  /** The function's name in the embedded stack (in AWS, CDK names it). */
  readonly functionName: string;
  readonly description: string;
  readonly timeoutSeconds: number;
  /** @default 512 */
  readonly memorySize?: number;
  readonly rights: readonly TaskRight[];
}

type Task<Family extends WorkflowTask['family'], Id extends string> = WorkflowTask & { readonly family: Family; readonly id: Id };

const run = <Id extends string>(
  id: Id,
  slug: string,
  description: string,
  timeoutSeconds: number,
  rights: readonly TaskRight[],
  entry = slug,
): Task<'run', Id> => ({
  id,
  family: 'run',
  workflows: ['run'],
  placeholder: `${id}FunctionArn`,
  entry: `functions/handlers/run/${entry}.ts`,
  functionName: `maestro-run-${slug}`,
  description: `Maestro run: ${description}`,
  timeoutSeconds,
  rights,
});

const dr = <Id extends string>(
  id: Id,
  slug: string,
  workflows: readonly WorkflowName[],
  description: string,
  timeoutSeconds: number,
  rights: readonly TaskRight[],
  memorySize?: number,
): Task<'dr', Id> => ({
  id,
  family: 'dr',
  workflows,
  placeholder: `${id}FunctionArn`,
  entry: `functions/handlers/dr/${slug}.ts`,
  functionName: `maestro-dr-${slug}`,
  description: `Maestro DR: ${description}`,
  timeoutSeconds,
  ...(memorySize ? { memorySize } : {}),
  rights,
});

const BACKUP = ['dr-backup'] as const;
const RESTORE = ['dr-restore'] as const;

/**
 * Every task function. Run steps that send actions to an executor get six minutes (the executor's five,
 * plus the claim and the record; an action's own time budget is enforced in code, below this); the
 * others thirty seconds.
 */
export const WORKFLOW_TASKS = [
  run('Admit', 'admit', 'admit (kill switch, autonomy, rate limits)', 30, ['sealAuditHeads']),
  run('Plan', 'plan', 'plan every task without side effects', 360, ['executeRead']),
  run('RequestApproval', 'request-approval', 'request a human approval (task token)', 30, ['answerTaskTokens', 'sealAuditHeads']),
  run('ApplyTask', 'apply-task', 'apply one task idempotently', 360, ['executeWrite']),
  // The same handler as ApplyTask, in its own function: it sends internet-reaching applies to the egress executor.
  run(
    'ApplyInternetTask',
    'apply-internet-task',
    'apply one task that reaches the internet (through the egress executor)',
    360,
    ['executeInternet'],
    'apply-task',
  ),
  run('Verify', 'verify', 'verify applied tasks', 360, ['executeRead']),
  run('RollBack', 'roll-back', 'roll back applied tasks in reverse order', 360, ['executeWrite']),
  run('Finalize', 'finalize', 'record the outcome', 30, ['sealAuditHeads']),
  dr('Quiesce', 'quiesce', BACKUP, 'hold writers off the target', 30, []),
  dr('Snapshot', 'snapshot', BACKUP, 'stream the target into hashed parts', 900, ['readTargets', 'writeVault'], 1024),
  dr('Unquiesce', 'unquiesce', BACKUP, 'lift the quiesce', 30, []),
  dr('SignManifest', 'sign-manifest', BACKUP, 'sign and store the manifest', 60, ['writeVault', 'sign']),
  dr('Stage', 'stage', RESTORE, 'verify signature and every part', 900, ['readVault', 'verify'], 1024),
  dr('Apply', 'apply', RESTORE, 'restore into a new copy', 900, ['readVault', 'writeCopies'], 1024),
  dr('Validate', 'validate', RESTORE, 'smoke-test the new copy', 900, ['readVault', 'readCopies']),
  dr('AwaitApproval', 'await-approval', RESTORE, 'ask for a human before the flip (an approval run)', 30, []),
  dr('FlipPointer', 'flip-pointer', RESTORE, 'flip the traffic pointer', 30, []),
  dr('RecordEvidence', 'record-evidence', RESTORE, 'sign restore test evidence', 60, ['writeVault', 'sign']),
  dr('DiscardCopy', 'discard-copy', RESTORE, 'delete a failed or tested copy', 900, ['deleteCopies']),
  dr('Finalize', 'finalize', ['dr-backup', 'dr-restore'], 'record the outcome', 30, []),
] as const satisfies readonly WorkflowTask[];

/** The run workflow's step names. */
export type RunTaskId = Extract<(typeof WORKFLOW_TASKS)[number], { family: 'run' }>['id'];
/** The DR workflows' step names. */
export type DrTaskId = Extract<(typeof WORKFLOW_TASKS)[number], { family: 'dr' }>['id'];

/** The tasks one workflow's definition calls. */
export const tasksOf = (workflow: WorkflowName): WorkflowTask[] => WORKFLOW_TASKS.filter((task: WorkflowTask) => task.workflows.includes(workflow));
