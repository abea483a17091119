import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbeddedStack } from '../../../local/stack.ts';

/**
 * The embedded stack with every deployed handler loaded from the synthesized bundles, in a plain Node
 * process (no test runner in between: the bundles load as the Lambda runtime loads them). The test
 * reads `<dataDir>/bundle-stack.json` once "Ctrl-C to stop" is printed (test/support/child-stack.ts).
 */
const dataDir = process.env.BUNDLE_STACK_DATA_DIR!;
const prefix = `bundles-${randomBytes(3).toString('hex')}-`;
const stack = await startEmbeddedStack({
  handlers: 'bundles',
  cdkOutDir: process.env.BUNDLE_STACK_CDK_OUT,
  dataDir,
  dynamodbUrl: process.env.BUNDLE_STACK_DYNAMODB_URL,
  tablePrefix: prefix,
  demoTable: `${prefix}maestro-demo`,
  apiPort: 0,
});
writeFileSync(
  join(dataDir, 'bundle-stack.json'),
  JSON.stringify({
    demoBucket: stack.demoBucket,
    demoTable: stack.demoTable,
    stateTable: stack.stateTable,
    handlerModules: Object.fromEntries(stack.handlerModules),
  }),
);
process.on('SIGTERM', () => void stack.stop().then(() => process.exit(0)));
console.log('serving the bundles; Ctrl-C to stop');
