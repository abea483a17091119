import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ValidationFailed } from '../../core/errors.ts';
import { putTemplate } from '../../core/templates/template-runs.ts';
import type { TemplateDeps } from '../../core/templates/template-runs.ts';

/** The actor a template from the folder is recorded by. */
export const TEMPLATES_FOLDER_ACTOR = 'templates-folder';

/**
 * Records every `<name>.yaml` of `dir` as a template (its file name must be its name): a file whose
 * content changed becomes the next version, audited like POST /templates; an unchanged one makes none.
 * A bad file refuses, naming the file and the field.
 */
export async function syncTemplatesFolder(
  deps: Pick<TemplateDeps, 'templates' | 'clock'>,
  dir: string,
  correlationId: string,
): Promise<{ name: string; version: number; created: boolean }[]> {
  if (!existsSync(dir)) return [];
  const synced: { name: string; version: number; created: boolean }[] = [];
  for (const file of readdirSync(dir)
    .filter((entry) => entry.endsWith('.yaml'))
    .sort()) {
    const body = parseYaml(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown> | null;
    const name = basename(file, '.yaml');
    if (!body || body.name !== name) throw new ValidationFailed(`templates/${file}: name must be ${name}, the file's name`, { field: 'name' });
    try {
      const result = await putTemplate(deps, { body, actor: TEMPLATES_FOLDER_ACTOR, correlationId });
      synced.push({ name, version: result.version.version, created: result.created });
    } catch (error) {
      if (error instanceof ValidationFailed) throw new ValidationFailed(`templates/${file}: ${error.message}`, { field: error.field, cause: error });
      throw error;
    }
  }
  return synced;
}

/** The `triggers` a maestro.config.yaml declares, as written (the CDK app turns them into schedules and rules; it validates them). */
export function declaredTriggers(configFile: string): unknown[] {
  const content = parseYaml(readFileSync(configFile, 'utf8')) as { triggers?: unknown } | null;
  return Array.isArray(content?.triggers) ? content.triggers : [];
}
