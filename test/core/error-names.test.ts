import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as errors from '../../functions/core/errors.ts';
import type { MaestroError } from '../../functions/core/errors.ts';
import { STATUS_FOR_ERROR } from '../../functions/core/runs/finalize-run.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** Every MaestroError class errors.ts exports, by its export name. */
const errorClasses = (module: Record<string, unknown>) =>
  Object.entries(module).filter(
    (entry): entry is [string, new (message: string) => MaestroError] =>
      typeof entry[1] === 'function' && entry[1].prototype instanceof (module.MaestroError as typeof MaestroError),
  );
const CLASS_NAMES = new Set(errorClasses(errors).map(([name]) => name));

/** AWS's own error names, which no Maestro class stands for. */
const isAwsName = (name: string) => name.startsWith('States.') || name.startsWith('Lambda.');

function errorEquals(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) errorEquals(item, found);
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'ErrorEquals' && Array.isArray(child)) found.push(...child);
      else errorEquals(child, found);
    }
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('error names are literals, and every name the system matches on is one of them', () => {
  it('gives every class a name equal to its own class name, and the same code', () => {
    expect(CLASS_NAMES.size).toBeGreaterThan(40);
    for (const [exportName, ErrorClass] of errorClasses(errors)) {
      const error = new ErrorClass('x');
      expect(error.name, `${exportName}'s literal name`).toBe(exportName);
      expect(error.code, `${exportName}'s code`).toBe(exportName);
      expect(error).toBeInstanceOf(Error);
    }
  });

  it('writes each name as a literal in the class body (a minifier renames classes, never strings)', () => {
    const source = readFileSync(join(ROOT, 'functions/core/errors.ts'), 'utf8');
    expect(source).not.toMatch(/new\.target|constructor\.name|this\.constructor/);
    const declared = [...source.matchAll(/export class (\w+) extends MaestroError \{\n {2}override readonly name = '(\w+)';/g)];
    expect(declared.map(([, className]) => className).sort()).toEqual([...CLASS_NAMES].sort());
    for (const [, className, literal] of declared) expect(literal, className).toBe(className);
  });

  it('keeps every name through a minified bundle, even without keepNames', async () => {
    const out = mkdtempSync(join(tmpdir(), 'maestro-error-names-'));
    const result = await build({
      entryPoints: [join(ROOT, 'functions/core/errors.ts')],
      bundle: true,
      minify: true,
      keepNames: false,
      format: 'esm',
      target: 'node24',
      platform: 'node',
      write: false,
    });
    const file = join(out, 'errors.mjs');
    writeFileSync(file, result.outputFiles[0].text);
    const bundled = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const classes = errorClasses(bundled);
    expect(classes.map(([name]) => name).sort()).toEqual([...CLASS_NAMES].sort());
    // The minifier did rename the classes: only the literals carry the names through.
    expect(classes.filter(([exportName, ErrorClass]) => ErrorClass.name !== exportName).length).toBeGreaterThan(0);
    for (const [exportName, ErrorClass] of classes) expect(new ErrorClass('x').name, exportName).toBe(exportName);
  });

  it('matches on class names only in the workflows: every ErrorEquals is States.*, Lambda.* or a class', () => {
    const files = readdirSync(join(ROOT, 'statemachines')).filter((file) => file.endsWith('.asl.json'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    const names = files.flatMap((file) => errorEquals(JSON.parse(readFileSync(join(ROOT, 'statemachines', file), 'utf8'))));
    expect(names).toContain('TransientError');
    const unknown = [...new Set(names)].filter((name) => !isAwsName(name) && !CLASS_NAMES.has(name));
    expect(unknown).toEqual([]);
  });

  it("maps only class names (or States.*) to a run's final status", () => {
    const keys = STATUS_FOR_ERROR instanceof Map ? [...STATUS_FOR_ERROR.keys()] : Object.keys(STATUS_FOR_ERROR);
    expect(keys).toContain('PolicyDenied');
    expect(keys.filter((name) => !isAwsName(name) && !CLASS_NAMES.has(name))).toEqual([]);
  });

  it('answers the API with class names only: every literal code in functions/ is a class', () => {
    // Codes from thrown errors are their names (above); these are the ones written out by hand.
    const literals = sourceFiles(join(ROOT, 'functions')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\bcode: '([A-Z]\w*)'/g)].map(([, code]) => ({ file: file.slice(ROOT.length + 1), code })),
    );
    expect(literals.map(({ code }) => code)).toContain('InternalError');
    expect(literals.filter(({ code }) => !CLASS_NAMES.has(code))).toEqual([]);
  });
});
