import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashPack } from '../../functions/packs/content-hash.ts';
import { packsOfConfigFile, synthesizePacks } from '../../lib/pack-bundles.ts';
import { PACK_EXECUTOR_METADATA_KEY, RUN_STEPS, TASK_EXECUTORS } from '../../lib/run-workflow.ts';
import { allowedActions, logicalId, synthMaestro } from './template-support.ts';

/**
 * Each configured pack gets executors of its own, one per action class, whose roles hold exactly the
 * managed resources of the kinds its actions declare; the control plane routes its actions there.
 * The stack declares managed functions, parameters and alarms too, so that a grant of a kind the
 * pack does not declare would show.
 */
const managedTargets = { functionNames: ['app-fn'], parameterNames: ['/app/'], alarmNames: ['app-errors'] };
const examplePin = packsOfConfigFile()[0]!;

describe('pack executors', () => {
  // GIVEN the stack with the repository's packs (the example pack declares s3 and dynamodb resources)
  const { stack, template } = synthMaestro({ managedTargets });
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any>; Metadata?: Record<string, any> }>;
  const executors = stack.runWorkflow.packExecutors.example!;
  const roleOf = (fn: { role?: unknown }) => logicalId(fn.role as never);
  const envOf = (fn: object) => resources[logicalId(fn as never)]!.Properties.Environment.Variables as Record<string, unknown>;
  const targets = stack.managedTargets;
  const text = (value: unknown) => JSON.stringify(value);
  const bucketArn = text({ 'Fn::GetAtt': [logicalId(targets.bucket), 'Arn'] });
  const objectsArn = text({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(targets.bucket), 'Arn'] }, '/*']] });
  const tableArn = text({ 'Fn::GetAtt': [logicalId(targets.table), 'Arn'] });
  const keyArn = text({ 'Fn::GetAtt': [logicalId(targets.encryptionKey), 'Arn'] });

  it('has a read and a write executor for the example pack, and no internet one (none of its actions reaches the internet)', () => {
    expect(Object.keys(executors).sort()).toEqual(['read', 'write']);
    expect(synthesizePacks([examplePin])[0]!.kinds).toEqual({ read: ['dynamodb', 's3'], write: ['dynamodb', 's3'] });
    expect(resources[logicalId(executors.write!)]!.Metadata?.[PACK_EXECUTOR_METADATA_KEY]).toEqual({
      pack: 'example',
      executorClass: 'write',
      kinds: ['dynamodb', 's3'],
    });
  });

  it('grants the write executor exactly the managed buckets, tables and their key, for reading and writing', () => {
    const allowed = allowedActions(template, roleOf(executors.write!));
    const byResource = new Map<string, string[]>();
    for (const { action, resource } of allowed) byResource.set(resource, [...(byResource.get(resource) ?? []), action]);
    expect([...byResource.keys()].sort()).toEqual([bucketArn, objectsArn, tableArn, keyArn, '"*"'].sort());
    expect(byResource.get('"*"')!.sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    expect(byResource.get(objectsArn)).toContain('s3:PutObject');
    expect(byResource.get(tableArn)).toContain('dynamodb:PutItem');
    expect(byResource.get(keyArn)).toContain('kms:GenerateDataKey*');
  });

  it('grants the read executor the same resources, read-only', () => {
    const allowed = allowedActions(template, roleOf(executors.read!));
    expect(new Set(allowed.map((pair) => pair.resource))).toEqual(new Set([bucketArn, objectsArn, tableArn, keyArn, '"*"']));
    const writes = allowed.filter(({ action }) =>
      /^(s3:(Put|Delete|Abort)|dynamodb:(Put|Update|Delete|BatchWrite)|kms:(Encrypt|GenerateDataKey|ReEncrypt))/.test(action),
    );
    expect(writes).toEqual([]);
  });

  it("never grants a pack executor Maestro's state table, vault, signing keys, or a kind its actions do not declare", () => {
    // (logical ids start with their construct's path: StateTable…, ArtifactVault…, SigningKeys…)
    const ownIds = Object.keys(resources).filter((id) => /^(StateTable|ArtifactVault|SigningKeys)/.test(id));
    expect(ownIds.filter((id) => /^StateTable/.test(id)).length).toBeGreaterThan(0);
    expect(ownIds.filter((id) => /^SigningKeys/.test(id)).length).toBeGreaterThan(0);
    for (const fn of Object.values(executors)) {
      const allowed = allowedActions(template, roleOf(fn!));
      const reached = allowed.map((pair) => pair.resource).join('\n');
      // THEN nothing of Maestro's own, and nothing of lambda, ssm or cloudwatch, which the stack manages but the pack does not declare
      for (const id of ownIds) expect(reached.includes(`"${id}"`), `${roleOf(fn!)} reaches ${id}`).toBe(false);
      expect(allowed.filter(({ action }) => /^(lambda|ssm|cloudwatch|states|events|sqs):/.test(action))).toEqual([]);
      expect(envOf(fn!)).not.toHaveProperty('MAESTRO_STATE_TABLE');
      expect(envOf(fn!)).not.toHaveProperty('MAESTRO_ARTIFACT_BUCKET');
    }
    // (while the built-in write executor does hold the deploy kinds: the negative above is not vacuous)
    expect(allowedActions(template, roleOf(stack.runWorkflow.executors.ExecuteWrite)).some(({ action }) => action === 'lambda:UpdateAlias')).toBe(true);
  });

  it('grants a pack whose actions declare one kind that kind only', () => {
    // GIVEN a copy of the example pack that keeps only its DynamoDB action, pinned (inside packs/, so its imports resolve)
    const dir = mkdtempSync(join(import.meta.dirname, '../../packs/.test-one-kind-'));
    try {
      cpSync(join(import.meta.dirname, '../../packs/example'), dir, { recursive: true });
      const index = join(dir, 'index.ts');
      writeFileSync(index, readFileSync(index, 'utf8').replace('actions: [s3PutJson, dynamodbCounter]', 'actions: [dynamodbCounter]'));
      const pin = { ...examplePin, module: dir, sha256: hashPack(dir) };
      // WHEN the stack deploys it
      const { stack: other, template: otherTemplate } = synthMaestro({ managedTargets, packs: [pin] });
      const fns = other.runWorkflow.packExecutors.example!;
      // THEN its executors reach the tables and their key, and no bucket
      for (const fn of [fns.read!, fns.write!]) {
        const allowed = allowedActions(otherTemplate, logicalId(fn.role as never));
        expect(allowed.filter(({ action }) => action.startsWith('s3:'))).toEqual([]);
        expect(new Set(allowed.map((pair) => pair.resource))).toEqual(
          new Set([
            text({ 'Fn::GetAtt': [logicalId(other.managedTargets.table), 'Arn'] }),
            text({ 'Fn::GetAtt': [logicalId(other.managedTargets.encryptionKey), 'Arn'] }),
            '"*"',
          ]),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses at synth to grant a kind ManagedTargets does not know', () => {
    expect(() => stack.managedTargets.grantKinds(executors.write!, ['url'], 'write')).toThrow(/no grants for the resource kinds \["url"\]/);
  });

  it("bundles the pack into its executors only: the built-ins' executors and the functions outside the run know no pack", () => {
    expect(JSON.parse(envOf(executors.read!).MAESTRO_PACKS as string)).toEqual([examplePin]);
    expect(JSON.parse(envOf(executors.write!).MAESTRO_PACKS as string)).toEqual([examplePin]);
    for (const name of Object.keys(TASK_EXECUTORS) as (keyof typeof TASK_EXECUTORS)[]) {
      expect(envOf(stack.runWorkflow.executors[name]).MAESTRO_PACKS, name).toBe('[]');
    }
    expect(JSON.parse(envOf(stack.api.handler).MAESTRO_PACKS as string)).toEqual([examplePin]);
  });

  it('routes the steps that run actions to the pack executors (MAESTRO_PACK_EXECUTORS) and lets them invoke those only', () => {
    for (const [name, step] of Object.entries(RUN_STEPS)) {
      const fn = stack.runWorkflow.functions[name as keyof typeof RUN_STEPS];
      const env = envOf(fn);
      expect(JSON.parse(env.MAESTRO_PACKS as string), name).toEqual([examplePin]);
      if (step.executors.length === 0) {
        expect(env, name).not.toHaveProperty('MAESTRO_PACK_EXECUTORS');
        continue;
      }
      const mapping = text(env.MAESTRO_PACK_EXECUTORS);
      expect(mapping, name).toContain(logicalId(executors.read!));
      expect(mapping, name).toContain(logicalId(executors.write!));
      const invokable = allowedActions(template, roleOf(fn))
        .filter(({ action }) => action === 'lambda:InvokeFunction')
        .map(({ resource }) => resource);
      const classes = step.executors.map((executor) => TASK_EXECUTORS[executor].executorClass);
      for (const cls of ['read', 'write'] as const) {
        expect(
          invokable.some((resource) => resource.includes(logicalId(executors[cls]!))),
          `${name} invokes the pack's ${cls} executor`,
        ).toBe(classes.includes(cls));
      }
    }
  });

  it('refuses to synthesize a pack whose content does not match its pin, naming both hashes', () => {
    // GIVEN a copy of the example pack with one file changed after pinning
    const dir = mkdtempSync(join(tmpdir(), 'maestro-pack-'));
    cpSync(join(import.meta.dirname, '../../packs/example'), dir, { recursive: true });
    const pinned = hashPack(dir);
    writeFileSync(join(dir, 'README.md'), 'changed after pinning\n', { flag: 'a' });
    // THEN the synth fails
    expect(() => synthMaestro({ packs: [{ ...examplePin, module: dir, sha256: pinned }] })).toThrow(
      new RegExp(`pack example \\(${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\) hashes to ${hashPack(dir)}, but the configuration pins ${pinned}`),
    );
  });
});
