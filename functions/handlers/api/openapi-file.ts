import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { builtOnce } from '../../core/built-once.ts';

/**
 * The contract as a file: `openapi.json` beside the bundle (lib/maestro-api.ts copies docs/openapi.json
 * there), or docs/openapi.json from the sources. test/docs/api.test.ts keeps that file equal to
 * buildOpenApiDocument(), so the function serves the document without bundling the code (and the JSON
 * Schema conversion) that builds it. Read at the first GET /openapi.json, then kept.
 */
export const openApiText = /* @__PURE__ */ builtOnce((): string => {
  const candidates = [new URL('./openapi.json', import.meta.url), new URL('../../../docs/openapi.json', import.meta.url)].map((url) => fileURLToPath(url));
  const file = candidates.find((candidate) => existsSync(candidate));
  if (!file) throw new Error(`the OpenAPI document is not where it is served from (${candidates.join(' or ')}): run npm run docs:api`);
  return readFileSync(file, 'utf8');
});
