import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
const importsOf = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"](\.[^'"]+)['"]/gm)].map((match) =>
    relative(ROOT, resolve(dirname(file), match[1])),
  );

describe('the action contract lives in core', () => {
  it('no file of functions/core imports functions/actions (the built-ins depend on core, never the reverse)', () => {
    const offending = filesUnder(join(ROOT, 'functions/core')).flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith('functions/actions/'))
        .map((target) => `${relative(ROOT, file)} → ${target}`),
    );
    expect(offending).toEqual([]);
  });

  it('functions/core/actions depends on nothing outside core', () => {
    const outside = filesUnder(join(ROOT, 'functions/core/actions')).flatMap((file) =>
      importsOf(file).filter((target) => !target.startsWith('functions/core/')),
    );
    expect(outside).toEqual([]);
  });
});
