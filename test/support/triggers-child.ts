// The embedded stack in a process of its own on the tests' shared DynamoDB Local (no JVM to start),
// for tests that SIGKILL it (test/e2e/triggers-crash.test.ts). Configured by the environment.
import { startEmbeddedStack } from '../../local/stack.ts';

const prefix = process.env.TEST_TABLE_PREFIX ?? '';
await startEmbeddedStack({
  dataDir: process.env.MAESTRO_DATA_DIR,
  dynamodbUrl: process.env.TEST_DYNAMODB_URL,
  tablePrefix: prefix,
  demoTable: `${prefix}maestro-demo`,
  apiPort: 0,
  oidc: false,
  outboxRelay: false,
});
process.stdout.write('Maestro is up; Ctrl-C to stop\n');
