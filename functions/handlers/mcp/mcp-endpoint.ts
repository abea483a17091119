import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { Forbidden } from '../../core/errors.ts';
import { authenticate, headerValue } from '../api/authenticate.ts';
import type { HandlerDeps } from '../shared/deps.ts';
import { createMaestroMcpServer } from './maestro-tools.ts';
import type { MaestroApi } from './maestro-tools.ts';

/** Host names a browser on this machine means when it reaches a local server: the only ones `/mcp` answers locally. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Host names `/mcp` answers besides loopback ones: in AWS the API's own (execute-api or custom)
 * domain, given to the function as MAESTRO_MCP_ALLOWED_HOSTS (a comma list). Read once.
 */
const extraHosts = new Set(
  (process.env.MAESTRO_MCP_ALLOWED_HOSTS ?? '')
    .split(',')
    .map((host) => host.trim().toLowerCase())
    .filter(Boolean),
);

const hostnameOf = (host: string): string | undefined => {
  try {
    return new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
};
const allowedHost = (hostname: string | undefined) => hostname !== undefined && (LOOPBACK_HOSTS.has(hostname) || extraHosts.has(hostname));

/**
 * DNS-rebinding protection: a web page that rebinds its own name to 127.0.0.1 reaches this server
 * with its own name in Host and Origin. Both must name this machine (or a configured API host).
 */
export function checkHostAndOrigin(event: Pick<APIGatewayProxyEvent, 'headers'>): void {
  const host = headerValue(event, 'host');
  if (!host || !allowedHost(hostnameOf(host)))
    throw new Forbidden(`/mcp refuses the Host ${JSON.stringify(host ?? '')}: it answers loopback hosts only`, { field: 'Host' });
  const origin = headerValue(event, 'origin');
  if (origin === undefined) return;
  let originHost: string | undefined;
  try {
    originHost = new URL(origin).hostname.toLowerCase();
  } catch {
    originHost = undefined;
  }
  if (!allowedHost(originHost))
    throw new Forbidden(`/mcp refuses the Origin ${JSON.stringify(origin)}: a web page of another site may not call it`, { field: 'Origin' });
}

/** The API, called in process: each tool call goes through the API handler with the caller's own Authorization. */
export type ApiDispatch = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

function inProcessApi(event: APIGatewayProxyEvent, dispatch: ApiDispatch, correlationId: string): MaestroApi {
  const authorization = headerValue(event, 'authorization');
  return async ({ method, resource, pathParameters, body }) => {
    const path = resource.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(pathParameters?.[name] ?? ''));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-correlation-id': correlationId,
      ...(authorization ? { authorization } : {}),
    };
    const result = await dispatch({
      ...event,
      resource,
      path,
      httpMethod: method,
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: pathParameters ?? null,
      body: body === undefined ? null : JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: { ...event.requestContext, httpMethod: method, path, resourcePath: resource },
    });
    return { status: result.statusCode, body: result.body ? JSON.parse(result.body) : undefined };
  };
}

/**
 * `POST /mcp`: the MCP Streamable HTTP transport in stateless JSON-response mode (one JSON answer per
 * POST, no session, no SSE), so it is an ordinary Lambda proxy route. Host/Origin are checked first,
 * then the caller is authenticated as on every route; the tools act with the caller's credential.
 */
export async function handleMcpEvent(
  deps: HandlerDeps,
  event: APIGatewayProxyEvent,
  correlationId: string,
  dispatch: ApiDispatch,
): Promise<APIGatewayProxyResult> {
  checkHostAndOrigin(event);
  await authenticate(event, deps.config.identity, deps.tokenVerifier);
  const server = createMaestroMcpServer(inProcessApi(event, dispatch, correlationId));
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    const headers = new Headers();
    for (const [name, value] of Object.entries(event.headers ?? {})) if (value !== undefined) headers.set(name, value);
    const body = event.body === null ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
    const response = await transport.handleRequest(new Request(`http://localhost${event.path}`, { method: event.httpMethod, headers, body }));
    const answer: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      answer[name] = value;
    });
    return { statusCode: response.status, headers: answer, body: await response.text() };
  } finally {
    await server.close();
  }
}
