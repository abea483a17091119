// `npm run audit:verify -- <runId>`: asks the running stack's API to recompute a run's audit chain and
// check its signed heads, printing which signed head (checkpoint or final) covers which seq range.
// Exit code 0 when intact and anchored, 1 when a link is broken or an event is not anchored, 2 when it
// could not ask.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';

/** The API's base URL: MAESTRO_API_URL, else the `api` of the data directory's endpoints.json. */
export function apiUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MAESTRO_API_URL) return env.MAESTRO_API_URL.replace(/\/+$/, '');
  const file = join(resolve(env.MAESTRO_DATA_DIR ?? '.maestro'), 'endpoints.json');
  try {
    const endpoints = JSON.parse(readFileSync(file, 'utf8')) as { api?: unknown };
    if (typeof endpoints.api === 'string') return endpoints.api;
  } catch {
    // reported below
  }
  throw new Error(`no API address: set MAESTRO_API_URL or start the stack (npm start) so that ${file} exists`);
}

const runId = (value: string) => {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(value)) throw new InvalidArgumentError('must be a run id');
  return value;
};

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('audit:verify')
    .description("Recompute a run's hash-chained audit trail and check its KMS-signed head")
    .argument('<runId>', 'the run to verify', runId)
    .option('--token <token>', 'bearer token (the embedded stack); MAESTRO_TOKEN', process.env.MAESTRO_TOKEN ?? 'dev-operator')
    .option('--json', 'print the API answer as JSON')
    .exitOverride();
  program.parse([...argv], { from: 'user' });
  const [id] = program.processedArgs as [string];
  const options = program.opts<{ token: string; json?: boolean }>();
  const response = await fetch(`${apiUrl()}/runs/${encodeURIComponent(id)}/audit/verify`, { headers: { authorization: `Bearer ${options.token}` } });
  // biome-ignore lint/suspicious/noExplicitAny: an API answer printed for a person; its shape is the API's
  const body = (await response.json()) as Record<string, any>;
  if (!response.ok) {
    console.error(`audit verify failed: ${response.status} ${body.error?.code ?? ''}: ${body.error?.message ?? JSON.stringify(body)}`);
    return 2;
  }
  if (options.json) console.log(JSON.stringify(body, null, 2));
  else {
    if (body.ok) {
      const signed =
        body.signedHeadMatches === true ? `final head signed by ${body.signedHead.keyId} at ${body.signedHead.signedAt}` : (body.note ?? 'no final head');
      console.log(`run ${id}: audit chain intact and anchored, ${body.eventCount} event(s), head ${body.headHash}; ${signed}`);
    } else if (body.firstBrokenSeq !== undefined) {
      const signed = body.signedHeadMatches === false ? '; the signed head does not match the table' : '';
      console.log(`run ${id}: audit chain BROKEN at seq ${body.firstBrokenSeq} (${body.eventCount} event(s) stored)${signed}`);
    } else {
      console.log(`run ${id}: audit NOT VERIFIED (${body.eventCount} event(s) stored): ${body.note}`);
    }
    for (const line of anchorLines(body)) console.log(line);
  }
  return body.ok ? 0 : 1;
}

/** Which signed head covers which seq range, one line each, then what no head covers. */
export function anchorLines(body: { anchors?: Anchor[]; unanchored?: { fromSeq: number; toSeq: number } }): string[] {
  const lines = (body.anchors ?? []).map(
    (anchor) =>
      `  seq ${anchor.fromSeq}–${anchor.toSeq}: ${anchor.kind} head, status ${anchor.status}, signed ${anchor.signedAt}: ${anchor.matches ? 'matches' : anchor.signatureValid ? 'DOES NOT MATCH the stored chain' : 'INVALID SIGNATURE'}`,
  );
  if (body.unanchored) lines.push(`  seq ${body.unanchored.fromSeq}–${body.unanchored.toSeq}: NOT ANCHORED (no signed head covers these events)`);
  return lines;
}

interface Anchor {
  kind: string;
  fromSeq: number;
  toSeq: number;
  status: string;
  signedAt: string;
  signatureValid: boolean;
  matches: boolean;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      const exit = (error as { exitCode?: number }).exitCode;
      if (typeof exit === 'number') process.exit(exit === 0 ? 0 : 2);
      console.error(`audit verify: ${(error as Error).message}`);
      process.exit(2);
    },
  );
}
