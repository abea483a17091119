import type { RunProgress } from './progress.ts';

export interface DemoOptions {
  apiUrl: string;
  bucket: string;
  table: string;
  progress: RunProgress;
  print: (line: string) => void;
}

/** Asks for one APPLY run through the HTTP API, as any client would, and follows it state by state. */
export async function runDemo(options: DemoOptions): Promise<{ runId: string; status: string }> {
  const now = new Date().toISOString();
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${options.apiUrl}${path}`, {
      method,
      headers: { authorization: 'Bearer dev-operator', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the demo reads the API's JSON answers field by field
    const json = (await response.json()) as any;
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${JSON.stringify(json)}`);
    return json;
  };

  const started = Date.now();
  const created = await call('POST', '/runs', {
    goal: 'Publish the greeting and record it',
    mode: 'APPLY',
    reasonForAccess: 'demo run started by npm start',
    tasks: [
      { action: 's3.put-object', params: { bucket: options.bucket, key: 'greetings/hello.txt', body: `Hello from Maestro!\nWritten at ${now}\n` } },
      { action: 'dynamodb.put-item', params: { table: options.table, item: { id: 'greeting', text: 'Hello from Maestro!', writtenAt: now } } },
      { action: 'noop', params: { sleepMs: 300 } },
    ],
  });
  const runId: string = created.runId;
  options.print(`Demo run ${runId} (APPLY, 3 tasks):`);
  await options.progress.waitFor(runId);
  const { run } = await call('GET', `/runs/${runId}`);
  options.print(`Demo run ended ${run.status} in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  const diff = run.tasks[0]?.plan?.diff;
  if (diff) options.print(`\nThe plan's diff for task 0:\n${diff}`);
  return { runId, status: run.status };
}
