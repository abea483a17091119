import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAESTRO_VERSION } from '../../functions/core/actions/catalog.ts';
import { Packs } from '../../functions/core/config/packs.ts';
import { loadConfig } from '../../functions/handlers/shared/config.ts';
import { createDeps } from '../../functions/handlers/shared/deps.ts';
import { hashPack } from '../../functions/packs/content-hash.ts';
import { catalogOfPacks, loadCatalog } from '../../functions/packs/loader.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PACK_API = join(ROOT, 'functions/core/actions/pack-api.ts');
// Under the repository (gitignored), so that a fixture pack resolves `zod` from the root node_modules as a pack in the tree does.
const FIXTURES = join(ROOT, '.maestro', 'pack-fixtures');
mkdirSync(FIXTURES, { recursive: true });
/** The repository's configuration without its packs: the guardrails a configuration file must have. */
const GUARDRAILS = readFileSync(join(ROOT, 'maestro.config.yaml'), 'utf8').split(/^packs:/m)[0];

/** A fresh copy of the example pack (two levels under the root, as packs/example, so its imports of Maestro resolve), with its pin. */
function examplePackCopy() {
  const dir = mkdtempSync(join(ROOT, '.maestro', 'example-pack-'));
  cpSync(join(ROOT, 'packs/example'), dir, { recursive: true });
  return { dir, pin: { name: 'example', module: dir, version: '1.0.0', sha256: hashPack(dir) } };
}

/** One action's source, valid unless `patch` (TypeScript source of the action's fields) says otherwise. */
function actionSource(name: string, patch = '') {
  return `{
    name: '${name}', version: '1.0.0', description: 'fixture',
    safety: { category: 'WRITE', requiresApproval: false, budgets: { timeMs: 1000, network: 'internal' } },
    schema: z.strictObject({ bucket: z.string(), key: z.string() }),
    resources: (p) => [{ uri: 's3://' + p.bucket + '/' + p.key, access: 'write' }],
    examples: [{ description: 'one', params: { bucket: 'maestro-demo', key: 'k' } }],
    plan: async () => ({ summary: '', change: 'none', resource: '', diff: '', preconditions: {}, data: {} }),
    apply: async () => ({}), verify: async () => {}, rollback: async () => {},
    ${patch}
  }`;
}

/** A fixture pack folder: `index.ts` exporting `pack` with these actions (sources), pinned as it is. */
function fixturePack(name: string, actions: string[], version = '1.0.0') {
  const dir = mkdtempSync(join(FIXTURES, `${name}-`));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `fixture-${name}`, version, type: 'module', main: 'index.ts' }));
  writeFileSync(
    join(dir, 'index.ts'),
    `import { z } from 'zod';\nimport { definePack } from ${JSON.stringify(PACK_API)};\nexport const pack = definePack({ name: '${name}', version: '${version}', actions: [${actions.join(',\n')}] });\n`,
  );
  return { dir, pin: { name, module: dir, version, sha256: hashPack(dir) } };
}

const refusal = (load: () => unknown) => {
  try {
    load();
  } catch (error) {
    return error as Error & { field?: string; details?: Record<string, unknown> };
  }
  throw new Error('expected the pack to be refused');
};

