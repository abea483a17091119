import { describe, expect, it } from 'vitest';
import { LambdaTaskExecutor } from '../../functions/adapters/lambda-task-executor.ts';
import { UnknownAction } from '../../functions/core/errors.ts';
import type { ExecutorClass, TaskExecution } from '../../functions/core/runs/task-executor.ts';

/** Which function the control plane invokes for an operation: the built-ins' class executor, or the action's pack's own. */
const packs = new Map([
  ['s3.put-object', 'builtin'],
  ['example.s3-put-json', 'example'],
  ['other.touch', 'other'],
]);
const executor = new LambdaTaskExecutor({
  functions: { read: 'builtin-read', write: 'builtin-write', internet: 'builtin-internet' },
  classOf: (request) => (request.operation === 'plan' || request.operation === 'verify' ? 'read' : 'write') as ExecutorClass,
  packOf: (request) => packs.get(request.action)!,
  packFunctions: { example: { read: 'example-read', write: 'example-write' }, other: { read: 'other-read' } },
});
const request = (action: string, operation: TaskExecution['operation']): TaskExecution => ({
  operation,
  action,
  actionVersion: '1.0.0',
  runId: 'run',
  environment: 'dev',
  taskIndex: 0,
  idempotencyKey: 'key',
});

describe('LambdaTaskExecutor routing', () => {
  it("sends a built-in to its class's executor and a pack's action to that pack's executor of the class", () => {
    expect(executor.functionFor(request('s3.put-object', 'plan'))).toBe('builtin-read');
    expect(executor.functionFor(request('s3.put-object', 'apply'))).toBe('builtin-write');
    expect(executor.functionFor(request('example.s3-put-json', 'plan'))).toBe('example-read');
    expect(executor.functionFor(request('example.s3-put-json', 'rollback'))).toBe('example-write');
  });

  it("refuses a pack's action that has no executor of its class (never falls back to the built-ins' executors)", () => {
    expect(() => executor.functionFor(request('other.touch', 'apply'))).toThrow(UnknownAction);
    expect(() => executor.functionFor(request('other.touch', 'apply'))).toThrow(/pack other, which has no write executor/);
    const unconfigured = new LambdaTaskExecutor({
      functions: { read: 'builtin-read', write: 'builtin-write', internet: 'builtin-internet' },
      classOf: () => 'read',
      packOf: () => 'example',
    });
    expect(() => unconfigured.functionFor(request('example.s3-put-json', 'plan'))).toThrow(UnknownAction);
  });

  it('finds nothing for a pack named like an Object.prototype member', () => {
    const sneaky = new LambdaTaskExecutor({ functions: { read: 'r', write: 'w', internet: 'i' }, classOf: () => 'read', packOf: () => 'constructor' });
    expect(() => sneaky.functionFor(request('constructor.x', 'plan'))).toThrow(UnknownAction);
  });
});
