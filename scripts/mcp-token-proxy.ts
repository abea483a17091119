/**
 * A loopback proxy that adds a bearer token to every request: the MCP conformance suite sends no
 * credentials. `node scripts/mcp-token-proxy.ts <api-url> [port] [token]` (default token dev-agent)
 * prints the URL to give the suite (`http://localhost:<port>/mcp`). Host and Origin pass unchanged,
 * so the server's DNS-rebinding checks see what the suite sent.
 */
import { createServer, request as httpRequest } from 'node:http';

export async function tokenProxy(target: string, options: { port?: number; token?: string } = {}): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const authorization = `Bearer ${options.token ?? 'dev-agent'}`;
  const server = createServer((incoming, outgoing) => {
    const forwarded = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: incoming.url, method: incoming.method, headers: { ...incoming.headers, authorization } },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://localhost:${port}/mcp`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

if (import.meta.main) {
  const [target, port, token] = process.argv.slice(2);
  if (!target) {
    process.stderr.write('usage: node scripts/mcp-token-proxy.ts <api-url> [port] [token]\n');
    process.exit(2);
  }
  const proxy = await tokenProxy(target, { port: port ? Number(port) : undefined, token });
  process.stdout.write(`${proxy.url}\n`);
}
