#!/usr/bin/env node
/**
 * `maestro`: the command line for Maestro's API (docs/cli.md). Results go to stdout (a table, or
 * JSON with --output json), progress and errors to stderr. Exit codes: 0 success, 1 the run failed
 * or the API refused, 2 a usage or connection error.
 */
import { Command, CommanderError, Option } from 'commander';
import { ExitCode } from './client.ts';
import { runDecisionCommands, safetyCommands } from './commands/control.ts';
import { actionsCommand, auditCommand, drCommand, egressCommand, policyCommand } from './commands/operations.ts';
import { runsCommand } from './commands/runs.ts';
import { mcpCommand } from './commands/mcp.ts';
import { loginCommands } from './commands/login.ts';

export function program(): Command {
  const maestro = new Command('maestro')
    .description("Maestro's command line: runs, approvals, the safety envelope, DR and audit, through the HTTP API")
    .version('0.1.0')
    .option('--api <url>', 'the API base URL; default MAESTRO_API_URL, else the embedded stack (<data-dir>/endpoints.json)')
    .option('--token <token>', 'bearer token (the embedded stack: dev-operator, dev-approver, dev-admin); default MAESTRO_TOKEN')
    .addOption(
      new Option('--auth <mode>', 'token, or sigv4 (your AWS credentials); default sigv4 for an execute-api URL without a token').choices(['token', 'sigv4']),
    )
    .option('--region <region>', 'the region for SigV4; default from the execute-api URL, else AWS_REGION')
    .option('--data-dir <dir>', "the embedded stack's data directory; default MAESTRO_DATA_DIR or .maestro")
    .addOption(new Option('-o, --output <format>', 'json or table').choices(['json', 'table']).default('table'))
    .option('--no-color', 'no colour (also without a terminal, or with NO_COLOR)')
    .showHelpAfterError()
    .exitOverride();
  maestro.addCommand(runsCommand());
  for (const command of [
    ...runDecisionCommands(),
    ...safetyCommands(),
    actionsCommand(),
    drCommand(),
    auditCommand(),
    policyCommand(),
    egressCommand(),
    mcpCommand(),
    ...loginCommands(),
  ]) {
    maestro.addCommand(command);
  }
  // Every subcommand reports usage errors the same way (exit 2, not commander's 1).
  const override = (command: Command) => {
    command.exitOverride();
    for (const child of command.commands) override(child);
  };
  override(maestro);
  return maestro;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await program().parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; a bare `maestro` or `maestro runs` shows help and is a usage error.
      return error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? ExitCode.ok : ExitCode.usage;
    }
    process.stderr.write(`maestro: ${(error as Error).stack ?? String(error)}\n`);
    return ExitCode.usage;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
