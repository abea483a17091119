import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { FINISHED_DR_STATES } from '../../functions/core/dr/model.ts';
import { ExitCode } from '../client.ts';
import { action, id, oneOf } from '../context.ts';
import { fields, table } from '../output.ts';
import type { RunBody } from '../watch.ts';

/** `actions ls|show`: the catalog the API runs. */
export function actionsCommand(): Command {
  const actions = new Command('actions').description('The action catalog');
  actions
    .command('ls')
    .description('Every action with its category and whether it needs approval')
    .action(
      action(async ({ client, out }) => {
        const body = await client.call<{ actions: RunBody[] }>('GET', '/actions');
        out.result(body, () =>
          table(
            ['NAME', 'VERSION', 'CATEGORY', 'APPROVAL', 'NETWORK', 'DESCRIPTION'],
            body.actions.map((entry) => [
              entry.name,
              entry.version,
              entry.category,
              entry.requiresApproval ? 'required' : 'by autonomy',
              entry.network,
              entry.description,
            ]),
          ),
        );
        return ExitCode.ok;
      }),
    );
  actions
    .command('show')
    .description('One action: its safety, resource kinds, input JSON Schema and examples')
    .argument('<name>', 'the action name, e.g. s3.put-object')
    .action(
      action(async ({ client, out }, name: string) => {
        const body = await client.call<{ action: RunBody }>('GET', `/actions/${encodeURIComponent(name)}`);
        const entry = body.action;
        out.result(body, () => [
          ...fields([
            ['name', `${entry.name}@${entry.version} (${entry.pack})`],
            ['description', entry.description],
            ['category', entry.category],
            ['approval', entry.requiresApproval ? 'always required' : "by the environment's autonomy"],
            ['network', entry.network],
            ['time budget', `${entry.budgets.timeMs} ms`],
            ['resources', entry.resourceKinds.join(', ') || 'none'],
          ]),
          '',
          'input schema:',
          JSON.stringify(entry.inputSchema, null, 2),
          '',
          'examples:',
          ...entry.examples.map((example: RunBody) => `  ${example.description}: ${JSON.stringify(example.params)}`),
        ]);
        return ExitCode.ok;
      }),
    );
  return actions;
}

/** `dr backup|restore|status|verify`. */
export function drCommand(): Command {
  const dr = new Command('dr').description('Disaster recovery: backups, restores, their status, offline verification');
  dr.command('backup')
    .description('Back up a DR target (quiesce, snapshot, sign); prints the snapshot id')
    .requiredOption('-t, --target <name>', 'the DR target (maestro.config.yaml dr.targets)')
    .requiredOption('-r, --reason <text>', 'why')
    .option('-w, --wait', 'wait for the backup to finish; exit 1 unless it COMPLETEs')
    .action(
      action(async ({ client, out }, options: { target: string; reason: string; wait?: boolean }) => {
        const body = await client.call<{ snapshotId: string }>('POST', '/dr/backup', { target: options.target, reason: options.reason });
        if (!options.wait) {
          out.result(body, () => [`backup ${body.snapshotId} started`, `status: maestro dr status ${body.snapshotId}`]);
          return ExitCode.ok;
        }
        return awaitJob({ client, out }, body.snapshotId);
      }),
    );
  dr.command('restore')
    .description('Restore a DR target from a snapshot (or --test: restore into a copy, smoke-test, clean up)')
    .requiredOption('-t, --target <name>', 'the DR target')
    .option('-s, --snapshot <id>', 'the snapshot id', id)
    .option('--manifest-version <id>', 'or the manifest object version')
    .requiredOption('-r, --reason <text>', 'why')
    .option('--dry-run', 'stage and validate only')
    .option('--test', 'a test restore (mode TEST): never flips traffic')
    .option('-w, --wait', 'wait for the job to finish; exit 1 unless it COMPLETEs')
    .action(
      action(
        async (
          { client, out },
          options: { target: string; snapshot?: string; manifestVersion?: string; reason: string; dryRun?: boolean; test?: boolean; wait?: boolean },
        ) => {
          const body = await client.call<{ jobId: string }>('POST', '/dr/restore', {
            target: options.target,
            ...(options.snapshot ? { snapshotId: options.snapshot } : {}),
            ...(options.manifestVersion ? { manifestVersionId: options.manifestVersion } : {}),
            reason: options.reason,
            dryRun: Boolean(options.dryRun),
            mode: options.test ? 'TEST' : 'RESTORE',
          });
          if (!options.wait) {
            out.result(body, () => [`restore ${body.jobId} started`, `status: maestro dr status ${body.jobId}`]);
            return ExitCode.ok;
          }
          return awaitJob({ client, out }, body.jobId);
        },
      ),
    );
  dr.command('status')
    .description('A DR job (backup or restore) and its progress')
    .argument('<id>', 'the snapshot or job id', id)
    .option('-w, --wait', 'wait for the job to finish; exit 1 unless it COMPLETEs')
    .action(
      action(async ({ client, out }, jobId: string, options: { wait?: boolean }) => {
        if (options.wait) return awaitJob({ client, out }, jobId);
        const job = await client.call<RunBody>('GET', `/dr/status/${jobId}`);
        out.result(job, () => jobLines(job));
        return ExitCode.ok;
      }),
    );
  dr.command('verify')
    .description('Verify a downloaded backup offline with the public key alone (no API, no AWS access)')
    .argument('<manifest>', 'the manifest.json downloaded from the vault')
    .requiredOption('--public-key <file>', 'the manifest signing public key, PEM or DER')
    .option('--parts <dir>', 'where the parts are; default: the manifest folder')
    .action(
      action(async ({ out }, manifest: string, options: { publicKey: string; parts?: string }) => {
        const { main } = await import('../../local/cli/dr-verify.ts');
        return main([manifest, '--public-key', options.publicKey, ...(options.parts ? ['--parts', options.parts] : []), ...(out.json ? ['--json'] : [])]);
      }),
    );
  return dr;
}

