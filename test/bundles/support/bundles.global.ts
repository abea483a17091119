import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import startDynamoDbLocal from '../../support/dynamodb-local.global.ts';
import { freshSharedAssembly, synthesize, synthesizeShared } from '../../support/synth-output.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    cdkOutDir: string;
  }
}

const ROOT = resolve(import.meta.dirname, '../../..');

/**
 * Synthesizes the app as `npm run synth` does (offline, no credentials, local esbuild), then starts
 * the shared DynamoDB Local. The cloud assembly is the checkout's shared one outside the repository
 * (test/support/synth-output.ts: no node_modules up the tree can stand in for a file an asset lacks,
 * as in Lambda); when test/lib/synth.test.ts (or an earlier run) synthesized it from the inputs as
 * they are now, it is used as it is. MAESTRO_BUNDLES_CDK_OUT=cdk.out synthesizes there instead; with
 * MAESTRO_BUNDLES_SKIP_SYNTH=1 as well, the assembly already there is used as it is.
 */
export default async function setup(project: TestProject) {
  const started = Date.now();
  const override = process.env.MAESTRO_BUNDLES_CDK_OUT ? resolve(ROOT, process.env.MAESTRO_BUNDLES_CDK_OUT) : undefined;
  const reused = override ? (process.env.MAESTRO_BUNDLES_SKIP_SYNTH === '1' ? override : undefined) : freshSharedAssembly();
  let cdkOutDir: string;
  if (reused) {
    cdkOutDir = reused;
    console.log(`test:bundles: ${cdkOutDir} is synthesized from the inputs as they are (checked in ${Date.now() - started} ms): used as it is`);
  } else {
    if (override) await synthesize(override);
    cdkOutDir = override ?? (await synthesizeShared());
    console.log(`test:bundles: synthesized into ${cdkOutDir} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  project.provide('cdkOutDir', cdkOutDir);
  const stopDynamoDb = await startDynamoDbLocal(project);
  return stopDynamoDb;
}
