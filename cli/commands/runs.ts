import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { CliError, ExitCode } from '../client.ts';
import { action, id } from '../context.ts';
import type { CommandContext } from '../context.ts';
import { fields, table } from '../output.ts';
import { exitCodeOf, watchRun } from '../watch.ts';
import type { RunBody } from '../watch.ts';

/** The run request in a file (YAML or JSON: YAML reads both), `-` for stdin. */
export function readRunFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, ExitCode.usage);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new CliError(`${file} is neither YAML nor JSON: ${(error as Error).message}`, ExitCode.usage);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new CliError(`${file} must hold one run request (an object with goal, mode, tasks)`, ExitCode.usage);
  return parsed as Record<string, unknown>;
}

interface CreateOptions {
  file: string;
  environment?: string;
  idempotencyKey?: string;
  watch?: boolean;
  timeout?: number;
}

async function create({ client, out }: CommandContext, body: Record<string, unknown>, options: CreateOptions) {
  const headers: Record<string, string> = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {};
  const created = await client.call<{ runId: string; created: boolean }>('POST', '/runs', body, headers);
  if (!options.watch) {
    out.result(created, () => [`${created.created ? 'created' : 'already created'} run ${created.runId}`, `follow it: maestro runs watch ${created.runId}`]);
    return ExitCode.ok;
  }
  out.progress(`run ${created.runId} (${String(body.mode)}, ${(body.tasks as unknown[] | undefined)?.length ?? 0} task(s)):`);
  const run = await watchRun(client, out, created.runId, { timeoutSeconds: options.timeout });
  out.result({ run }, () => runLines(out, run));
  return exitCodeOf(run);
}

function withOverrides(body: Record<string, unknown>, options: CreateOptions): Record<string, unknown> {
  return { ...body, ...(options.environment ? { environment: options.environment } : {}) };
}

/** A run for people: its fields, its tasks, and each plan's diff. */
export function runLines(out: CommandContext['out'], run: RunBody): string[] {
  const lines = fields([
    ['run', run.id],
    ['status', out.status(run.status)],
    ['goal', run.goal],
    ['mode', run.mode],
    ['environment', run.environment],
    ['autonomy', String(run.autonomy)],
    ['requested by', run.requestedBy],
    ['created', run.createdAt],
    ['finished', run.finishedAt],
    ['plan digest', run.planDigest],
    [
      'approval',
      run.approval ? `${run.approval.state} (${run.approval.decisions?.length ?? 0}/${run.approval.quorum}, deadline ${run.approval.deadline})` : undefined,
    ],
    ['error', run.error ? `${run.error.name}: ${run.error.message}` : undefined],
  ]);
  const tasks = (run.tasks ?? []) as RunBody[];
  if (tasks.length) {
    lines.push(
      '',
      ...table(
        ['TASK', 'ACTION', 'STATUS', 'PLAN'],
        tasks.map((task) => [String(task.index), task.action, out.status(task.status), task.plan?.summary ?? task.error?.message ?? '']),
      ),
    );
  }
  for (const task of tasks) if (task.plan?.diff) lines.push('', `task ${task.index} diff (${task.plan.resource}):`, task.plan.diff.trimEnd());
  const verdicts = run.verdicts ?? tasks.flatMap((task) => (task.verdicts ? [{ task: task.index, verdicts: task.verdicts }] : []));
  if (Array.isArray(verdicts) && verdicts.length) lines.push('', 'simulated verdicts:', ...verdicts.map((verdict) => `  ${verdictLine(verdict)}`));
  return lines;
}

/** One simulated gate verdict, whatever its exact shape: `gate: decision (reason)` where those fields exist. */
function verdictLine(verdict: unknown): string {
  if (!verdict || typeof verdict !== 'object') return String(verdict);
  const { gate, decision, outcome, allowed, reason, ...rest } = verdict as Record<string, unknown>;
  const said = decision ?? outcome ?? (allowed === undefined ? undefined : allowed ? 'allow' : 'deny');
  if (gate === undefined && said === undefined) return JSON.stringify(verdict);
  return `${String(gate ?? 'gate')}: ${String(said ?? '?')}${reason ? ` (${String(reason)})` : ''}${Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : ''}`;
}

const timeoutOption = () => new Option('--timeout <seconds>', 'stop watching after this long (exit 1; the run goes on)').argParser(Number);

export function runsCommand(): Command {
  const runs = new Command('runs').description('Ask for runs, follow them and read them');

  runs
    .command('create')
    .description('Ask for a run from a file (YAML or JSON: goal, mode, tasks, environment, reasonForAccess)')
    .requiredOption('-f, --file <file>', 'the run request (- for stdin)')
    .option('-e, --environment <name>', "override the file's environment")
    .option('--idempotency-key <key>', 'the same key and body return the same run')
    .option('-w, --watch', "follow the run to its end and exit with its outcome (as 'runs watch')")
    .addOption(timeoutOption())
    .action(action(async (context, options: CreateOptions) => create(context, withOverrides(readRunFile(options.file), options), options)));

  runs
    .command('plan')
    .description('Plan a run from a file without applying it (mode PLAN): prints each diff and the simulated verdicts')
    .requiredOption('-f, --file <file>', 'the run request (- for stdin)')
    .option('-e, --environment <name>', "override the file's environment")
    .addOption(timeoutOption())
    .action(
      action(async (context, options: CreateOptions) =>
        create(context, { ...withOverrides(readRunFile(options.file), options), mode: 'PLAN' }, { ...options, watch: true }),
      ),
    );

  runs
    .command('ls')
    .description('List runs, newest first')
    .option('--limit <n>', 'at most this many (1-100)', '20')
    .option('--cursor <cursor>', 'the nextCursor of the previous page')
    .action(
      action(async ({ client, out }, options: { limit: string; cursor?: string }) => {
        const query = new URLSearchParams({ limit: options.limit, ...(options.cursor ? { cursor: options.cursor } : {}) });
        const page = await client.call<{ runs: RunBody[]; nextCursor?: string }>('GET', `/runs?${query}`);
        out.result(page, () => [
          ...table(
            ['ID', 'STATUS', 'MODE', 'ENV', 'CREATED', 'GOAL'],
            page.runs.map((run) => [run.id, out.status(run.status), run.mode, run.environment, run.createdAt, run.goal]),
          ),
          ...(page.runs.length === 0 ? ['no runs'] : []),
          ...(page.nextCursor ? [`more: maestro runs ls --cursor ${page.nextCursor}`] : []),
        ]);
        return ExitCode.ok;
      }),
    );

  runs
    .command('get')
    .description('One run with its tasks, plans and diffs')
    .argument('<id>', 'the run id', id)
    .action(
      action(async ({ client, out }, runId: string) => {
        const body = await client.call<{ run: RunBody }>('GET', `/runs/${runId}`);
        out.result(body, () => runLines(out, body.run));
        return ExitCode.ok;
      }),
    );

  runs
    .command('watch')
    .description('Follow a run state by state (on stderr) to its end; exit 0 when it SUCCEEDED (or PLANNED), 1 when not')
    .argument('<id>', 'the run id', id)
    .addOption(timeoutOption())
    .action(
      action(async ({ client, out }, runId: string, options: { timeout?: number }) => {
        const run = await watchRun(client, out, runId, { timeoutSeconds: options.timeout });
        out.result({ run }, () => runLines(out, run));
        return exitCodeOf(run);
      }),
    );

  return runs;
}
