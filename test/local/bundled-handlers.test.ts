import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { handlerModuleResolver, readBundleIndex } from '../../local/bundled-handlers.ts';

/** A cloud assembly of one stack with the given functions (metadata as lib/maestro-function.ts writes it). */
function assembly(functions: { id: string; entry?: string; asset: string; file?: string }[]) {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-assembly-'));
  const resources: Record<string, unknown> = { Bucket: { Type: 'AWS::S3::Bucket' } };
  for (const fn of functions) {
    mkdirSync(join(dir, fn.asset), { recursive: true });
    if (fn.file) writeFileSync(join(dir, fn.asset, fn.file), 'export const handler = async () => "bundled";\n');
    resources[fn.id] = {
      Type: 'AWS::Lambda::Function',
      Metadata: { 'aws:asset:path': fn.asset, ...(fn.entry ? { 'maestro:entry': fn.entry } : {}) },
      Properties: { Handler: 'index.handler' },
    };
  }
  writeFileSync(join(dir, 'Maestro.template.json'), JSON.stringify({ Resources: resources }));
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      artifacts: { Maestro: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Maestro.template.json' } }, Tree: { type: 'cdk:tree' } },
    }),
  );
  return dir;
}

describe('loading handlers from a synthesized cloud assembly', () => {
  it("maps each function's handler file to its asset's index.mjs (or .js), shared assets included", () => {
    const dir = assembly([
      { id: 'ApplyTaskFunction', entry: 'functions/handlers/run/apply-task.ts', asset: 'asset.aaa', file: 'index.mjs' },
      { id: 'ApplyInternetTaskFunction', entry: 'functions/handlers/run/apply-task.ts', asset: 'asset.aaa', file: 'index.mjs' },
      { id: 'ApiFunction', entry: 'functions/handlers/api.ts', asset: 'asset.bbb', file: 'index.js' },
      { id: 'CustomResourceProvider', asset: 'asset.ccc', file: 'index.js' },
    ]);
    expect(readBundleIndex(dir)).toEqual(
      new Map([
        ['functions/handlers/run/apply-task.ts', join(dir, 'asset.aaa/index.mjs')],
        ['functions/handlers/api.ts', join(dir, 'asset.bbb/index.js')],
      ]),
    );
  });

  it('resolves bundled modules to file URLs and keeps the source of a function the assembly does not deploy', async () => {
    const dir = assembly([{ id: 'AdmitFunction', entry: 'functions/handlers/run/admit.ts', asset: 'asset.aaa', file: 'index.mjs' }]);
    const resolver = handlerModuleResolver('bundles', dir);
    const admit = resolver.resolve('../functions/handlers/run/admit.ts');
    expect(admit).toBe(pathToFileURL(join(dir, 'asset.aaa/index.mjs')).href);
    expect(await (await import(admit)).handler()).toBe('bundled');
    expect(resolver.resolve('../functions/handlers/dr/quiesce.ts')).toBe('../functions/handlers/dr/quiesce.ts');
    expect(Object.fromEntries(resolver.loaded)).toEqual({
      '../functions/handlers/run/admit.ts': join(dir, 'asset.aaa/index.mjs'),
      '../functions/handlers/dr/quiesce.ts': '../functions/handlers/dr/quiesce.ts',
    });
    expect(handlerModuleResolver('sources', dir).resolve('../functions/handlers/run/admit.ts')).toBe('../functions/handlers/run/admit.ts');
  });

  it('refuses an assembly that is missing, has no Maestro function, or lacks a bundle file, and says what to do', () => {
    expect(() => readBundleIndex(join(tmpdir(), 'maestro-no-such-assembly'))).toThrow(/no cloud assembly .* \(run npm run synth first\)/);
    expect(() => readBundleIndex(assembly([{ id: 'Other', asset: 'asset.aaa', file: 'index.mjs' }]))).toThrow(/declares no Maestro function/);
    expect(() => readBundleIndex(assembly([{ id: 'AdmitFunction', entry: 'functions/handlers/run/admit.ts', asset: 'asset.aaa' }]))).toThrow(
      /AdmitFunction: no index\.mjs/,
    );
  });
});
