import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedStack } from '../local/stack.ts';
const t0 = Date.now();
const stack = await startEmbeddedStack({ dataDir: mkdtempSync(join(tmpdir(), 'dbg-')), apiPort: 0, onStateEvent: (e) => { if (e.error || /Map|ApplyTask|Finalize/.test(e.stateName)) console.log(((Date.now() - t0) / 1000).toFixed(1), '  sfn', e.executionArn.slice(-6), e.type, e.stateName, e.error ?? '', String(e.cause ?? '').slice(0, 200)); } });
const headers = { authorization: 'Bearer dev-operator', 'content-type': 'application/json' };
const start = async (tasks: unknown[]) => { const r = await fetch(`${stack.endpoints.api}/runs`, { method: 'POST', headers, body: JSON.stringify({ goal: 'dbg', mode: 'APPLY', reasonForAccess: 'debugging the loop', tasks }) }); return ((await r.json()) as { runId: string }).runId; };
const put = (key: string, body: string) => ({ action: 's3.put-object', params: { bucket: stack.demoBucket, key, body } });
const status = async (id: string) => ((await (await fetch(`${stack.endpoints.api}/runs/${id}`, { headers })).json()) as any).run;
const first = await start([put('locks/shared.txt', 'first\n'), { action: 'noop', params: { sleepMs: 1500 } }]);
for (;;) { const r = await status(first); if (r.tasks[0].status === 'APPLIED') break; await new Promise((res) => setTimeout(res, 200)); }
console.log(((Date.now() - t0) / 1000).toFixed(1), 'first applied task 0');
const second = await start([put('locks/shared.txt', 'second\n')]);
for (let i = 0; i < 60; i++) {
  await new Promise((res) => setTimeout(res, 1000));
  const [a, b] = [await status(first), await status(second)];
  const locks = (await (await fetch(`${stack.endpoints.api}/locks`, { headers })).json()) as any;
  console.log(((Date.now() - t0) / 1000).toFixed(1), a.status, a.tasks.map((t: any) => t.status), b.status, b.tasks.map((t: any) => t.status), JSON.stringify(locks.locks));
  if (a.finishedAt && b.finishedAt) break;
}
for (const id of [first, second]) { const ev = (await (await fetch(`${stack.endpoints.api}/runs/${id}/events`, { headers })).json()) as any; console.log(ev.events.map((e: any) => `${e.ts.slice(11, 23)} ${e.type}: ${e.message}`).join('\n')); }
await stack.stop();
