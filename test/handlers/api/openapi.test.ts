import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { httpErrors } from '../../../functions/core/http-errors.ts';
import { CreateRunRequest } from '../../../functions/core/runs/create-run.ts';
import { buildOpenApiDocument } from '../../../functions/handlers/api/openapi.ts';
import { apiRoutes } from '../../../functions/handlers/api/routes.ts';
import { KillSwitchBody } from '../../../functions/handlers/api/safety-operations.ts';
import { OPENAPI_FILE } from '../../../scripts/api-reference.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../../..');
const document = buildOpenApiDocument();
const operationsOf = (doc: any) =>
  Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods as object).map(([method, op]) => ({ path, method, op })));

describe('the OpenAPI document', () => {
  it('has every route of the router, and nothing else', () => {
    const documented = operationsOf(document).map(({ path, method, op }) => `${method.toUpperCase()} ${path} ${op.operationId}`);
    const routed = apiRoutes.map((route) => `${route.method} ${route.resource} ${route.operation}`);
    expect(documented.sort()).toEqual(routed.sort());
  });

  it("takes each request body from the handler's own zod schema (one source)", () => {
    const paths = document.paths as any;
    const created = paths['/runs'].post.requestBody.content['application/json'].schema;
    expect(created.required.sort()).toEqual(['goal', 'mode', 'tasks']);
    expect(created.properties.tasks.maxItems).toBe(25);
    expect(Object.keys(created.properties).sort()).toEqual(Object.keys(CreateRunRequest.shape).sort());
    const killSwitch = paths['/control/kill-switch'].post.requestBody.content['application/json'].schema;
    expect(killSwitch.properties.reason.minLength).toBe(10);
    expect(Object.keys(killSwitch.properties).sort()).toEqual(Object.keys(KillSwitchBody.shape).sort());
    expect(killSwitch.additionalProperties).toBe(false);
  });

  it('documents path, query and header parameters', () => {
    const byId = new Map(operationsOf(document).map(({ op }) => [op.operationId, op]));
    const names = (id: string) =>
      byId
        .get(id)
        .parameters.filter((p: any) => p.name)
        .map((p: any) => `${p.in}:${p.name}:${p.required}`);
    expect(names('listRunEvents')).toEqual(['path:id:true', 'query:afterSeq:false', 'query:limit:false']);
    expect(names('createRun')).toEqual(['header:Idempotency-Key:false']);
    expect(names('drStatusEvents')).toEqual(['path:id:true', 'query:afterSeq:false', 'query:waitSeconds:false', 'header:Last-Event-ID:false']);
  });

  it('gives every operation an error answer, with the codes of its status from the HTTP error table', () => {
    const responses = (document.components as any).responses;
    for (const { op } of operationsOf(document))
      expect(
        Object.keys(op.responses).some((status) => status >= '400'),
        op.operationId,
      ).toBe(true);
    const conflictCodes = responses.Error409.content['application/json'].schema.allOf[1].properties.error.properties.code.enum;
    expect(conflictCodes).toContain('RunAlreadyFinished');
    expect(conflictCodes).toEqual([...httpErrors()].filter(([, rule]) => rule.status === 409).map(([code]) => code));
    expect(responses.Error500.content['application/json'].schema.allOf[1].properties.error.properties.code.enum).toEqual(['InternalError']);
  });

  it('passes @redocly/cli lint with no errors (offline)', async () => {
    const { stdout } = await run(process.execPath, [join(ROOT, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', OPENAPI_FILE, '--format=json'], {
      cwd: ROOT,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    }).catch((error: { stdout: string; stderr: string }) => {
      throw new Error(`redocly lint failed: ${error.stdout}\n${error.stderr}`);
    });
    const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; severity: string; message: string }[] };
    expect(report.problems.filter((problem) => problem.severity === 'error')).toEqual([]);
    expect(report.totals.errors).toBe(0);
  });
});
