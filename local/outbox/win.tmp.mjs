// manual repro of the window scenario, timing phases
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, watch, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
const ROOT = '/work/main';
const dataDir = mkdtempSync('/tmp/maestro-win-');
const t0 = Date.now();
const log = (...a) => console.log(((Date.now() - t0) / 1000).toFixed(2), ...a);
async function start() {
  const f = join(dataDir, 'endpoints.json'); rmSync(f, { force: true });
  const child = spawn(process.execPath, [join(ROOT, 'local/main.ts')], { cwd: ROOT, env: { ...process.env, MAESTRO_DATA_DIR: dataDir, MAESTRO_PORT: '0', MAESTRO_DEMO: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = ''; child.stdout.on('data', (c) => (out += c)); child.stderr.on('data', (c) => (out += c));
  while (!existsSync(f) || !out.includes('Ctrl-C to stop')) { if (child.exitCode !== null) throw new Error(out); await new Promise((d) => setTimeout(d, 50)); }
  child.out = () => out;
  return { child, endpoints: JSON.parse(readFileSync(f, 'utf8')) };
}
const h = { authorization: 'Bearer dev-operator', 'content-type': 'application/json' };
let m = await start(); log('started');
const r = await (await fetch(`${m.endpoints.api}/runs`, { method: 'POST', headers: h, body: JSON.stringify({ goal: 'w', mode: 'APPLY', reasonForAccess: 'x', tasks: [{ action: 's3.put-object', params: { bucket: 'maestro-demo', key: 'w.txt', body: 'w\n' } }] }) })).json();
log('created', r.runId);
const pid = Number(readFileSync(join(dataDir, 'dynamodb', 'dynamodb-local.pid'), 'utf8'));
await new Promise((done) => { const w = watch(join(dataDir, 's3/buckets/maestro-demo/objects'), (e, f) => { if (!f?.endsWith('.json')) return; process.kill(pid, 'SIGSTOP'); m.child.kill('SIGKILL'); w.close(); done(); }); });
log('frozen+killed');
await new Promise((d) => setTimeout(d, 300));
const s = start(); 
const timer = setInterval(() => log('waiting...'), 5000);
m = await s; clearInterval(timer); log('restarted');
for (;;) { const b = await (await fetch(`${m.endpoints.api}/runs/${r.runId}`, { headers: h })).json(); if (b.run.finishedAt) { log(b.run.status); break; } await new Promise((d) => setTimeout(d, 100)); }
const ev = await (await fetch(`${m.endpoints.api}/runs/${r.runId}/events`, { headers: h })).json();
console.log(ev.events.map((e) => `${e.seq} ${e.type} ${e.taskIndex ?? ''}`).join('\n'));
m.child.kill('SIGTERM');
