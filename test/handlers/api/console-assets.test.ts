import type { APIGatewayProxyEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../../console/build.ts';
import { consoleResponse, consoleSecurityPolicy, consoleSettings } from '../../../functions/handlers/api/console-assets.ts';
import { IdentitySection } from '../../../functions/core/config/schema.ts';

const identity = IdentitySection.parse({
  authMode: 'dev-tokens',
  oidc: { issuer: 'http://127.0.0.1:4000', audience: ['urn:maestro:api', 'maestro-console'], groupRoles: { ops: 'operator' } },
});
const get = (asset?: string) => consoleResponse({ pathParameters: asset === undefined ? null : { asset } } as unknown as APIGatewayProxyEvent, identity);

beforeAll(async () => {
  await buildConsole();
});

describe('GET /console and its files', () => {
  it('serves the page with a strict policy: scripts and styles from this origin only, connections to it and the issuer', () => {
    const page = get();
    expect(page.statusCode).toBe(200);
    expect(page.headers!['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers!['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self' http://127.0.0.1:4000; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    expect(page.headers!['x-content-type-options']).toBe('nosniff');
    // No inline script: the page loads its one module from /console/app.js.
    expect(page.body).toContain('<script type="module" src="/console/app.js"></script>');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.body).not.toMatch(/\son[a-z]+=/i);
  });

  it('serves the callback as the same page, and the script and style sheet with their types', () => {
    expect(get('callback').body).toBe(get().body);
    expect(get('app.js').headers!['content-type']).toBe('text/javascript; charset=utf-8');
    expect(get('app.css').headers!['content-type']).toBe('text/css; charset=utf-8');
  });

  it('never builds markup from strings: the bundle has no innerHTML, outerHTML, insertAdjacentHTML, document.write or eval', () => {
    const script = get('app.js').body;
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function']) expect(script).not.toContain(sink);
  });

  it('tells the page where to sign in: the issuer, the public client, and the API as a resource', () => {
    expect(JSON.parse(get('config.json').body)).toEqual({
      signIn: { issuer: 'http://127.0.0.1:4000', clientId: 'maestro-console', scope: 'openid email groups', resource: 'urn:maestro:api' },
    });
    expect(consoleSettings(IdentitySection.parse({}))).toEqual({ signIn: null });
    expect(consoleSecurityPolicy(undefined)).toContain("connect-src 'self';");
  });

  it('answers 404 naming the field for any other file (no path is read from the request)', () => {
    for (const asset of ['../../../maestro.config.yaml', 'index.html', 'constructor', '__proto__']) {
      expect(() => get(asset)).toThrow(expect.objectContaining({ name: 'RouteNotFound', field: 'asset' }));
    }
  });
});
