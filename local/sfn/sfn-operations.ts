import { randomUUID } from 'node:crypto';
import { isStateMachineArn, isValidExecutionName, parseExecutionArn } from './arns.ts';
import type { ExecutionEngine } from './execution-engine.ts';
import type { ExecutionRecord, ExecutionStatus, ExecutionStore } from './execution-store.ts';
import type { PreparedStateMachine } from './prepared-state-machine.ts';
import { SfnApiError } from './sfn-errors.ts';
import type { SfnOperation } from './sfn-json-server.ts';
import type { TaskTokens } from './task-tokens.ts';

export interface SfnOperationsDependencies {
  engine: ExecutionEngine;
  store: ExecutionStore;
  tokens: TaskTokens;
  machinesByArn: ReadonlyMap<string, PreparedStateMachine>;
}

type Request = Record<string, unknown>;

const STATUSES: readonly ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

/**
 * The Step Functions operations the local endpoint answers, with AWS's request and response fields
 * (dates in epoch seconds, as the JSON protocol sends them) and AWS's error names.
 */
export function createSfnOperations(deps: SfnOperationsDependencies): Record<string, SfnOperation> {
  const { engine, store, tokens, machinesByArn } = deps;

  const findExecution = (request: Request): ExecutionRecord => {
    const executionArn = requiredString(request, 'executionArn');
    const record = store.get(executionArn);
    if (record) return record;
    if (!parseExecutionArn(executionArn)) throw new SfnApiError('InvalidArn', `Invalid Arn: '${executionArn}'`);
    throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
  };

  const findStateMachine = (request: Request): PreparedStateMachine => {
    const arn = requiredString(request, 'stateMachineArn');
    if (!isStateMachineArn(arn)) throw new SfnApiError('InvalidArn', `Invalid Arn: '${arn}'`);
    const machine = machinesByArn.get(arn);
    if (!machine) throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  };

  return {
    StartExecution: (request) => {
      const machine = findStateMachine(request);
      const name = optionalString(request, 'name') ?? randomUUID();
      if (!isValidExecutionName(name)) throw new SfnApiError('InvalidName', `Invalid Name: '${name}'`);
      const input = optionalString(request, 'input') ?? '{}';
      try {
        JSON.parse(input);
      } catch (error) {
        throw new SfnApiError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${(error as Error).message}'`);
      }
      const record = engine.start(machine, name, input, optionalString(request, 'traceHeader'));
      return { executionArn: record.executionArn, startDate: seconds(record.startDate) };
    },

    DescribeExecution: (request) => describe(findExecution(request)),

    StopExecution: (request) => {
      const { executionArn } = findExecution(request);
      const record = engine.stop(executionArn, optionalString(request, 'error'), optionalString(request, 'cause'));
      return { stopDate: seconds(record.stopDate ?? Date.now()) };
    },

    GetExecutionHistory: (request) => {
      const { executionArn } = findExecution(request);
      const reverseOrder = request.reverseOrder === true;
      const events = [...store.history(executionArn)];
      if (reverseOrder) events.reverse();
      const page = paginate(events, request, `${executionArn}|${reverseOrder}`);
      return {
        events: page.items.map((event) => ({ ...event, timestamp: seconds(event.timestamp) })),
        ...(page.nextToken ? { nextToken: page.nextToken } : {}),
      };
    },

    ListExecutions: (request) => {
      if (request.mapRunArn !== undefined) throw new SfnApiError('ValidationException', 'mapRunArn is not supported locally');
      const machine = findStateMachine(request);
      const statusFilter = optionalString(request, 'statusFilter');
      if (statusFilter !== undefined && !STATUSES.includes(statusFilter as ExecutionStatus)) {
        throw new SfnApiError('ValidationException', `Invalid statusFilter '${statusFilter}'`);
      }
      const executions = store
        .list()
        .filter((record) => record.stateMachineArn === machine.arn && (statusFilter === undefined || record.status === statusFilter))
        .sort((a, b) => b.startDate - a.startDate);
      const page = paginate(executions, request, `${machine.arn}|${statusFilter ?? ''}`);
      return {
        executions: page.items.map((record) => ({
          executionArn: record.executionArn,
          stateMachineArn: record.stateMachineArn,
          name: record.name,
          status: record.status,
          startDate: seconds(record.startDate),
          ...(record.stopDate !== undefined ? { stopDate: seconds(record.stopDate) } : {}),
        })),
        ...(page.nextToken ? { nextToken: page.nextToken } : {}),
      };
    },

    RedriveExecution: (request) => {
      const { executionArn } = findExecution(request);
      engine.redrive(executionArn);
      return { redriveDate: seconds(Date.now()) };
    },

    SendTaskSuccess: (request) => {
      const taskToken = requiredString(request, 'taskToken');
      const output = requiredString(request, 'output');
      tokens.assertPending(taskToken);
      let parsed: unknown;
      try {
        parsed = JSON.parse(output);
      } catch (error) {
        throw new SfnApiError('InvalidOutput', `Invalid Output: '${(error as Error).message}'`);
      }
      tokens.succeed(taskToken, parsed);
      return {};
    },

    SendTaskFailure: (request) => {
      const taskToken = requiredString(request, 'taskToken');
      tokens.fail(taskToken, optionalString(request, 'error') ?? 'States.TaskFailed', optionalString(request, 'cause') ?? '');
      return {};
    },

    SendTaskHeartbeat: (request) => {
      tokens.heartbeat(requiredString(request, 'taskToken'));
      return {};
    },
  };
}

