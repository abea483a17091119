import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { freePort } from '../net.ts';

const LAUNCHER_SOURCE = resolve(import.meta.dirname, 'loopback-dynamo-db-local.java');
const LAUNCHER_CLASS = 'LoopbackDynamoDbLocal';
const CACHE_DIR = resolve(import.meta.dirname, '../../node_modules/.cache/maestro');

/** The DynamoDB Local jar and its libraries, inside the `dynamo-db-local` package. */
function dynamoDbLocalJar(): { jar: string; lib: string } {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const release = readdirSync(join(packageDir, 'lib')).find((name) => name.startsWith('dynamodb_local_'));
  if (!release) throw new Error(`no DynamoDB Local release under ${join(packageDir, 'lib')}`);
  return { jar: join(packageDir, 'lib', release, 'DynamoDBLocal.jar'), lib: join(packageDir, 'lib', release, 'DynamoDBLocal_lib') };
}

/**
 * The loopback launcher's class directory, compiled with the JDK's javac on first use and cached by
 * the hash of its source and the jar it is compiled against (about 3-10 s once). Undefined when there
 * is no javac (a JRE only): then the stock launcher runs, on every interface.
 */
function loopbackLauncher(jar: string, lib: string): string | undefined {
  const source = readFileSync(LAUNCHER_SOURCE);
  const key = createHash('sha256').update(source).update(jar).digest('hex').slice(0, 16);
  const classes = join(CACHE_DIR, `dynamodb-local-launcher-${key}`);
  if (existsSync(join(classes, `${LAUNCHER_CLASS}.class`))) return classes;
  mkdirSync(CACHE_DIR, { recursive: true });
  const building = mkdtempSync(join(CACHE_DIR, 'building-'));
  try {
    execFileSync('javac', ['-nowarn', '-d', building, '-cp', `${jar}:${join(lib, '*')}`, LAUNCHER_SOURCE], { stdio: 'pipe' });
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`javac could not compile ${LAUNCHER_SOURCE}: ${String((error as { stderr?: Buffer }).stderr ?? error)}`);
  }
  try {
    // Atomic: a concurrent start that compiled the same source first wins; both copies are equal.
    renameSync(building, classes);
  } catch {
    rmSync(building, { recursive: true, force: true });
  }
  return classes;
}

export interface DynamoDbLocalOptions {
  /** Where the database file lives; omit for an in-memory database (tests). */
  dataDir?: string;
  port?: number;
  /** How long to wait for the JVM to answer. @default 60_000 */
  readyTimeoutMs?: number;
}

export interface RunningDynamoDbLocal {
  url: string;
  stop(): Promise<void>;
}

/**
 * Amazon DynamoDB Local (the jar inside the `dynamo-db-local` package, on the machine's Java) on
 * loopback. One shared database file regardless of credentials or region, like one AWS account.
 * It has no authentication, so it must not be reachable from elsewhere: it runs through a small
 * launcher (loopback-dynamo-db-local.java, the jar's own ServerRunner) that binds its Jetty connector to
 * 127.0.0.1 and refuses requests with an Origin header (browser pages) or a foreign Host (DNS
 * rebinding), with telemetry off and CORS limited to an origin that serves no page. Without javac, the
 * stock launcher runs with the same flags but listens on every interface (a warning says so).
 * The JVM's pid is kept in the data directory: if an earlier stack was killed and left it orphaned,
 * the next start ends it before opening the same database file.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<RunningDynamoDbLocal> {
  const host = '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const dbPath = options.dataDir ? resolve(options.dataDir) : undefined;
  const pidFile = dbPath ? join(dbPath, 'dynamodb-local.pid') : undefined;
  if (dbPath) mkdirSync(dbPath, { recursive: true });
  if (pidFile) await killOrphan(pidFile);

  const { jar, lib } = dynamoDbLocalJar();
  const launcher = loopbackLauncher(jar, lib);
  if (!launcher)
    process.emitWarning('no javac: DynamoDB Local runs with its stock launcher and listens on every interface', { code: 'MAESTRO_DYNAMODB_ALL_INTERFACES' });
  // The jar's own flags: one shared database, no telemetry, CORS only for its own origin (which serves no page).
  const flags = [...(dbPath ? ['-dbPath', dbPath] : ['-inMemory']), '-port', String(port), '-sharedDb', '-disableTelemetry', '-cors', `http://${host}:${port}`];
  const classPath = launcher ? ['-cp', `${launcher}:${jar}:${join(lib, '*')}`, LAUNCHER_CLASS] : ['-jar', jar];
  const child: ChildProcess = spawn('java', [`-Djava.library.path=${lib}`, ...classPath, ...flags], {
    cwd: dbPath ?? dirname(jar),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  child.on('error', (error) => {
    output += `\n${error.message}`;
    exited = null;
  });
  if (pidFile && child.pid) writeFileSync(pidFile, String(child.pid));

  const url = `http://${host}:${port}`;
  const client = new DynamoDBClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  try {
    for (;;) {
      if (exited !== undefined) throw new Error(`DynamoDB Local exited with code ${exited}: ${output.trim()}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on ${url} in time: ${output.trim()}`);
        await sleep(100);
      }
    }
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    client.destroy();
  }

  return {
    url,
    async stop() {
      if (exited === undefined && child.exitCode === null) {
        const gone = new Promise((done) => child.once('exit', done));
        child.kill('SIGTERM');
        await Promise.race([gone, sleep(5000).then(() => child.kill('SIGKILL'))]);
      }
      if (pidFile) rmSync(pidFile, { force: true });
    },
  };
}

async function killOrphan(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8'));
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!command.includes('DynamoDBLocal')) return;
    process.kill(pid, 'SIGKILL');
    for (let waited = 0; waited < 5000 && isAlive(pid); waited += 50) await sleep(50);
  } catch {
    // Not running any more (or no /proc): nothing to end.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
