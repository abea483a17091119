import { Command } from 'commander';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createMaestroMcpServer } from '../../functions/handlers/mcp/maestro-tools.ts';
import { ApiClient, ExitCode, resolveApiUrl } from '../client.ts';
import { action } from '../context.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * `maestro mcp`: the same MCP tools as the API's `/mcp`, over stdio, for an agent host that starts
 * local servers (Claude Desktop, an IDE). Each tool calls the HTTP API with the CLI's credential; on
 * the embedded stack the default is the development agent token `dev-agent` (acting for dev-operator).
 * stdout carries only MCP messages; anything else goes to stderr.
 */
export function mcpCommand(): Command {
  return new Command('mcp').description('Serve Maestro as an MCP server over stdio (tools: one per action, plan_change, apply_change, get_run, ...)').action(
    action(async ({ options }) => {
      const base = resolveApiUrl(options);
      const token = options.token ?? process.env.MAESTRO_TOKEN ?? (LOOPBACK.has(new URL(base).hostname) ? 'dev-agent' : undefined);
      const client = new ApiClient({ ...options, api: base, token });
      const server = createMaestroMcpServer(async ({ method, resource, pathParameters, body }) => {
        const path = resource.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(pathParameters?.[name] ?? ''));
        const answer = await client.send(method, path, body);
        return { status: answer.status, body: answer.body };
      });
      const closed = new Promise<void>((resolve) => {
        server.onclose = () => resolve();
      });
      await server.connect(new StdioServerTransport());
      // The host closing our stdin ends the session.
      process.stdin.once('end', () => void server.close());
      process.stderr.write(`maestro mcp: serving ${base} over stdio\n`);
      await closed;
      return ExitCode.ok;
    }),
  );
}
