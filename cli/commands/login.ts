import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { CliError, ExitCode, resolveApiUrl } from '../client.ts';
import type { GlobalOptions } from '../client.ts';
import { action } from '../context.ts';
import { fields } from '../output.ts';
import { credentialsPath } from '../session/credentials-file.ts';
import { login, logout } from '../session/oidc-login.ts';

/** The CLI's client at the embedded stack's OpenID provider (local/oidc/dev-oidc-provider.ts). */
const DEFAULT_CLIENT_ID = 'maestro-cli';
const DEFAULT_SCOPE = 'openid email groups offline_access';

interface LoginCommandOptions {
  issuer?: string;
  clientId?: string;
  scope?: string;
  resource?: string;
  port?: number;
  timeout: number;
  browser: boolean;
}

/** The issuer: --issuer, MAESTRO_OIDC_ISSUER, else the embedded stack's OpenID provider (endpoints.json) when that stack serves this API. */
function issuerOf(options: GlobalOptions & LoginCommandOptions, api: string): string {
  const given = options.issuer ?? process.env.MAESTRO_OIDC_ISSUER;
  if (given) return given.replace(/\/+$/, '');
  const file = join(resolve(options.dataDir ?? process.env.MAESTRO_DATA_DIR ?? '.maestro'), 'endpoints.json');
  try {
    const endpoints = JSON.parse(readFileSync(file, 'utf8')) as { api?: string; oidc?: string };
    if (typeof endpoints.oidc === 'string' && endpoints.api?.replace(/\/+$/, '') === api) return endpoints.oidc;
  } catch {
    // reported below
  }
  throw new CliError(`which OpenID provider? pass --issuer or set MAESTRO_OIDC_ISSUER (the embedded stack's is in ${file})`, ExitCode.usage);
}

/** Opens the URL in the user's browser when there is a terminal to come back to; silent when none can be started. */
function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // the URL is printed anyway
  }
}

const port = (value: string) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1024 || number > 65535) throw new CliError('--port must be a port number from 1024 to 65535', ExitCode.usage);
  return number;
};

/** `maestro login` and `maestro logout`: a person's OpenID Connect sign-in, cached for every other command. */
export function loginCommands(): Command[] {
  const signIn = new Command('login')
    .description('Sign in with OpenID Connect (authorization code + PKCE, loopback redirect); later commands use the cached, refreshed tokens')
    .option('--issuer <url>', "the OpenID provider; default MAESTRO_OIDC_ISSUER, else the embedded stack's")
    .option('--client-id <id>', `the CLI's OAuth client (public, native); default MAESTRO_OIDC_CLIENT_ID or ${DEFAULT_CLIENT_ID}`)
    .option('--scope <scopes>', `the scopes asked for; default MAESTRO_OIDC_SCOPE or "${DEFAULT_SCOPE}"`)
    .option('--resource <uri>', 'an RFC 8707 resource indicator (the API audience); default MAESTRO_OIDC_RESOURCE, else none')
    .option('--port <port>', 'the loopback port for the redirect; default an ephemeral one', port)
    .addOption(new Option('--timeout <seconds>', 'how long to wait for the browser').default(300).argParser(Number))
    .option('--no-browser', 'only print the URL (default when there is no terminal)')
    .action(
      action(async ({ out, options: globals }, options: LoginCommandOptions) => {
        const all = { ...globals, ...options };
        const api = resolveApiUrl(all);
        const issuer = issuerOf(all, api);
        const { session, file } = await login({
          api,
          issuer,
          clientId: options.clientId ?? process.env.MAESTRO_OIDC_CLIENT_ID ?? DEFAULT_CLIENT_ID,
          scope: options.scope ?? process.env.MAESTRO_OIDC_SCOPE ?? DEFAULT_SCOPE,
          resource: options.resource ?? process.env.MAESTRO_OIDC_RESOURCE,
          port: options.port,
          timeoutSeconds: options.timeout,
          onAuthorizationUrl: (url) => {
            out.progress(`Sign in to ${api} at ${issuer}: open this URL in a browser (waiting up to ${options.timeout} s):`);
            out.progress(`  ${url}`);
            if (options.browser && process.stderr.isTTY) openBrowser(url);
          },
        });
        const summary = {
          api,
          issuer: session.issuer,
          subject: session.subject,
          email: session.email,
          expiresAt: new Date(session.expiresAt).toISOString(),
          refreshable: Boolean(session.refreshToken),
          file,
        };
        out.result(summary, () => [
          `signed in as ${session.subject ?? 'unknown'}${session.email ? ` (${session.email})` : ''}`,
          ...fields([
            ['api', api],
            ['issuer', session.issuer],
            ['expires', summary.expiresAt],
            ['refresh', session.refreshToken ? 'yes (a refresh token is cached)' : 'no: log in again when it expires'],
            ['cached in', `${file} (0600)`],
          ]),
        ]);
        return ExitCode.ok;
      }),
    );

  const signOut = new Command('logout').description("Forget this API's cached sign-in (and revoke its refresh token at the provider)").action(
    action(async ({ out, options }) => {
      const api = resolveApiUrl(options);
      const { removed, revoked } = await logout(api);
      out.result({ api, removed, revoked, file: credentialsPath() }, () => [
        removed ? `logged out of ${api}${revoked ? ' (refresh token revoked)' : ''}` : `not logged in to ${api}`,
      ]);
      return ExitCode.ok;
    }),
  );
  return [signIn, signOut];
}
