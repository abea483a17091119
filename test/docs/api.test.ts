import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_REFERENCE_FILE, OPENAPI_FILE, renderApiReference, renderOpenApiFile } from '../../scripts/api-reference.ts';
import { buildOpenApiDocument } from '../../functions/handlers/api/openapi.ts';
import { apiRoutes } from '../../functions/handlers/api/routes.ts';

describe('docs/api-reference.md and docs/openapi.json', () => {
  it('are what npm run docs:api generates from the code (regenerate them when a route or schema changes)', () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(renderOpenApiFile());
    expect(readFileSync(API_REFERENCE_FILE, 'utf8')).toBe(renderApiReference());
  });

  it('would be stale after a route changes', () => {
    const document = buildOpenApiDocument();
    const { '/health': _gone, ...paths } = document.paths;
    expect(renderApiReference({ ...document, paths })).not.toBe(readFileSync(API_REFERENCE_FILE, 'utf8'));
  });

  it('has one row per route', () => {
    const rows = readFileSync(API_REFERENCE_FILE, 'utf8')
      .split('\n')
      .filter((line) => /^\| (GET|POST|PUT|DELETE|PATCH) \|/.test(line));
    expect(rows.length).toBe(apiRoutes.length);
  });
});
