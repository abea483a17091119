import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKFLOWS, WORKFLOW_TASKS, tasksOf } from '../../functions/handlers/workflow-tasks.ts';
import type { WorkflowName } from '../../functions/handlers/workflow-tasks.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const placeholdersOf = (file: string) =>
  [...new Set([...readFileSync(join(ROOT, file), 'utf8').matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((match) => match[1]))].sort();

describe("the workflows' task manifest", () => {
  it.each(Object.keys(WORKFLOWS) as WorkflowName[])("names exactly the placeholders of %s's definition", (workflow) => {
    // GIVEN the definition file's ${...} placeholders
    const placeholders = placeholdersOf(WORKFLOWS[workflow].file);
    // THEN the manifest's tasks of that workflow are those, one each
    expect(
      tasksOf(workflow)
        .map((task) => task.placeholder)
        .sort(),
    ).toStrictEqual(placeholders);
  });

  it('points every task at a handler module that exports handler and createHandler', async () => {
    for (const task of WORKFLOW_TASKS) {
      expect(existsSync(join(ROOT, task.entry)), task.entry).toBe(true);
      const module = (await import(join(ROOT, task.entry))) as Record<string, unknown>;
      expect(typeof module.handler, `${task.entry} handler`).toBe('function');
      expect(typeof module.createHandler, `${task.entry} createHandler`).toBe('function');
    }
  });

  it('gives every function one name, one id per family, and a timeout Lambda allows', () => {
    expect(new Set(WORKFLOW_TASKS.map((task) => task.functionName)).size).toBe(WORKFLOW_TASKS.length);
    expect(new Set(WORKFLOW_TASKS.map((task) => `${task.family}:${task.id}`)).size).toBe(WORKFLOW_TASKS.length);
    for (const task of WORKFLOW_TASKS) expect(task.timeoutSeconds, task.id).toBeGreaterThan(0);
    for (const task of WORKFLOW_TASKS) expect(task.timeoutSeconds, task.id).toBeLessThanOrEqual(900);
  });
});
