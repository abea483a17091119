import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as z from 'zod';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { RouteNotFound } from '../../core/errors.ts';
import type { Config } from '../../core/config/schema.ts';
import { json } from './http.ts';

/**
 * The web console's files (`npm run console:build` writes them to `console/dist/`): one page, one
 * script, one style sheet, and `config.json` telling the page where to sign in. Served from the API's
 * own origin, so the page calls the API without CORS. The folder is looked up relative to the working
 * directory, like `policies/`: the repository root locally, the bundle's folder in Lambda.
 */
export const CONSOLE_DIR = 'console/dist';
/** The OAuth client the console signs in as (a public client: authorization code + PKCE). */
export const CONSOLE_CLIENT_ID = 'maestro-console';

const FILES: ReadonlyMap<string, { file: string; type: string }> = new Map([
  ['', { file: 'index.html', type: 'text/html; charset=utf-8' }],
  // Where the issuer sends the browser back with the code: the same page, which finishes the sign-in.
  ['callback', { file: 'index.html', type: 'text/html; charset=utf-8' }],
  ['app.js', { file: 'app.js', type: 'text/javascript; charset=utf-8' }],
  ['app.css', { file: 'app.css', type: 'text/css; charset=utf-8' }],
]);

export const ConsoleAssetPath = z.strictObject({ asset: z.enum(['callback', 'app.js', 'app.css', 'config.json']).describe('a file of the console') });

/** Read on each request (a few tens of kB): a rebuilt console shows without restarting the API. */
function readAsset(file: string): string {
  const path = join(resolve(CONSOLE_DIR), file);
  if (!existsSync(path)) throw new RouteNotFound(`the console is not built (${CONSOLE_DIR}/${file} is missing): run npm run console:build`);
  return readFileSync(path, 'utf8');
}

/**
 * No inline script or style anywhere: scripts and styles come from this origin only, and the page may
 * talk to this API and to the issuer (discovery and the token endpoint), nothing else.
 */
export function consoleSecurityPolicy(issuer: string | undefined): string {
  const issuerOrigin = issuer ? ` ${new URL(issuer).origin}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src 'self'${issuerOrigin}`,
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** What the page needs to sign in (nothing secret: the console is a public client). */
export function consoleSettings(identity: Config['identity']): Record<string, unknown> {
  const oidc = identity.oidc;
  if (!oidc) return { signIn: null };
  const audiences = Array.isArray(oidc.audience) ? oidc.audience : [oidc.audience];
  // An audience that is an absolute URI and not the console's own id is the API as a resource (RFC 8707).
  const resource = audiences.find((audience) => audience !== CONSOLE_CLIENT_ID && /^[a-z][a-z0-9+.-]*:/i.test(audience));
  return { signIn: { issuer: oidc.issuer, clientId: CONSOLE_CLIENT_ID, scope: 'openid email groups', resource } };
}

/** GET /console and GET /console/{asset}. */
export function consoleResponse(event: APIGatewayProxyEvent, identity: Config['identity']): APIGatewayProxyResult {
  const name = event.pathParameters?.asset ?? '';
  const headers = {
    'content-security-policy': consoleSecurityPolicy(identity.oidc?.issuer),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'cache-control': 'no-cache',
  };
  if (name === 'config.json') return json(200, consoleSettings(identity), { ...headers, 'cache-control': 'no-store' });
  const asset = FILES.get(name);
  if (!asset) throw new RouteNotFound(`the console has no file ${name}`, { field: 'asset' });
  return { statusCode: 200, headers: { ...headers, 'content-type': asset.type }, body: readAsset(asset.file) };
}
