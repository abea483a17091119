import { TemplateNotFound } from '../errors.ts';
import { createRun } from '../runs/create-run.ts';
import type { CreateRunResult } from '../runs/create-run.ts';
import type { RunDeps } from '../runs/deps.ts';
import type { Principal } from '../runs/model.ts';
import { instantiateTemplate, validateTemplate } from './instantiate-template.ts';
import type { TemplateStore, TemplateVersion } from './template-model.ts';

export interface TemplateDeps extends RunDeps {
  templates: TemplateStore;
}

/** Records a template (validated: placeholders, parameter schemas) as its next version; the same content again is no new version. */
export async function putTemplate(
  deps: Pick<TemplateDeps, 'templates' | 'clock'>,
  input: { body: unknown; actor: string; correlationId: string },
): Promise<{ version: TemplateVersion; created: boolean }> {
  const { definition, digest } = validateTemplate(input.body);
  return deps.templates.put({ definition, digest, actor: input.actor, correlationId: input.correlationId, now: deps.clock() });
}

export async function getTemplate(deps: Pick<TemplateDeps, 'templates'>, name: string, version?: number): Promise<TemplateVersion> {
  const found = await deps.templates.get(name, version);
  if (!found) throw new TemplateNotFound(`template ${name}${version === undefined ? '' : ` version ${version}`} does not exist`, { field: 'name' });
  return found;
}

/**
 * A run from a template version and parameters: the run request it makes goes through createRun,
 * the same admission path as POST /runs, and the run records the template's name and version.
 */
export async function runFromTemplate(
  deps: TemplateDeps,
  input: { name: string; version?: number; params: unknown; principal: Principal; correlationId: string; idempotencyKey?: string },
): Promise<CreateRunResult & { template: { name: string; version: number } }> {
  const template = await getTemplate(deps, input.name, input.version);
  const { body } = instantiateTemplate(template.definition, input.params);
  const origin = { template: { name: template.definition.name, version: template.version } };
  const result = await createRun(deps, {
    body,
    principal: input.principal,
    correlationId: input.correlationId,
    idempotencyKey: input.idempotencyKey,
    origin,
  });
  return { ...result, ...origin };
}
