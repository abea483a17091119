import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument } from '../../functions/handlers/api/openapi.ts';

const pointer = (...parts: string[]) => parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

/**
 * Validates recorded API answers against the OpenAPI document (JSON Schema 2020-12, as OpenAPI 3.1):
 * `check(operationId, status, body)` returns the validation errors, `[]` when the answer conforms.
 */
export function openApiValidator() {
  const document = buildOpenApiDocument();
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (addFormats as unknown as (ajv: Ajv2020) => void)(ajv);
  ajv.addSchema({ ...document, $id: 'maestro-openapi' });
  const where = new Map<string, { path: string; method: string; responses: Record<string, { $ref?: string }> }>();
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      where.set(operation.operationId as string, { path, method, responses: operation.responses as Record<string, { $ref?: string }> });
    }
  }
  return (operationId: string, status: number, body: unknown): string[] => {
    const found = where.get(operationId);
    if (!found) return [`no operation ${operationId} in the document`];
    const answer = found.responses[String(status)];
    if (!answer) return [`${operationId} documents no ${status} answer (it has ${Object.keys(found.responses).join(', ')})`];
    const base = answer.$ref ? answer.$ref.slice(2) : pointer('paths', found.path, found.method, 'responses', String(status));
    const validate = ajv.compile({ $ref: `maestro-openapi#/${base}/${pointer('content', 'application/json', 'schema')}` });
    return validate(body) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message} ${JSON.stringify(error.params)}`);
  };
}
