import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';

/** The local addresses (hex, as the kernel writes them) of the sockets listening on a TCP port. */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[3] === '0A' && fields[1]?.endsWith(`:${hexPort}`))
      .map((fields) => fields[1].split(':')[0]),
  );
}

const LOOPBACK = new Set(['0100007F', '0000000000000000FFFF00000100007F', '00000000000000000000000001000000']);

/** A raw HTTP exchange, with the headers a browser (or a rebinding page) would send. */
function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body = '',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path: '/', headers, setHost: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const listTables = {
  'x-amz-target': 'DynamoDB_20120810.ListTables',
  'content-type': 'application/x-amz-json-1.0',
  authorization: 'AWS4-HMAC-SHA256 Credential=local/20261201/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
};

describe('DynamoDB Local (the tests’ instance, started like the stack’s)', () => {
  const url = new URL(inject('dynamodbUrl'));
  const port = Number(url.port);

  it('listens on loopback only', () => {
    const addresses = listeningAddresses(port);
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.filter((address) => !LOOPBACK.has(address))).toEqual([]);
  });

  it('answers the SDK', async () => {
    const client = new DynamoDBClient({ endpoint: url.toString(), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      expect(Array.isArray((await client.send(new ListTablesCommand({ Limit: 1 }))).TableNames)).toBe(true);
    } finally {
      client.destroy();
    }
  });

  it('gives a browser preflight from another origin no Access-Control-Allow-Origin', async () => {
    const preflight = await send(url, 'OPTIONS', {
      host: url.host,
      origin: 'http://evil.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'x-amz-target,content-type,authorization',
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.status).toBe(403);
  });

  it('refuses a request that carries an Origin, even a simple one a page could send without preflight', async () => {
    const posted = await send(url, 'POST', { ...listTables, host: url.host, origin: 'http://evil.example' }, '{}');
    expect(posted.status).toBe(403);
    expect(posted.headers['access-control-allow-origin']).toBeUndefined();
    expect(posted.body).not.toContain('TableNames');
  });

  it('refuses a foreign Host header (a DNS-rebound page is same-origin and sends none of the above)', async () => {
    const rebound = await send(url, 'POST', { ...listTables, host: `evil.example:${port}` }, '{}');
    expect(rebound.status).toBe(403);
    expect(rebound.body).not.toContain('TableNames');
    const direct = await send(url, 'POST', { ...listTables, host: `localhost:${port}` }, '{}');
    expect(direct.status).toBe(200);
    expect(direct.body).toContain('TableNames');
  });
});
