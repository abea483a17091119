import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import startDynamoDbLocal from '../../support/dynamodb-local.global.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    cdkOutDir: string;
  }
}

const ROOT = resolve(import.meta.dirname, '../../..');

/**
 * Synthesizes the app as `npm run synth` does (offline, no credentials, local esbuild), then starts
 * the shared DynamoDB Local. The cloud assembly goes to a fresh directory outside the repository, so
 * no node_modules up the tree can stand in for a file an asset lacks (in Lambda, nothing else is
 * there). MAESTRO_BUNDLES_CDK_OUT=cdk.out synthesizes there instead; with MAESTRO_BUNDLES_SKIP_SYNTH=1
 * as well, the assembly already there is used as it is.
 */
export default async function setup(project: TestProject) {
  const temporary = process.env.MAESTRO_BUNDLES_CDK_OUT ? undefined : mkdtempSync(join(tmpdir(), 'maestro-assembly-'));
  const cdkOutDir = resolve(ROOT, process.env.MAESTRO_BUNDLES_CDK_OUT ?? join(temporary!, 'cdk.out'));
  if (process.env.MAESTRO_BUNDLES_SKIP_SYNTH !== '1') {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(AWS_|CDK_DEFAULT_)/.test(name)));
    // `cdk.json` runs `node bin/app.ts`: the pinned Node 24 of node_modules/.bin, as under `npm run`.
    env.PATH = `${join(ROOT, 'node_modules/.bin')}${delimiter}${env.PATH ?? ''}`;
    const started = Date.now();
    await promisify(execFile)(join(ROOT, 'node_modules/.bin/cdk'), ['synth', '--quiet', '--output', cdkOutDir], { cwd: ROOT, env, timeout: 300_000 });
    console.log(`test:bundles: synthesized into ${cdkOutDir} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  project.provide('cdkOutDir', cdkOutDir);
  const stopDynamoDb = await startDynamoDbLocal(project);
  return async () => {
    await stopDynamoDb();
    if (temporary) rmSync(temporary, { recursive: true, force: true });
  };
}
