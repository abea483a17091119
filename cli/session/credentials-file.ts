import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError, ExitCode } from '../client.ts';

/** One API's sign-in: the tokens `maestro login` obtained, and where to refresh them. */
export interface Session {
  issuer: string;
  clientId: string;
  tokenEndpoint: string;
  /** Where `maestro logout` revokes the refresh token, when the provider has one. */
  revocationEndpoint?: string;
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** When the access token expires (epoch ms). */
  expiresAt: number;
  /** Who signed in (the ID token's `sub`, and `email` when it has one): for display only, the API decides. */
  subject?: string;
  email?: string;
  /** The scope and resource the tokens were asked for (a refresh asks for the same). */
  scope: string;
  resource?: string;
}

interface CredentialsFile {
  version: 1;
  /** By API base URL: a token obtained for one API is never sent to another. */
  sessions: Record<string, Session>;
}

/**
 * `<$XDG_CONFIG_HOME or ~/.config>/maestro/credentials.json`, or MAESTRO_CREDENTIALS_FILE. The file is
 * created 0600 in a 0700 directory, and refused when anyone but its owner may read or write it.
 */
export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MAESTRO_CREDENTIALS_FILE) return env.MAESTRO_CREDENTIALS_FILE;
  const base = env.XDG_CONFIG_HOME?.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'maestro', 'credentials.json');
}

function readFile(path: string): CredentialsFile {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return { version: 1, sessions: {} };
  }
  if ((mode & 0o077) !== 0) {
    throw new CliError(
      `${path} may be read or written by others (mode ${(mode & 0o777).toString(8)}): it holds tokens; run chmod 600 ${path}, or maestro logout and log in again`,
      ExitCode.usage,
    );
  }
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<CredentialsFile>;
    if (parsed.version === 1 && parsed.sessions && typeof parsed.sessions === 'object') return { version: 1, sessions: parsed.sessions };
  } catch {
    // rewritten below
  }
  throw new CliError(`${path} is not a Maestro credentials file: remove it and run maestro login`, ExitCode.usage);
}

/** Writes the whole file atomically: a 0600 temporary file renamed over it. */
function writeFile(path: string, content: CredentialsFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

export function readSession(api: string, env?: NodeJS.ProcessEnv): Session | undefined {
  const { sessions } = readFile(credentialsPath(env));
  return Object.hasOwn(sessions, api) ? sessions[api] : undefined;
}

export function saveSession(api: string, session: Session, env?: NodeJS.ProcessEnv): string {
  const path = credentialsPath(env);
  const file = readFile(path);
  file.sessions[api] = session;
  writeFile(path, file);
  return path;
}

/** Forgets one API's session; true when there was one. */
export function removeSession(api: string, env?: NodeJS.ProcessEnv): boolean {
  const path = credentialsPath(env);
  const file = readFile(path);
  if (!Object.hasOwn(file.sessions, api)) return false;
  delete file.sessions[api];
  if (Object.keys(file.sessions).length === 0) rmSync(path, { force: true });
  else writeFile(path, file);
  return true;
}

const LOCK_STALE_MS = 15_000;

/**
 * Runs `work` holding the credentials file's lock (`<file>.lock`, created exclusively), so that two
 * commands refreshing at once do not both spend the same rotating refresh token: the second waits,
 * then finds the first one's new tokens in the file.
 */
export async function withCredentialsLock<T>(work: () => Promise<T>, env?: NodeJS.ProcessEnv): Promise<T> {
  const lock = `${credentialsPath(env)}.lock`;
  mkdirSync(dirname(lock), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + LOCK_STALE_MS * 2;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
      if (age > LOCK_STALE_MS)
        rmSync(lock, { force: true }); // its holder died
      else if (Date.now() > deadline) throw new CliError(`${lock} is held by another maestro command; remove it if none is running`, ExitCode.usage);
      else await sleep(50);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}