function describe(record: ExecutionRecord): Record<string, unknown> {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: seconds(record.startDate),
    ...(record.stopDate !== undefined ? { stopDate: seconds(record.stopDate) } : {}),
    input: record.input,
    inputDetails: { included: true },
    ...(record.output !== undefined ? { output: record.output, outputDetails: { included: true } } : {}),
    ...(record.error !== undefined ? { error: record.error } : {}),
    ...(record.cause !== undefined ? { cause: record.cause } : {}),
    ...(record.traceHeader !== undefined ? { traceHeader: record.traceHeader } : {}),
  };
}

/** Pages by offset; the token names the listing it belongs to, so it cannot be replayed on another. */
function paginate<T>(items: T[], request: Request, listing: string): { items: T[]; nextToken?: string } {
  const maxResults = request.maxResults === undefined ? 0 : request.maxResults;
  if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 0 || maxResults > MAX_PAGE_SIZE) {
    throw new SfnApiError('ValidationException', `maxResults must be an integer from 0 to ${MAX_PAGE_SIZE}`);
  }
  const pageSize = maxResults || DEFAULT_PAGE_SIZE;
  let offset = 0;
  const nextToken = optionalString(request, 'nextToken');
  if (nextToken !== undefined) {
    const decoded = decodeToken(nextToken);
    if (!decoded || decoded.listing !== listing) throw new SfnApiError('InvalidToken', 'Invalid Token: the nextToken does not belong to this request');
    offset = decoded.offset;
  }
  const end = offset + pageSize;
  return { items: items.slice(offset, end), nextToken: end < items.length ? encodeToken({ listing, offset: end }) : undefined };
}

function encodeToken(token: { listing: string; offset: number }): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

function decodeToken(text: string): { listing: string; offset: number } | undefined {
  try {
    const token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { listing?: unknown; offset?: unknown };
    if (typeof token.listing === 'string' && typeof token.offset === 'number' && Number.isInteger(token.offset) && token.offset >= 0) {
      return { listing: token.listing, offset: token.offset };
    }
  } catch {
    // falls through: not one of ours
  }
  return undefined;
}

function requiredString(request: Request, field: string): string {
  const value = request[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new SfnApiError('ValidationException', `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function optionalString(request: Request, field: string): string | undefined {
  const value = request[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new SfnApiError('ValidationException', `Value at '${field}' must be a string`);
  return value;
}

function seconds(epochMs: number): number {
  return epochMs / 1000;
}
