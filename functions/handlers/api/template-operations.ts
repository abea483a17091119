import * as z from 'zod';
import { Role, requireRole } from '../../core/auth.ts';
import { TemplateName } from '../../core/templates/template-model.ts';
import type { TemplateVersion } from '../../core/templates/template-model.ts';
import { getTemplate, putTemplate, runFromTemplate } from '../../core/templates/template-runs.ts';
import { parseOrThrow } from '../../core/validation.ts';
import { headerValue } from './authenticate.ts';
import { json, readJsonBody } from './http.ts';
import { IdempotencyKeyHeader } from './operation-request.ts';
import type { OperationRequest } from './operation-request.ts';

export const TemplateNamePath = z.object({ name: TemplateName });
export const TemplateVersionQuery = z.strictObject({ version: z.coerce.number().int().min(1).optional() });
export const TemplateRunBody = z
  .strictObject({
    /** The template's parameters, typed by its parameter schemas. */
    params: z.record(z.string(), z.unknown()).default({}),
    /** A version of the template. @default the latest */
    version: z.number().int().min(1).optional(),
  })
  .default({ params: {} });

export const templateView = (template: TemplateVersion) => ({
  ...template.definition,
  version: template.version,
  digest: template.digest,
  createdBy: template.createdBy,
  createdAt: template.createdAt,
});

/** Run templates: list, read, record a version (audited), and instantiate a run. */
export const templateOperations = {
  async listTemplates({ deps }: OperationRequest) {
    return json(200, { templates: (await deps.templates.list()).map(templateView) });
  },

  async getTemplate({ event, deps }: OperationRequest) {
    const { name } = parseOrThrow(TemplateNamePath, event.pathParameters ?? {});
    const { version } = parseOrThrow(TemplateVersionQuery, event.queryStringParameters ?? {});
    const template = await getTemplate(deps, name, version);
    return json(200, { template: templateView(template), journal: (await deps.templates.listEvents(name)).slice(-20) });
  },

  /** A template defines what triggers run unattended: only an admin records one. */
  async putTemplate({ event, deps, principal, correlationId }: OperationRequest) {
    requireRole(principal, Role.admin);
    const result = await putTemplate(deps, { body: readJsonBody(event), actor: principal.id, correlationId });
    return json(result.created ? 201 : 200, { template: templateView(result.version), created: result.created });
  },

  async runTemplate({ event, deps, principal, correlationId }: OperationRequest) {
    requireRole(principal, Role.operator, Role.admin);
    const { name } = parseOrThrow(TemplateNamePath, event.pathParameters ?? {});
    const body = parseOrThrow(TemplateRunBody, readJsonBody(event));
    const idempotencyKey = parseOrThrow(IdempotencyKeyHeader, headerValue(event, 'idempotency-key'), 'Idempotency-Key');
    const result = await runFromTemplate(deps, { name, version: body.version, params: body.params, principal, correlationId, idempotencyKey });
    return json(
      result.created ? 201 : 200,
      {
        runId: result.runId,
        created: result.created,
        template: result.template,
        links: { self: `/runs/${result.runId}`, events: `/runs/${result.runId}/events`, cancel: `/runs/${result.runId}/cancel` },
      },
      { location: `/runs/${result.runId}` },
    );
  },
};
