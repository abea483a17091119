import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Config, StateSection } from '../../functions/core/config/schema.ts';
import { ENVIRONMENT_VARIABLES } from '../../functions/core/config/environment-variables.ts';
import { REFERENCE_FILE, renderConfigReference } from '../../scripts/config-reference.ts';

describe('docs/configuration.md', () => {
  it('is what npm run docs:config generates from the schema (regenerate it when a key changes)', () => {
    expect(readFileSync(REFERENCE_FILE, 'utf8')).toBe(renderConfigReference());
  });

  it('would be stale after a key is added to the schema', () => {
    const extended = Config.extend({ state: StateSection.extend({ newKey: z.string().default('x').describe('A key nobody documented yet.') }) });
    expect(renderConfigReference(extended)).not.toBe(readFileSync(REFERENCE_FILE, 'utf8'));
    expect(renderConfigReference(extended)).toContain('`state.newKey`');
  });

  it('lists every key with a meaning, and every variable the loader reads', () => {
    const text = readFileSync(REFERENCE_FILE, 'utf8');
    for (const variable of ENVIRONMENT_VARIABLES) expect(text, variable.name).toContain(`| \`${variable.name}\` | \`${variable.key}\``);
    const keyRows = text.split('\n').filter((line) => /^\| `[a-zA-Z]/.test(line) && line.split('|').length === 7);
    const undocumented = keyRows.filter((line) => line.split('|')[5]!.trim() === '').map((line) => line.split('|')[1]!.trim());
    // Sections and top-level keys always say what they are; leaves of nested lists may rely on their parent's text.
    expect(undocumented.filter((key) => key.split('.').length <= 2 && !key.includes('['))).toStrictEqual([]);
  });
});