describe('pinning: a pack loads only with the content it was pinned to', () => {
  it('loads the pinned example pack: each action carries the pack, its version and its hash', () => {
    const { pin } = examplePackCopy();
    const catalog = catalogOfPacks([pin]);
    expect(catalog.packOf('example.s3-put-json')).toStrictEqual({ name: 'example', version: '1.0.0', sha256: pin.sha256 });
    expect(catalog.packOf('example.dynamodb-counter').sha256).toBe(pin.sha256);
    expect(catalog.packOf('s3.put-object')).toStrictEqual({ name: 'builtin', version: '0.1.0', sha256: null });
  });

  it('refuses start-up when a file changed after pinning, naming the pack and both hashes', () => {
    const { dir, pin } = examplePackCopy();
    writeFileSync(join(dir, 'actions/s3-put-json.ts'), '\n// an edit after pinning\n', { flag: 'a' });
    const changed = hashPack(dir);
    expect(changed).not.toBe(pin.sha256);
    const error = refusal(() => catalogOfPacks([pin]));
    expect(error.name).toBe('PackIntegrityError');
    expect(error.message).toContain('pack example');
    expect(error.message).toContain(pin.sha256);
    expect(error.message).toContain(changed);
    expect(error.field).toBe('packs[0].sha256');
  });

  it('refuses a file added after pinning too (the hash covers every file and its path)', () => {
    const { dir, pin } = examplePackCopy();
    writeFileSync(join(dir, 'extra.ts'), 'export {};\n');
    expect(refusal(() => catalogOfPacks([pin])).name).toBe('PackIntegrityError');
  });

  it('refuses start-up through the composition root: the configuration file pins a changed pack', () => {
    const { dir, pin } = examplePackCopy();
    writeFileSync(join(dir, 'README.md'), 'changed\n', { flag: 'a' });
    const file = join(dir, '..', `${pin.sha256.slice(0, 8)}.config.yaml`);
    writeFileSync(file, `${GUARDRAILS}packs:\n  - name: example\n    module: ${dir}\n    version: 1.0.0\n    sha256: ${pin.sha256}\n`);
    const config = loadConfig({ MAESTRO_CONFIG_FILE: file, MAESTRO_STATE_TABLE: 'maestro-state-unused', MAESTRO_POLICY_DIR: join(ROOT, 'policies') });
    expect(() => createDeps(config)).toThrow(/PackIntegrityError|pack example .* hashes to [0-9a-f]{64}, but the configuration pins [0-9a-f]{64}/);
  });

  it("resolves a folder module from the configuration file's directory", () => {
    const { dir, pin } = examplePackCopy();
    const file = join(dir, '..', `${pin.sha256.slice(0, 8)}-relative.config.yaml`);
    writeFileSync(file, `${GUARDRAILS}packs:\n  - name: example\n    module: ${dir.split('/').at(-1)}/\n    version: 1.0.0\n    sha256: ${pin.sha256}\n`);
    const config = loadConfig({ MAESTRO_CONFIG_FILE: file, MAESTRO_STATE_TABLE: 'maestro-state-unused' });
    expect(config.packs[0]!.module).toBe(`${dir}`);
    expect(loadCatalog(config).packOf('example.dynamodb-counter').sha256).toBe(pin.sha256);
  });
});

