import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanLayout } from './layout-rules.ts';

// The rules on small trees written for each test: every rule names the violation it was built to refuse.
let root: string | undefined;

function tree(files: Record<string, string>): string {
  root = mkdtempSync(join(tmpdir(), 'maestro-layout-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

const violations = (files: Record<string, string>) => [...scanLayout(tree(files)).violations.values()].flat();

describe('layout rules', () => {
  it('find nothing in a tree that keeps them', () => {
    const found = violations({
      'functions/core/runs/create-run.ts': "import { z } from 'zod';\nimport type { Run } from './model.ts';\n",
      'functions/core/runs/model.ts': 'export interface Run { id: string }\n',
      'functions/adapters/dynamo-run-repository.ts':
        "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nimport type { Run } from '../core/runs/model.ts';\n",
      'functions/handlers/run/create-run.ts': "import { createRun } from '../../core/runs/create-run.ts';\n",
      'local/s3/server.ts': "import { S3Client } from '@aws-sdk/client-s3';\n",
      'lib/maestro-stack.ts': "import { Stack } from 'aws-cdk-lib';\nimport { Construct } from 'constructs';\nimport { readFileSync } from 'node:fs';\n",
      'statemachines/run.asl.json': '{}',
      'test/support/dynamodb-local.global.ts': '',
    });
    expect(found).toEqual([]);
  });

  it('refuse an import cycle, type-only, multi-line and dynamic imports included, and name its files', () => {
    const found = violations({
      'functions/core/a.ts': "import type {\n  B,\n} from './b.ts';\n",
      'functions/core/b.ts': "export async function c() {\n  return import('./c.ts');\n}\n",
      'functions/core/c.ts': "export { a } from './a.ts';\n",
      'functions/core/self.ts': "import './self.ts';\n",
    });
    expect(found).toEqual(['cycle: functions/core/a.ts ↔ functions/core/b.ts ↔ functions/core/c.ts', 'cycle: functions/core/self.ts']);
    expect(scanLayout(root!).cycleHints).toEqual([
      'functions/core/a.ts → functions/core/b.ts → functions/core/c.ts → functions/core/a.ts',
      'functions/core/self.ts → functions/core/self.ts',
    ]);
  });

  it('refuse the AWS SDK outside functions/adapters/ and local/, type-only imports included', () => {
    const found = violations({
      'functions/handlers/outbox/deps.ts': "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\n",
      'functions/core/outbox/model.ts': "import type { AttributeValue } from '@aws-sdk/client-dynamodb';\n",
      'lib/outbox.ts': "import { SQSClient } from '@aws-sdk/client-sqs';\n",
    });
    expect(found).toEqual([
      'aws-sdk: functions/core/outbox/model.ts imports @aws-sdk/client-dynamodb',
      'aws-sdk: functions/handlers/outbox/deps.ts imports @aws-sdk/client-dynamodb',
      'aws-sdk: lib/outbox.ts imports @aws-sdk/client-sqs',
    ]);
  });

  it('let cli/ use only the credentials chain, in the file that signs; any other SDK import there is refused', () => {
    const found = violations({
      'cli/sigv4.ts': "import { fromNodeProviderChain } from '@aws-sdk/credential-providers';\n",
      'cli/client.ts': "import { fromNodeProviderChain } from '@aws-sdk/credential-providers';\n",
      'cli/commands/runs.ts': "import { S3Client } from '@aws-sdk/client-s3';\n",
    });
    expect(found).toEqual(['aws-sdk: cli/client.ts imports @aws-sdk/credential-providers', 'aws-sdk: cli/commands/runs.ts imports @aws-sdk/client-s3']);
  });

  it('refuse any package but the CDK and Node in lib/ and bin/', () => {
    expect(violations({ 'lib/api.ts': "import { z } from 'zod';\n", 'bin/app.ts': "import { App } from 'aws-cdk-lib';\n" })).toEqual([
      'cdk-only: lib/api.ts imports zod',
    ]);
  });

  it('refuse process.env in functions/core, in either spelling, and point at the line', () => {
    const found = violations({
      'functions/core/dr/targets.ts': "export const a = 1;\nexport const b = process.env.MAESTRO_DR_TARGETS;\nexport const c = process['env'];\n",
      'functions/handlers/shared/config.ts': 'export const d = process.env.MAESTRO_STATE_TABLE;\n',
    });
    expect(found).toEqual(['process-env: functions/core/dr/targets.ts:2', 'process-env: functions/core/dr/targets.ts:3']);
  });

  it('refuse functions/core importing actions/, handlers/ or adapters/', () => {
    const found = violations({
      'functions/core/runs/deps.ts':
        "import { catalog } from '../../actions/catalog.ts';\nimport type { Deps } from '../../handlers/shared/deps.ts';\nimport { DynamoRunRepository } from '../../adapters/dynamo-run-repository.ts';\n",
      'functions/actions/catalog.ts': '',
      'functions/handlers/shared/deps.ts': '',
      'functions/adapters/dynamo-run-repository.ts': '',
    });
    expect(found).toEqual([
      'core-imports-outer: functions/core/runs/deps.ts imports functions/actions/catalog.ts',
      'core-imports-outer: functions/core/runs/deps.ts imports functions/adapters/dynamo-run-repository.ts',
      'core-imports-outer: functions/core/runs/deps.ts imports functions/handlers/shared/deps.ts',
    ]);
  });

  it('refuse file and folder names off kebab-case', () => {
    const found = violations({
      'functions/adapters/DynamoRunRepository.ts': '',
      'local/sandboxRunner/index.ts': '',
      'test/core/run_model.test.ts': '',
      'docs/README.md': '',
    });
    expect(found).toEqual(['file-name: functions/adapters/DynamoRunRepository.ts', 'file-name: local/sandboxRunner', 'file-name: test/core/run_model.test.ts']);
  });

  it('report a relative import that names no file, which would leave the graph wrong', () => {
    expect(scanLayout(tree({ 'functions/core/a.ts': "import { b } from './missing.ts';\n" })).unresolved).toEqual(['functions/core/a.ts → ./missing.ts']);
  });
});
