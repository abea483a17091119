import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The CLI's exit codes (docs/cli.md). */
export const ExitCode = {
  /** The command did what was asked (a watched run SUCCEEDED, a PLAN run PLANNED, a check allowed). */
  ok: 0,
  /** The run failed or ended without applying, or the API refused the request (403, 404, 409, 423, 429 ...). */
  refused: 1,
  /** Usage error, an unreadable file, a malformed request (400, 401, 413, 415), or no answer from the API. */
  usage: 2,
} as const;

/** An error that ends the CLI with its exit code and one line on stderr. */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  /** The API's error body, printed as is with --output json. */
  readonly body?: unknown;
  constructor(message: string, exitCode: number, body?: unknown) {
    super(message);
    this.exitCode = exitCode;
    this.body = body;
  }
}

export interface GlobalOptions {
  api?: string;
  token?: string;
  auth?: 'token' | 'sigv4';
  region?: string;
  dataDir?: string;
  output: 'json' | 'table';
  color: boolean;
}

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/** Statuses that mean the request itself was malformed or carried no valid credential: a usage error. */
const USAGE_STATUSES = new Set([400, 401, 413, 415]);
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** The API's base URL: --api, MAESTRO_API_URL, else the `api` of the embedded stack's endpoints.json. */
export function resolveApiUrl(options: Pick<GlobalOptions, 'api' | 'dataDir'>, env: NodeJS.ProcessEnv = process.env): string {
  const given = options.api ?? env.MAESTRO_API_URL;
  if (given) return given.replace(/\/+$/, '');
  const file = join(resolve(options.dataDir ?? env.MAESTRO_DATA_DIR ?? '.maestro'), 'endpoints.json');
  let api: unknown;
  try {
    api = (JSON.parse(readFileSync(file, 'utf8')) as { api?: unknown }).api;
  } catch {
    // reported below
  }
  if (typeof api !== 'string')
    throw new CliError(`no API address: pass --api, set MAESTRO_API_URL, or start the stack (npm start) so that ${file} exists`, ExitCode.usage);
  return api.replace(/\/+$/, '');
}

/** The access token of a `maestro login` session (cli/session/): refreshed when it has expired, or when asked. */
export interface SignedInTokens {
  accessToken(options?: { refresh?: boolean }): Promise<string>;
}

/**
 * Calls the API. Authentication, first that applies: SigV4 with --auth sigv4; a bearer token from
 * --token or MAESTRO_TOKEN; the session `maestro login` cached for this API; SigV4 with the caller's
 * AWS credentials for an execute-api URL; and on a loopback address (the embedded stack) the
 * development token `dev-operator`.
 */
export class ApiClient {
  readonly baseUrl: string;
  readonly #options: GlobalOptions;
  readonly #env: NodeJS.ProcessEnv;
  readonly #signedIn: SignedInTokens | undefined;

  constructor(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env, signedIn?: (baseUrl: string) => SignedInTokens | undefined) {
    this.baseUrl = resolveApiUrl(options, env);
    this.#options = options;
    this.#env = env;
    this.#signedIn = signedIn?.(this.baseUrl);
  }

  /** Sends one request; any answer is returned (the caller decides), only a failed connection throws. */
  async send<T = unknown>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<ApiAnswer<T>> {
    let url: URL;
    try {
      url = new URL(this.baseUrl + path);
    } catch {
      throw new CliError(`not a URL: ${this.baseUrl}`, ExitCode.usage);
    }
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
    if (text !== undefined) headers['content-type'] = 'application/json';
    const auth = await this.#authorization(method, url, headers, text);
    let response = await this.#fetch(url, { method, headers: { ...headers, ...auth.headers }, body: text });
    // A signed-in token the API no longer takes (expired early, or revoked): refresh it once and retry.
    if (response.status === 401 && auth.signedIn) {
      await response.body?.cancel();
      const token = await auth.signedIn.accessToken({ refresh: true });
      response = await this.#fetch(url, { method, headers: { ...headers, authorization: `Bearer ${token}` }, body: text });
    }
    const answer = await response.text();
    let parsed: unknown = answer;
    if ((response.headers.get('content-type') ?? '').includes('json') && answer) {
      try {
        parsed = JSON.parse(answer);
      } catch {
        parsed = answer;
      }
    }
    return { status: response.status, body: parsed as T, text: answer, headers: response.headers };
  }

  /** Sends one request and returns the body of a 2xx answer; an error answer becomes a CliError with its exit code. */
  async call<T = unknown>(method: string, path: string, body?: unknown, extraHeaders?: Record<string, string>): Promise<T> {
    const answer = await this.send<T>(method, path, body, extraHeaders);
    if (answer.status >= 200 && answer.status < 300) return answer.body;
    throw errorOf(method, path, answer);
  }

  async #fetch(url: URL, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach the API at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, ExitCode.usage);
    }
  }

  async #authorization(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<{ headers: Record<string, string>; signedIn?: SignedInTokens }> {
    const token = this.#options.token ?? this.#env.MAESTRO_TOKEN;
    const executeApiRegion = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1];
    const region = this.#options.region ?? executeApiRegion ?? this.#env.AWS_REGION;
    const signedIn = this.#options.auth === 'sigv4' || token ? undefined : this.#signedIn;
    if (signedIn) return { headers: { authorization: `Bearer ${await signedIn.accessToken()}` }, signedIn };
    const sigv4 = this.#options.auth === 'sigv4' || (this.#options.auth !== 'token' && !token && executeApiRegion !== undefined);
    if (sigv4) {
      if (!region) throw new CliError('SigV4 needs a region: pass --region or set AWS_REGION', ExitCode.usage);
      try {
        // Loaded only to sign: the credential chain is the CLI's heaviest import.
        const { signRequest } = await import('./sigv4.ts');
        return { headers: await signRequest({ method, url, headers, body }, region) };
      } catch (error) {
        throw new CliError(`cannot sign the request with your AWS credentials: ${(error as Error).message}`, ExitCode.usage);
      }
    }
    if (token) return { headers: { authorization: `Bearer ${token}` } };
    if (LOOPBACK.has(url.hostname)) return { headers: { authorization: 'Bearer dev-operator' } };
    return { headers: {} };
  }
}

/** The CliError for an API error answer: `code: message (field)`, exit 2 for a malformed request, else 1. */
export function errorOf(method: string, path: string, answer: ApiAnswer): CliError {
  const error = (answer.body as { error?: { code?: string; message?: string; field?: string; correlationId?: string } } | undefined)?.error;
  const detail = error
    ? `${error.code}: ${error.message}${error.field ? ` (field ${error.field})` : ''}${answer.status >= 500 && error.correlationId ? ` [correlation id ${error.correlationId}]` : ''}`
    : answer.text.slice(0, 200);
  const exitCode = USAGE_STATUSES.has(answer.status) || answer.status >= 500 ? ExitCode.usage : ExitCode.refused;
  return new CliError(`${method} ${path} → ${answer.status} ${detail}`, exitCode, answer.body);
}
