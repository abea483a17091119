import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { ApiClient, CliError } from './client.ts';
import type { GlobalOptions } from './client.ts';
import { Output } from './output.ts';
import { signedInTokens } from './session/oidc-login.ts';

export interface CommandContext {
  /** Built on first use: local commands (policy test, dr verify) need no API. */
  readonly client: ApiClient;
  readonly out: Output;
  readonly options: GlobalOptions;
}

/** The global options of the command's program, and the client and output they describe. */
export function contextOf(command: Command): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  const out = new Output(options);
  let client: ApiClient | undefined;
  return {
    out,
    options,
    get client() {
      client ??= new ApiClient(options, process.env, signedInTokens);
      return client;
    },
  };
}

/**
 * Wraps a command's action: its return value is the exit code; a CliError prints one line on stderr
 * (and the API's error body on stdout with --output json) and exits with its code.
 */
export function action<A extends unknown[]>(run: (context: CommandContext, ...args: A) => Promise<number>) {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    const context = contextOf(command);
    try {
      process.exitCode = await run(context, ...(args.slice(0, -1) as A));
    } catch (error) {
      if (!(error instanceof CliError)) throw error;
      if (context.out.json && error.body !== undefined) process.stdout.write(`${JSON.stringify(error.body, null, 2)}\n`);
      process.stderr.write(`maestro: ${error.message}\n`);
      process.exitCode = error.exitCode;
    }
  };
}

/** Refuses an option value outside a fixed set (commander reports it as a usage error). */
export function oneOf<T extends string>(allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${allowed.join(', ')}`);
    return value as T;
  };
}

/** A run, DR job or snapshot id (what the API's paths accept). */
export function id(value: string): string {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(value)) throw new InvalidArgumentError('must be an id (letters, digits, -)');
  return value;
}
