import * as z from 'zod';

/** Semantic Versioning 2.0.0 (semver.org's own expression). */
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
export const isSemver = (value: unknown): value is string => typeof value === 'string' && value.length <= 256 && SEMVER.test(value);

/** A pack's name: also the namespace of its actions (`example` → `example.s3-put-json`). */
export const PACK_NAME = /^[a-z][a-z0-9-]{0,63}$/;

/** The name the built-in actions go by; no configured pack may take it. */
export const RESERVED_PACK_NAMES: ReadonlySet<string> = new Set(['builtin', 'maestro']);

/**
 * A module given as a path (`packs/example`, `./packs/x`, `/abs/dir`): relative to the configuration
 * file's directory. Anything else (`my-pack`, `@team/pack`) is an npm package name, resolved from there.
 */
export const isPathModule = (module: string) => !module.startsWith('@') && (module.startsWith('.') || module.startsWith('/') || module.includes('/'));

const PackEntry = z.strictObject({
  name: z
    .string()
    .regex(PACK_NAME, 'must be lowercase letters, digits and hyphens, starting with a letter (the namespace of its actions)')
    .refine((name) => !RESERVED_PACK_NAMES.has(name), 'is reserved for Maestro')
    .describe("The pack's name, which its module must declare; its actions are named `<name>.<verb>`."),
  module: z
    .string()
    .min(1, 'must be a folder (relative to this file) or an npm package name')
    .describe('A folder relative to the configuration file (`packs/example`; loaded with it made absolute), or an installed npm package name.'),
  version: z
    .string()
    .refine(isSemver, 'must be a semantic version (1.2.3), the same the pack declares')
    .describe('The semantic version the pack must declare.'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be the pack's SHA-256, 64 lowercase hex digits (npm run packs:hash -- <module> prints it)"),
});

/**
 * The action packs to load, each pinned like a lockfile entry: start-up refuses a pack whose module
 * declares another version, whose content hashes to anything but `sha256`, or any of whose actions
 * breaks the contract (docs/packs.md).
 */
export const Packs = z
  .array(PackEntry)
  .superRefine((packs, ctx) => {
    const seen = new Map<string, number>();
    packs.forEach((pack, index) => {
      const first = seen.get(pack.name);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `"${pack.name}" is already packs[${first}]` });
      else seen.set(pack.name, index);
    });
  })
  .default([])
  .describe(
    'Action packs, each `{name, module, version, sha256}`: `module` is a folder relative to this file (`packs/example`) or an npm package name; `sha256` pins its content (`npm run packs:hash -- <module>`). Default: none (docs/packs.md).',
  );
export type Packs = z.infer<typeof Packs>;
export type PackEntry = Packs[number];
