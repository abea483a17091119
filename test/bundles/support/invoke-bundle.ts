import { pathToFileURL } from 'node:url';
import { lambdaContext } from '../../../local/lambda-context.ts';

/**
 * Invokes one Lambda bundle of the synthesized assembly once, in a plain Node process configured
 * through its environment as Lambda configures it (the caller passes the function's template
 * variables; the working directory is the asset, as /var/task is). The event comes on stdin; one JSON
 * line goes to stdout: `{"result": …}`, or `{"error": {name, message, stack}}` when the handler throws.
 */
const [bundle, functionName = 'maestro-bundle'] = process.argv.slice(2);
const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
let line: unknown;
try {
  const { handler } = (await import(pathToFileURL(bundle!).href)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
  line = { result: await handler(event, lambdaContext(functionName)) };
} catch (error) {
  line = { error: { name: (error as Error).name, message: (error as Error).message, stack: (error as Error).stack } };
}
process.stdout.write(`${JSON.stringify(line)}\n`);
process.exit(0);