describe('validation: start-up refuses a pack that breaks the contract, naming the field', () => {
  it('a pack version other than the pinned one', () => {
    const { pin } = fixturePack('acme', [actionSource('acme.put')], '1.1.0');
    const error = refusal(() => catalogOfPacks([{ ...pin, version: '1.0.0' }]));
    expect(error.name).toBe('PackInvalid');
    expect(error.field).toBe('packs[0].version');
    expect(error.message).toContain('declares 1.1.0, the configuration pins 1.0.0');
  });

  it('an action version that is not semver', () => {
    const { pin } = fixturePack('acme', [actionSource('acme.put', "version: 'v1',")]);
    const error = refusal(() => catalogOfPacks([pin]));
    expect(error.field).toBe('packs[0].actions[0].version');
  });

  it('a duplicate name: twice in one pack, or a name another pack already has', () => {
    const twice = fixturePack('acme', [actionSource('acme.put'), actionSource('acme.put')]);
    expect(refusal(() => catalogOfPacks([twice.pin])).field).toBe('packs[0].actions[1].name');
    const first = fixturePack('acme', [actionSource('acme.put')]);
    const error = refusal(() => catalogOfPacks([first.pin, { ...first.pin }]));
    expect(error.field).toBe('packs[1].actions[0].name');
    expect(error.message).toContain('already registered by pack acme');
  });

  it("a name outside the pack's namespace, or a built-in's name", () => {
    expect(refusal(() => catalogOfPacks([fixturePack('acme', [actionSource('s3.put-object')]).pin])).field).toBe('packs[0].actions[0].name');
    expect(refusal(() => catalogOfPacks([fixturePack('acme', [actionSource('other.put')]).pin])).message).toContain('must be "acme.<verb>"');
  });

  it('a bad category', () => {
    const source = actionSource('acme.put', "safety: { category: 'DESTROY', requiresApproval: false, budgets: { timeMs: 1000, network: 'internal' } },");
    const error = refusal(() => catalogOfPacks([fixturePack('acme', [source]).pin]));
    expect(error.field).toBe('packs[0].actions[0].safety.category');
    expect(error.message).toContain('"DESTROY" must be one of READ, WRITE, DEPLOY, ROLLBACK');
  });

  it('a budget out of range', () => {
    const source = actionSource('acme.put', "safety: { category: 'WRITE', requiresApproval: false, budgets: { timeMs: 3600000, network: 'internal' } },");
    expect(refusal(() => catalogOfPacks([fixturePack('acme', [source]).pin])).field).toBe('packs[0].actions[0].safety.budgets.timeMs');
  });

  it('an example that does not parse with the schema', () => {
    const source = actionSource('acme.put', "examples: [{ description: 'bad', params: { bucket: 'maestro-demo', key: 7 } }],");
    const error = refusal(() => catalogOfPacks([fixturePack('acme', [source]).pin]));
    expect(error.field).toBe('packs[0].actions[0].examples[0].params.key');
  });

  it('no schema, or resources of a kind no environment can manage', () => {
    expect(refusal(() => catalogOfPacks([fixturePack('acme', [actionSource('acme.put', 'schema: undefined,')]).pin])).field).toBe('packs[0].actions[0].schema');
    const own = actionSource('acme.put', "resources: () => [{ uri: 'dr-restore://job-1', access: 'write' }],");
    const error = refusal(() => catalogOfPacks([fixturePack('acme', [own]).pin]));
    expect(error.field).toBe('packs[0].actions[0].examples[0].resources');
    expect(error.message).toContain('kind "dr-restore"');
  });

  it('what only built-ins may do: run in the control plane, skip the sandbox', () => {
    expect(refusal(() => catalogOfPacks([fixturePack('acme', [actionSource('acme.put', 'runsInControlPlane: true,')]).pin])).field).toBe(
      'packs[0].actions[0].runsInControlPlane',
    );
    expect(refusal(() => catalogOfPacks([fixturePack('acme', [actionSource('acme.put', 'confinesOwnRequests: true,')]).pin])).field).toBe(
      'packs[0].actions[0].confinesOwnRequests',
    );
  });

  it('the configuration entry itself: a hash that is not a SHA-256, a reserved or repeated name, naming the key', () => {
    const parse = (packs: unknown) => Packs.safeParse(packs);
    const entry = { name: 'acme', module: 'packs/acme', version: '1.0.0', sha256: 'a'.repeat(64) };
    expect(parse([entry]).success).toBe(true);
    expect(parse([{ ...entry, sha256: 'abc' }]).error?.issues[0]?.path).toStrictEqual([0, 'sha256']);
    expect(parse([{ ...entry, name: 'builtin' }]).error?.issues[0]?.path).toStrictEqual([0, 'name']);
    expect(parse([{ ...entry, version: 'latest' }]).error?.issues[0]?.path).toStrictEqual([0, 'version']);
    expect(parse([entry, entry]).error?.issues[0]?.path).toStrictEqual([1, 'name']);
  });
});

describe("the built-ins' provenance", () => {
  it("is pack builtin at Maestro's version (package.json's), with no content hash", () => {
    expect(MAESTRO_VERSION).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });
});

describe("the repository's own pin", () => {
  it('maestro.config.yaml pins packs/example at its current content (after an edit: npm run packs:hash -- packs/example)', () => {
    const config = loadConfig({ MAESTRO_CONFIG_FILE: join(ROOT, 'maestro.config.yaml'), MAESTRO_STATE_TABLE: 'maestro-state-unused' });
    const example = config.packs.find((pack) => pack.name === 'example');
    expect(example?.module).toBe(join(ROOT, 'packs/example'));
    expect(example?.sha256).toBe(hashPack(join(ROOT, 'packs/example')));
  });
});
