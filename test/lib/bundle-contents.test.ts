import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { bundleAliases } from '../../lib/maestro-function.ts';
import { spellOutSchemaKeys } from '../../lib/sdk-client-copies.ts';

const ROOT = join(import.meta.dirname, '../..');

/** What a handler's bundle is made of, built as lib/maestro-function.ts bundles it (minus writing it). */
async function packagesOf(entry: string): Promise<{ bytes: number; packages: Set<string>; text: string }> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    mainFields: ['module', 'main'],
    minify: true,
    keepNames: true,
    external: ['@cedar-policy/cedar-wasm'],
    alias: Object.fromEntries(bundleAliases().map((alias) => alias.split('='))),
    write: false,
    metafile: true,
    outfile: join(ROOT, 'cdk.out/bundle-contents/index.mjs'),
    logLevel: 'error',
  });
  const output = Object.values(result.metafile.outputs).find((file) => file.entryPoint)!;
  const packages = new Set<string>();
  for (const file of Object.keys(output.inputs)) {
    // The SDK clients are bundled from their copies under .maestro/sdk (lib/sdk-client-copies.ts).
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file) ?? /\.maestro\/sdk\/([^/]+)/.exec(file);
    packages.add(match ? (file.startsWith('.maestro/sdk/') ? `@aws-sdk/${match[1]}` : match[1]) : file);
  }
  // Cedar is required at run time (createRequire, on the first decision): the bundle names it, as the synth's copy step greps.
  if (result.outputFiles.some((file) => file.path.endsWith('.mjs') && file.text.includes('@cedar-policy/cedar-wasm'))) packages.add('@cedar-policy/cedar-wasm');
  return { bytes: output.bytes, packages, text: result.outputFiles.find((file) => file.path.endsWith('.mjs'))!.text };
}

/** Each function's composition root names its ports: its bundle carries their SDK clients, and no other. */
describe('per-function bundles', () => {
  it('a run step that never runs an action carries no executor, no target clients and no Cedar', async () => {
    const { packages } = await packagesOf('functions/handlers/run/admit.ts');
    for (const absent of [
      '@aws-sdk/client-lambda',
      '@aws-sdk/client-ssm',
      '@aws-sdk/client-cloudwatch',
      '@aws-sdk/client-sesv2',
      '@aws-sdk/client-sfn',
      '@cedar-policy/cedar-wasm',
    ]) {
      expect(packages.has(absent), absent).toBe(false);
    }
    expect(packages.has('@aws-sdk/client-dynamodb')).toBe(true);
  });

  it('the outbox relay carries DynamoDB and EventBridge only, no KMS, Step Functions or Cedar, and is under 1 MiB', async () => {
    const { bytes, packages } = await packagesOf('functions/handlers/outbox/relay.ts');
    expect(packages.has('@aws-sdk/client-eventbridge')).toBe(true);
    for (const absent of ['@aws-sdk/client-kms', '@aws-sdk/client-sfn', '@aws-sdk/client-lambda', '@aws-sdk/client-ssm', '@cedar-policy/cedar-wasm', 'jose']) {
      expect(packages.has(absent), absent).toBe(false);
    }
    expect(bytes).toBeLessThan(1024 * 1024);
  });

  it('a deciding step keeps Cedar (external, loaded on the first decision); the executor carries no control-plane client', async () => {
    expect((await packagesOf('functions/handlers/run/plan.ts')).packages.has('@cedar-policy/cedar-wasm')).toBe(true);
    const executor = await packagesOf('functions/handlers/run/execute-task.ts');
    // Its target adapters are imported statically: a dynamic import would keep every SDK client package whole (over 1 MiB).
    expect(executor.bytes).toBeLessThan(1024 * 1024);
    for (const absent of ['@aws-sdk/client-kms', '@aws-sdk/client-sfn', '@aws-sdk/client-sesv2', '@aws-sdk/client-eventbridge', '@cedar-policy/cedar-wasm']) {
      expect(executor.packages.has(absent), absent).toBe(false);
    }
  });

  it('a step that runs actions invokes the executors: no target client, no YAML, no X-Ray SDK, no credential chain beyond the environment', async () => {
    for (const entry of ['functions/handlers/run/plan.ts', 'functions/handlers/run/apply-task.ts', 'functions/handlers/run/verify.ts']) {
      const { bytes, packages } = await packagesOf(entry);
      expect(bytes, entry).toBeLessThan(1024 * 1024);
      expect(packages.has('@aws-sdk/client-lambda'), entry).toBe(true);
      for (const absent of [
        '@aws-sdk/client-ssm',
        '@aws-sdk/client-cloudwatch',
        'yaml',
        'aws-xray-sdk-core',
        '@aws-sdk/nested-clients',
        '@aws-sdk/credential-provider-sso',
        '@aws-sdk/credential-provider-ini',
        'functions/handlers/run/executor-deps.ts',
      ]) {
        expect(packages.has(absent), `${entry}: ${absent}`).toBe(false);
      }
    }
  });

  it('a bundle reads the Node built-ins through their CommonJS shims, never as ES imports (their facades read every accessor: node:http loads undici)', async () => {
    for (const entry of ['functions/handlers/run/plan.ts', 'functions/handlers/api.ts', 'functions/handlers/run/execute-task.ts']) {
      const { text } = await packagesOf(entry);
      const builtinImports = [...text.matchAll(/(?:\bimport\s*(?:[\w$*{][^;]*?)?\bfrom\s*|\bimport\s*\(\s*)["']((?:node:)?[a-z_]+(?:\/[a-z_]+)?)["']/g)]
        .map((match) => match[1])
        .filter((specifier) => specifier.startsWith('node:') || builtinModules.includes(specifier));
      expect(builtinImports, entry).toEqual([]);
      expect(text, entry).toContain('process.getBuiltinModule("node:crypto")');
    }
  });

  it("carries the schemas of the SDK operations it calls only (the clients' copies spell out their computed keys)", async () => {
    expect(spellOutSchemaKeys('const _h = "http";\nexport var Put$ = [9, n0, _P, { [_h]: ["PUT", "/", 200] }, { [other]: 1 }];\n')).toBe(
      'const _h = "http";\nexport var Put$ = [9, n0, _P, { "http": ["PUT", "/", 200] }, { [other]: 1 }];\n',
    );
    const { bytes, text } = await packagesOf('functions/handlers/run/plan.ts');
    // PutObject (the audit heads) is called; PutBucketPolicy never is.
    expect(text).toContain('"/{Key+}?x-id=PutObject"');
    expect(text).not.toContain('"/?policy"');
    expect(bytes).toBeLessThan(0.9 * 1024 * 1024);
  });

  it("no bundled source imports zod's namespace as a binding (`import { z }` keeps every locale, about 300 KiB)", () => {
    const offending: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
        const path = `${dir}/${entry.name}`;
        if (entry.isDirectory()) {
          if (entry.name !== 'node_modules') walk(path);
        } else if (
          path.endsWith('.ts') &&
          !path.endsWith('.test.ts') &&
          /^\s*import\s+(?:\{\s*z\s*\}|z)\s+from\s+['"]zod['"]/m.test(readFileSync(join(ROOT, path), 'utf8'))
        ) {
          offending.push(path);
        }
      }
    };
    walk('functions');
    walk('packs');
    expect(offending).toEqual([]);
  });
});