const jobLines = (job: RunBody) =>
  fields([
    ['job', job.id],
    ['kind', job.kind],
    ['target', job.target],
    ['state', job.state],
    ['progress', job.progress === undefined ? undefined : `${Math.round(job.progress * 100)}%`],
    ['snapshot', job.snapshotId],
    ['reason', job.reason],
    ['error', job.error ? `${job.error.name ?? ''} ${job.error.message ?? ''}`.trim() : undefined],
  ]);

async function awaitJob({ client, out }: Pick<import('../context.ts').CommandContext, 'client' | 'out'>, jobId: string): Promise<number> {
  let state: string | undefined;
  for (;;) {
    const job = await client.call<RunBody>('GET', `/dr/status/${jobId}`);
    if (job.state !== state) out.progress(`  ▸ ${out.status(job.state, 'err')}`);
    state = job.state;
    if ((FINISHED_DR_STATES as readonly string[]).includes(job.state)) {
      out.result(job, () => jobLines(job));
      return job.state === 'COMPLETE' ? ExitCode.ok : ExitCode.refused;
    }
    await sleep(250);
  }
}

/** `audit verify|export`. */
export function auditCommand(): Command {
  const audit = new Command('audit').description('The hash-chained audit trail');
  audit
    .command('verify')
    .description("Recompute a run's audit chain and check its KMS-signed heads; exit 1 when broken or not anchored")
    .argument('<id>', 'the run id', id)
    .action(
      action(async ({ client, out }, runId: string) => {
        const body = await client.call<RunBody>('GET', `/runs/${runId}/audit/verify`);
        const { anchorLines } = await import('../../local/cli/audit-verify.ts');
        out.result(body, () => [
          body.ok
            ? `run ${runId}: audit chain intact and anchored, ${body.eventCount} event(s), head ${body.headHash}`
            : `run ${runId}: audit ${body.firstBrokenSeq === undefined ? 'NOT VERIFIED' : `chain BROKEN at seq ${body.firstBrokenSeq}`} (${body.eventCount} event(s))${body.note ? `: ${body.note}` : ''}`,
          ...anchorLines(body),
        ]);
        return body.ok ? ExitCode.ok : ExitCode.refused;
      }),
    );
  audit
    .command('export')
    .description('The audit trail as JSON Lines on stdout (admin)')
    .option('--since <date>', 'only runs since this ISO 8601 date or date-time')
    .action(
      action(async ({ client, out }, options: { since?: string }) => {
        const answer = await client.send('GET', `/audit/export${options.since ? `?since=${encodeURIComponent(options.since)}` : ''}`);
        if (answer.status !== 200) {
          const { errorOf } = await import('../client.ts');
          throw errorOf('GET', '/audit/export', answer);
        }
        out.raw(answer.text);
        out.progress(`${answer.headers.get('x-record-count') ?? '?'} record(s)`);
        return ExitCode.ok;
      }),
    );
  return audit;
}

