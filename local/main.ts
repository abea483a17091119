import { join } from 'node:path';
import { z } from 'zod';
import { runDemo } from './demo.ts';
import { RunProgress } from './progress.ts';
import { startEmbeddedStack } from './stack.ts';

/** `npm start`: the embedded stack, a demo run with live progress, then serve until Ctrl-C. */
const Environment = z.object({
  MAESTRO_DATA_DIR: z.string().min(1).default('.maestro'),
  MAESTRO_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  MAESTRO_DEMO: z.enum(['0', '1']).default('1'),
});

const parsed = Environment.safeParse(process.env);
if (!parsed.success) {
  for (const issue of parsed.error.issues) console.error(`maestro: ${issue.path.join('.')}: ${issue.message}`);
  process.exit(2);
}
const env = parsed.data;
const print = (line: string) => process.stdout.write(`${line}\n`);

print(`Starting Maestro's embedded stack (data in ${env.MAESTRO_DATA_DIR}) ...`);
// Created once the API's address is known; state events before that are not shown.
let progress: RunProgress | undefined;
let stack: Awaited<ReturnType<typeof startEmbeddedStack>>;
try {
  stack = await startEmbeddedStack({
    dataDir: env.MAESTRO_DATA_DIR,
    apiPort: env.MAESTRO_PORT,
    onStateEvent: (event) => progress?.onStateEvent(event),
  });
} catch (error) {
  const message = (error as Error).message;
  console.error(`maestro: could not start: ${message}`);
  if (/EADDRINUSE/.test(message)) console.error(`maestro: port ${env.MAESTRO_PORT} is taken; set MAESTRO_PORT to another port`);
  process.exit(1);
}

const { endpoints } = stack;
progress = new RunProgress({ apiUrl: endpoints.api, print });
print('Maestro is up:');
print(`  API             ${endpoints.api}`);
print(`  Console         ${endpoints.api}/console   (sign in as a development user below)`);
print(`  DynamoDB        ${endpoints.dynamodb}`);
print(`  S3              ${endpoints.s3}`);
print(`  Step Functions  ${endpoints.stepfunctions}`);
print(`  KMS             ${endpoints.kms}`);
print(`  Lambda          ${endpoints.lambda}   (stand-ins of the deploy actions' targets)`);
print(`  SSM             ${endpoints.ssm}`);
print(`  CloudWatch      ${endpoints.cloudwatch}`);
if (endpoints.oidc) print(`  OpenID provider ${endpoints.oidc} (users: dev-operator, dev-approver, dev-approver-2, dev-admin)`);
print(`  (written to ${join(stack.dataDir, 'endpoints.json')})`);
if (stack.stepFunctions.resumedExecutions.length > 0) {
  print(`Carrying on ${stack.stepFunctions.resumedExecutions.length} run(s) that were running when the stack last stopped.`);
}

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  print(`\n${signal}: stopping (running runs carry on at the next npm start) ...`);
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

if (env.MAESTRO_DEMO === '1') {
  print('');
  try {
    await runDemo({ apiUrl: endpoints.api, bucket: stack.demoBucket, table: stack.demoTable, progress, print });
  } catch (error) {
    console.error(`maestro: the demo run failed: ${(error as Error).message}`);
  }
}

const runs = (await (await fetch(`${endpoints.api}/runs?limit=100`, { headers: { authorization: 'Bearer dev-operator' } })).json()) as { runs: unknown[] };
print(`\n${runs.runs.length} run(s) in this data directory. Try:`);
print(`  curl -s -H 'Authorization: Bearer dev-operator' ${endpoints.api}/runs`);
print(`  a prod change waits for approval: its links arrive in ${join(stack.dataDir, 'notifications.jsonl')} (see the README)`);
print('Ctrl-C to stop.');
