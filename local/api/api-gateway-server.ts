import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { apiRoutes } from '../../functions/handlers/api/routes.ts';

/** API Gateway's own payload limit; the handler enforces Maestro's smaller one. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface ApiGatewayServerOptions {
  handler: ApiHandler;
  context: () => Context;
  host?: string;
  port?: number;
}

export interface RunningApiGatewayServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Plays API Gateway (REST, Lambda proxy integration) on loopback: matches the request against the
 * route templates, builds the same proxy event AWS would, and calls the same handler.
 */
export async function startApiGatewayServer(options: ApiGatewayServerOptions): Promise<RunningApiGatewayServer> {
  const server = createServer((request, response) => {
    serve(request, response, options).catch((error: unknown) => {
      if (!response.headersSent)
        send(response, { statusCode: 502, headers: {}, body: JSON.stringify({ error: { code: 'BadGateway', message: String(error) } }) });
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${host}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function serve(request: IncomingMessage, response: ServerResponse, options: ApiGatewayServerOptions): Promise<void> {
  const body = await readBody(request);
  if (body === 'too-large') {
    send(response, {
      statusCode: 413,
      headers: {},
      body: JSON.stringify({ error: { code: 'PayloadTooLarge', message: `request bodies are limited to ${MAX_PAYLOAD_BYTES} bytes`, field: 'body' } }),
    });
    return;
  }
  const event = toProxyEvent(request, body);
  send(response, await options.handler(event, options.context()));
}

function readBody(request: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_PAYLOAD_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The route template a path matches (`/runs/abc` → `/runs/{id}` with `{id: 'abc'}`). */
export function matchResource(path: string): { resource: string; pathParameters: Record<string, string> | null } {
  const segments = path.split('/').filter(Boolean);
  for (const { resource } of apiRoutes) {
    const template = resource.split('/').filter(Boolean);
    if (template.length !== segments.length) continue;
    const parameters: Record<string, string> = Object.create(null);
    const matches = template.every((part, i) => {
      const name = /^\{(.+)\}$/.exec(part)?.[1];
      if (name) {
        parameters[name] = safeDecode(segments[i]);
        return true;
      }
      return part === segments[i];
    });
    if (matches) return { resource, pathParameters: Object.keys(parameters).length ? parameters : null };
  }
  return { resource: path, pathParameters: null };
}

function toProxyEvent(request: IncomingMessage, body: Buffer): APIGatewayProxyEvent {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const { resource, pathParameters } = matchResource(url.pathname);
  // Null-prototype maps: a header or query parameter named `__proto__` or `constructor` is just a name.
  const headers: Record<string, string> = Object.create(null);
  const multiValueHeaders: Record<string, string[]> = Object.create(null);
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i];
    const value = request.rawHeaders[i + 1];
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = Object.create(null);
  const multiQuery: Record<string, string[]> = Object.create(null);
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    (multiQuery[name] ??= []).push(value);
  }
  const isText = body.length === 0 || /json|text|x-www-form-urlencoded/i.test(String(request.headers['content-type'] ?? 'application/json'));
  return {
    resource,
    path: url.pathname,
    httpMethod: request.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
    pathParameters,
    stageVariables: null,
    body: body.length === 0 ? null : isText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !isText,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${request.httpVersion}`,
      httpMethod: request.method ?? 'GET',
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: String(request.headers['user-agent'] ?? ''),
        userArn: null,
      },
      path: url.pathname,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: resource,
    },
  };
}

function send(response: ServerResponse, result: APIGatewayProxyResult): void {
  const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body ?? '', 'utf8');
  response.writeHead(result.statusCode, { ...(result.headers as Record<string, string>), 'content-length': String(body.length) });
  response.end(body);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // a malformed escape is left as sent; the handler's validation refuses it
  }
}