const autonomy = (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 3) throw new InvalidArgumentError('must be 0, 1, 2 or 3');
  return parsed;
};

/** `policy test`: one request against the Cedar policies, evaluated here (no API); exit 0 allow, 1 deny. */
export function policyCommand(): Command {
  const policy = new Command('policy').description('The Cedar policies');
  policy
    .command('test')
    .description('Evaluate one request against the Cedar policies in policies/ and print the decision')
    .requiredOption('--principal <id>', 'who asks (a principal id)')
    .option('--roles <list>', 'comma-separated roles', 'operator')
    .addOption(new Option('--action <gate>', 'the gate').choices(['plan', 'apply']).default('apply'))
    .requiredOption('--resource <uri>', 'the resource, e.g. s3://bucket/key')
    .addOption(new Option('--access <mode>', 'what the action does to the resource').choices(['read', 'write']).default('write'))
    .option('--catalog-action <name>', 'the catalog action', 's3.put-object')
    .option('--category <category>', 'READ, WRITE, DEPLOY or ROLLBACK', oneOf(['READ', 'WRITE', 'DEPLOY', 'ROLLBACK']), 'WRITE')
    .option('--mode <mode>', 'PLAN or APPLY', oneOf(['PLAN', 'APPLY']), 'APPLY')
    .option('--environment <name>', 'environment', 'dev')
    .option('--autonomy <level>', 'effective autonomy, 0-3', autonomy, 3)
    .option('--reason <text>', 'reason-for-access', '')
    .option('--kill-switch', 'the kill switch is engaged', false)
    .option('--approved', 'a human approved the plan', false)
    .option('--input-flagged', "screening flagged the run's inputs", false)
    .option('--policies <dir>', 'policy directory', process.env.MAESTRO_POLICY_DIR ?? resolve(import.meta.dirname, '../../policies'))
    .action(
      action(async ({ out }, options: Record<string, string & boolean & number>) => {
        const { loadPolicyEngine } = await import('../../functions/handlers/shared/deps.ts');
        const { policyResource } = await import('../../functions/core/safety/gates.ts');
        const decision = loadPolicyEngine(options.policies).authorize({
          principal: { id: options.principal, roles: String(options.roles).split(',').filter(Boolean) },
          action: options.action as 'plan' | 'apply',
          resource: policyResource({ resource: options.resource }, options.access as 'read' | 'write'),
          context: {
            catalogAction: options.catalogAction,
            category: options.category,
            mode: options.mode,
            environment: options.environment,
            autonomy: options.autonomy,
            reason: options.reason,
            killSwitch: options.killSwitch,
            approved: options.approved,
            inputFlagged: options.inputFlagged,
            now: new Date(),
          },
        });
        const result = { decision: decision.allowed ? 'allow' : 'deny', policyIds: decision.policyIds, errors: decision.errors };
        out.result(result, () => [
          `${out.status(result.decision)}${result.policyIds.length ? ` (${result.policyIds.join(', ')})` : ''}`,
          ...result.errors.map(String),
        ]);
        return decision.allowed ? ExitCode.ok : ExitCode.refused;
      }),
    );
  return policy;
}

/** `egress check`: the API's egress decision for a URL (admin), without connecting; exit 0 allowed, 1 refused. */
export function egressCommand(): Command {
  const egress = new Command('egress').description('Egress decisions of the internet-facing actions');
  egress
    .command('check')
    .description('Whether http.fetch may reach a URL, without connecting (admin)')
    .argument('<url>', 'the URL')
    .option('-e, --environment <name>', "the environment whose allowlist applies; default: the configuration's default")
    .action(
      action(async ({ client, out }, url: string, options: { environment?: string }) => {
        const body = await client.call<RunBody>('POST', '/egress/check', { url, ...(options.environment ? { environment: options.environment } : {}) });
        out.result(body, () => [
          `${body.allowed ? out.status('allow') : out.status('deny')} ${url} in ${body.environment}${body.reason ? `: ${body.reason}` : ''}${body.rule ? ` (rule ${body.rule})` : ''}`,
          ...(body.license?.source ? [`license: ${body.license.source} (${body.license.license})`] : [`license: ${body.license?.reason ?? 'none'}`]),
        ]);
        return body.allowed ? ExitCode.ok : ExitCode.refused;
      }),
    );
  return egress;
}
