import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStack } from '../../../local/stack.ts';
import { api, startTestStack, waitForRun } from '../../support/test-stack.ts';

let stack: EmbeddedStack | undefined;
beforeAll(async () => {
  stack = await startTestStack('warm-apply');
});
afterAll(async () => {
  await stack?.stop();
});

/** One APPLY run of one task; the task's outcome records the sandbox process that applied it. */
async function applied(task: { action: string; params: Record<string, unknown> }): Promise<{ pid: number; permissionModel: boolean }> {
  const created = await api(stack!, 'POST', '/runs', { body: { goal: 'warm apply', reasonForAccess: 'warm sandbox test', mode: 'APPLY', tasks: [task] } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const run = await waitForRun(stack!, created.body.runId);
  expect(run.status, JSON.stringify(run.tasks)).toBe('SUCCEEDED');
  return run.tasks[0].outcome.isolation;
}

/** The sandbox processes this test process has as children (what an orphan would be). */
const sandboxChildren = () =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return parent === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('sandbox-entry.ts');
      } catch {
        return false;
      }
    })
    .map(Number);
const alive = (pid: number) => existsSync(`/proc/${pid}/stat`) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

describe('warm sandbox workers on the embedded stack', () => {
  it('applies a second s3.put-object in the same warm worker, a dynamodb.put-item in another, and stop() leaves no sandbox process', async () => {
    const s3 = (key: string) => ({ action: 's3.put-object', params: { bucket: stack!.demoBucket, key: `warm/${key}.txt`, body: 'warm\n' } });
    const first = await applied(s3('first'));
    const second = await applied(s3('second'));
    expect(first.permissionModel).toBe(true);
    expect(second.pid).toBe(first.pid);
    const item = await applied({ action: 'dynamodb.put-item', params: { table: stack!.demoTable, item: { id: 'warm', value: 'warm' } } });
    expect(item.permissionModel).toBe(true);
    expect(item.pid).not.toBe(first.pid);
    expect(sandboxChildren().sort()).toEqual([first.pid, item.pid].sort());

    await stack!.stop();
    stack = undefined;
    expect(alive(first.pid)).toBe(false);
    expect(alive(item.pid)).toBe(false);
    expect(sandboxChildren()).toEqual([]);
  });
});
