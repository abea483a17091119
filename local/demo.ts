import { setTimeout as sleep } from 'node:timers/promises';

export interface DemoOptions {
  apiUrl: string;
  bucket: string;
  table: string;
  print: (line: string) => void;
}

const FINISHED = new Set(['SUCCEEDED', 'FAILED', 'ROLLED_BACK', 'REJECTED', 'EXPIRED', 'CANCELLED', 'DENIED']);

/** Asks for one APPLY run through the HTTP API, as any client would, and prints its events as they happen. */
export async function runDemo(options: DemoOptions): Promise<{ runId: string; status: string }> {
  const now = new Date().toISOString();
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${options.apiUrl}${path}`, {
      method,
      headers: { authorization: 'Bearer dev-operator', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json()) as any;
    if (!response.ok) throw new Error(`${method} ${path} → ${response.status}: ${JSON.stringify(json)}`);
    return json;
  };

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
  options.print(`Demo run ${runId}: APPLY, 3 tasks`);

  let afterSeq = 0;
  const started = Date.now();
  for (;;) {
    const { events } = await call('GET', `/runs/${runId}/events?afterSeq=${afterSeq}`);
    for (const event of events) {
      afterSeq = event.seq;
      const task = event.taskIndex === undefined ? '' : `[task ${event.taskIndex}] `;
      options.print(`  ${String(event.seq).padStart(3)} ${event.type.padEnd(22)} ${task}${event.message}`);
    }
    const { run } = await call('GET', `/runs/${runId}`);
    if ((FINISHED.has(run.status) || run.finishedAt) && events.length === 0) {
      options.print(`Demo run ${runId} ended ${run.status} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      const diff = (await call('GET', `/runs/${runId}`)).run.tasks[0]?.plan?.diff;
      if (diff) options.print(`\nPlanned diff of task 0:\n${diff}`);
      return { runId, status: run.status };
    }
    await sleep(150);
  }
}
