import { Command } from 'commander';
import { ExitCode } from '../client.ts';
import { action, id } from '../context.ts';
import { fields } from '../output.ts';
import type { RunBody } from '../watch.ts';

/** `approve`, `reject`, `cancel`, `resume`, `rollback`: one run, one decision or request each. */
export function runDecisionCommands(): Command[] {
  const decide = (decision: 'approve' | 'reject') =>
    new Command(decision)
      .description(`${decision === 'approve' ? 'Approve' : 'Reject'} a run waiting for approval (an approver's token: dev-approver locally)`)
      .argument('<id>', 'the run id', id)
      .option('-m, --comment <text>', 'a comment for the audit trail')
      .action(
        action(async ({ client, out }, runId: string, options: { comment?: string }) => {
          const body = await client.call<RunBody>('POST', `/runs/${runId}/${decision}`, options.comment ? { comment: options.comment } : {});
          out.result(body, () => [
            `run ${runId}: ${out.status(body.status)}, approval ${out.status(body.approval?.state ?? 'PENDING')}${body.approval?.decidedBy ? ` (by ${body.approval.decidedBy})` : ''}`,
          ]);
          return ExitCode.ok;
        }),
      );

  const cancel = new Command('cancel')
    .description('Cancel a run (one applying stops before its next task and rolls back)')
    .argument('<id>', 'the run id', id)
    .option('-r, --reason <text>', 'why')
    .action(
      action(async ({ client, out }, runId: string, options: { reason?: string }) => {
        const body = await client.call<RunBody>('POST', `/runs/${runId}/cancel`, options.reason ? { reason: options.reason } : {});
        out.result(body, () => [`run ${runId}: ${out.status(body.status)}${body.cancelRequested ? ' (stops before its next task, then rolls back)' : ''}`]);
        return ExitCode.ok;
      }),
    );

  const resume = new Command('resume')
    .description("Get a run's stopped workflow going again")
    .argument('<id>', 'the run id', id)
    .action(
      action(async ({ client, out }, runId: string) => {
        const body = await client.call<RunBody>('POST', `/runs/${runId}/resume`);
        out.result(body, () => [`run ${runId}: ${out.status(body.status)}, workflow ${body.workflow ?? 'resumed'}`]);
        return ExitCode.ok;
      }),
    );

  const rollback = new Command('rollback')
    .description("Undo a finished run's changes: asks for a new run that restores what it changed")
    .argument('<id>', 'the run to roll back', id)
    .requiredOption('-r, --reason <text>', 'why (recorded in the audit trail)')
    .action(
      action(async ({ client, out }, runId: string, options: { reason: string }) => {
        const body = await client.call<RunBody>('POST', `/runs/${runId}/rollback`, { reason: options.reason });
        out.result(body, () => [`rollback of ${runId}: run ${body.runId ?? body.run?.id}`, `follow it: maestro runs watch ${body.runId ?? body.run?.id}`]);
        return ExitCode.ok;
      }),
    );

  return [decide('approve'), decide('reject'), cancel, resume, rollback];
}

/** `kill-switch on|off`, `freeze override`: the safety envelope (an admin's token: dev-admin locally). */
export function safetyCommands(): Command[] {
  const killSwitch = new Command('kill-switch').description('Engage or release the kill switch (admin)');
  for (const [name, engaged] of [
    ['on', true],
    ['off', false],
  ] as const) {
    killSwitch
      .command(name)
      .description(engaged ? 'Engage: no run plans or applies until released' : 'Release')
      .requiredOption('-r, --reason <text>', 'why, in at least 10 characters')
      .action(
        action(async ({ client, out }, options: { reason: string }) => {
          const body = await client.call<{ killSwitch: RunBody }>('POST', '/control/kill-switch', { engaged, reason: options.reason });
          out.result(body, () => [
            `kill switch ${engaged ? 'ENGAGED' : 'released'} by ${body.killSwitch.changedBy} at ${body.killSwitch.changedAt}: ${body.killSwitch.reason}`,
          ]);
          return ExitCode.ok;
        }),
      );
  }

  const freeze = new Command('freeze').description("Change freezes (maestro.config.yaml's freezeWindows)");
  freeze
    .command('override')
    .description('Let runs apply in an environment despite its freeze window, until a time (admin)')
    .requiredOption('-e, --environment <name>', 'the environment')
    .requiredOption('--until <iso-time>', 'when the override ends (ISO 8601 with offset, e.g. 2026-12-02T18:00:00Z)')
    .requiredOption('-j, --justification <text>', 'why, in at least 20 characters')
    .action(
      action(async ({ client, out }, options: { environment: string; until: string; justification: string }) => {
        const body = await client.call<{ freezeOverrides: RunBody[] }>('POST', '/control/freeze-overrides', options);
        out.result(body, () =>
          body.freezeOverrides.flatMap((override) =>
            fields([
              ['environment', override.environment],
              ['until', override.until],
              ['granted by', override.grantedBy],
              ['justification', override.justification],
            ]),
          ),
        );
        return ExitCode.ok;
      }),
    );
  return [killSwitch, freeze];
}
