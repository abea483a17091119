import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REMOTE_LIMITS, protocolError } from '../../functions/core/actions/remote-protocol.ts';
import type { RemoteActionTransport, RemoteEndpoint } from '../../functions/core/actions/remote-protocol.ts';

type CommandEndpoint = Extract<RemoteEndpoint, { command: string[] }>;

/** The variables every command gets from Maestro's own environment (how to find programs, the locale), and no others. */
const PASSED_THROUGH = ['PATH', 'LANG', 'LC_ALL', 'TZ'] as const;

export interface CommandTransportOptions {
  /**
   * The endpoints and credentials of the managed-target services a command declares it calls
   * (`services`), as the SDK reads them. @default none (a command that declares services gets nothing)
   */
  serviceEnvironment?: (services: readonly ('s3' | 'dynamodb')[]) => Record<string, string>;
  /** Where Maestro's own environment is read for {@link PASSED_THROUGH}. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs a remote action's command once per phase: the request as JSON on its standard input, the reply
 * read from its standard output (at most the protocol's limit), its standard error's tail kept for
 * the error. The command runs in a fresh temporary directory (also its HOME and TMPDIR, removed
 * after), in a process group of its own that is killed at the deadline, with an environment of
 * PATH and the locale, the variables its endpoint declares, and the endpoints and credentials of the
 * services it declares: nothing else of Maestro's environment reaches it.
 */
export function commandTransport(options: CommandTransportOptions = {}): RemoteActionTransport {
  const source = options.env ?? process.env;
  return {
    invoke(endpoint, request, { signal, timeMs, maxReplyBytes }) {
      if (!('command' in endpoint)) throw protocolError(request, 'unsupported-endpoint', 'the command transport serves command endpoints only');
      const { command, env: declared = {}, services = [] } = endpoint as CommandEndpoint;
      const cwd = mkdtempSync(join(tmpdir(), 'maestro-remote-'));
      const env: Record<string, string> = {};
      for (const name of PASSED_THROUGH) if (source[name] !== undefined) env[name] = source[name]!;
      Object.assign(env, declared, services.length > 0 ? options.serviceEnvironment?.(services) : {}, { HOME: cwd, TMPDIR: cwd });

      return new Promise<string>((resolve, reject) => {
        const child = spawn(command[0], command.slice(1), { cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true, shell: false });
        const stdout: Buffer[] = [];
        let stdoutBytes = 0;
        let stderr = Buffer.alloc(0);
        let failure: Error | undefined;
        const stop = (error: Error) => {
          failure ??= error;
          // The whole group: a shell script's own children die with it.
          if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
            try {
              process.kill(-child.pid, 'SIGKILL');
            } catch {
              child.kill('SIGKILL');
            }
          }
        };
        const timer = setTimeout(() => stop(protocolError(request, 'timeout', `no reply within ${timeMs} ms (the command was killed)`, { timeMs })), timeMs);
        const onAbort = () => stop(signal?.reason instanceof Error ? signal.reason : protocolError(request, 'timeout', 'the call was abandoned'));
        if (signal?.aborted) onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });

        child.stdout.on('data', (chunk: Buffer) => {
          stdoutBytes += chunk.length;
          if (stdoutBytes > maxReplyBytes) {
            stop(protocolError(request, 'reply-too-large', `the reply passed ${maxReplyBytes} bytes (the command was killed)`, { bytes: stdoutBytes }));
            return;
          }
          stdout.push(chunk);
        });
        child.stderr.on('data', (chunk: Buffer) => {
          stderr = Buffer.concat([stderr, chunk]);
          if (stderr.length > REMOTE_LIMITS.stderrBytes) stderr = stderr.subarray(stderr.length - REMOTE_LIMITS.stderrBytes);
        });
        // A command that exits without reading its input closes the pipe: that is its business, not an error here.
        child.stdin.on('error', () => undefined);
        child.stdin.end(JSON.stringify(request));

        child.on('error', (error) =>
          stop(protocolError(request, 'unreachable', `the command could not be started: ${error.message}`, { command: command[0] })),
        );
        child.on('close', (code, killedBy) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          rmSync(cwd, { recursive: true, force: true });
          const tail = stderr.toString('utf8').trim();
          if (failure) return reject(withStderr(failure, tail));
          if (code !== 0) {
            const how = killedBy ? `was killed by ${killedBy}` : `exited with status ${code}`;
            return reject(
              protocolError(request, 'exit-status', `the command ${how}${tail ? `: ${tail}` : ''}`, { exitCode: code, signal: killedBy, stderr: tail }),
            );
          }
          resolve(Buffer.concat(stdout).toString('utf8'));
        });
      });
    },
  };
}

/** The command's standard error, added to a protocol error's details (a budget's own error is left as it is). */
function withStderr(error: Error, stderr: string): Error {
  const details = (error as { details?: Record<string, unknown> }).details;
  if (stderr && details && error.name === 'ActionProtocolError') details.stderr = stderr;
  return error;
}
