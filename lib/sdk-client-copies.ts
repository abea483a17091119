import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectPath } from './project-paths.ts';

/**
 * The AWS SDK clients as a bundle carries them: each `@aws-sdk/client-*` is aliased to a copy of its
 * `dist-es` under `.maestro/sdk/` (written at synth, ignored by git) whose `schemas/schemas_0.js`
 * spells its computed keys out: `{ [_h]: ["PUT", "/?policy", 200] }`, where `const _h = "http"`,
 * becomes `{ "http": ["PUT", "/?policy", 200] }`. Same objects; but esbuild treats a computed key as a
 * possible side effect, so it kept the schema of every operation of every client a bundle imports,
 * used or not (S3's 67 KiB of schemas in a run step, 18 KiB without the unused ones; Lambda's 47 → 8).
 */
const COPIES_DIR = '.maestro/sdk';
/** Bumped when the rewrite changes, so that the copies are made again. */
const REWRITE_VERSION = 1;

/** `[_x]:` → `"value":` for every `const _x = "value";` of the file (plain literals only). */
export function spellOutSchemaKeys(text: string): string {
  const constants = new Map([...text.matchAll(/^const (_\w+) = ("[^"\\]*");$/gm)].map((match) => [match[1], match[2]]));
  return text.replace(/\[(_\w+)\]:/g, (key, name: string) => (constants.has(name) ? `${constants.get(name)}:` : key));
}

const stampOf = (target: string): string | undefined =>
  existsSync(join(target, 'maestro-stamp')) ? readFileSync(join(target, 'maestro-stamp'), 'utf8') : undefined;

/** Makes the copy of one client (into a temporary folder renamed into place: synths may run side by side). */
function copyClient(name: string, source: string, target: string, stamp: string): void {
  const temporary = `${target}.${process.pid}`;
  rmSync(temporary, { recursive: true, force: true });
  cpSync(join(source, 'dist-es'), join(temporary, 'dist-es'), { recursive: true });
  cpSync(join(source, 'package.json'), join(temporary, 'package.json'));
  const schemas = join(temporary, 'dist-es/schemas/schemas_0.js');
  writeFileSync(schemas, spellOutSchemaKeys(readFileSync(schemas, 'utf8')));
  writeFileSync(join(temporary, 'maestro-stamp'), stamp);
  // Another synth may have put the same copy in place meanwhile (and be bundling from it): never remove that one.
  if (stampOf(target) === stamp) {
    rmSync(temporary, { recursive: true, force: true });
    return;
  }
  rmSync(target, { recursive: true, force: true });
  try {
    renameSync(temporary, target);
  } catch (error) {
    // Another synth renamed its identical copy first.
    rmSync(temporary, { recursive: true, force: true });
    if (stampOf(target) !== stamp) throw new Error(`cannot write the SDK copy of ${name}: ${(error as Error).message}`);
  }
}

/**
 * esbuild `--alias` values (`from=to`, relative to the project root) sending each installed
 * `@aws-sdk/client-*` with generated schemas to its copy, made or refreshed (on a version change) first.
 */
export function sdkClientAliases(): string[] {
  const scope = projectPath('node_modules/@aws-sdk');
  const aliases: string[] = [];
  for (const name of readdirSync(scope).filter((entry) => entry.startsWith('client-'))) {
    const source = join(scope, name);
    if (!existsSync(join(source, 'dist-es/schemas/schemas_0.js'))) continue;
    const { version } = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as { version: string };
    const stamp = `${version} ${REWRITE_VERSION}`;
    const target = projectPath(`${COPIES_DIR}/${name}`);
    if (stampOf(target) !== stamp) copyClient(name, source, target, stamp);
    aliases.push(`@aws-sdk/${name}=./${COPIES_DIR}/${name}`);
  }
  return aliases;
}
