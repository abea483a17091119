import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryEvent, HistoryEventBody } from './history-events.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** The durable record of one execution; dates are epoch milliseconds. */
export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  stateMachineName: string;
  name: string;
  status: ExecutionStatus;
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  traceHeader?: string;
}

interface StoredExecution {
  record: ExecutionRecord;
  history: HistoryEvent[];
  directory: string;
}

const RECORD_FILE = 'execution.json';
const HISTORY_FILE = 'history.jsonl';

/**
 * Executions on disk, one directory each under `dataDir/executions/<state machine>/<name>/`: the
 * record in `execution.json`, replaced atomically (write + rename) on every change, and the history
 * in `history.jsonl`, one event per line, append-only. Everything is also held in memory, so reads
 * never touch the disk. Writes are synchronous: an event is on disk before the code that follows
 * it runs (a lambda is only invoked after its state's entry is recorded), which is what lets a
 * restarted endpoint carry a RUNNING execution on from the right state.
 */
export class ExecutionStore {
  #root: string;
  #executions = new Map<string, StoredExecution>();

  constructor(dataDir: string) {
    this.#root = join(dataDir, 'executions');
    mkdirSync(this.#root, { recursive: true });
    this.#load();
  }

  get(executionArn: string): ExecutionRecord | undefined {
    return this.#executions.get(executionArn)?.record;
  }

  list(): ExecutionRecord[] {
    return [...this.#executions.values()].map((stored) => stored.record);
  }

  history(executionArn: string): readonly HistoryEvent[] {
    return this.#executions.get(executionArn)?.history ?? [];
  }

  create(record: ExecutionRecord): void {
    if (this.#executions.has(record.executionArn)) throw new Error(`Execution ${record.executionArn} already stored`);
    const directory = join(this.#root, fileName(record.stateMachineName), fileName(record.name));
    mkdirSync(directory, { recursive: true });
    writeFileSync(join(directory, HISTORY_FILE), '');
    const stored: StoredExecution = { record: { ...record }, history: [], directory };
    this.#executions.set(record.executionArn, stored);
    this.#writeRecord(stored);
  }

  update(executionArn: string, changes: Partial<Omit<ExecutionRecord, 'executionArn'>>): ExecutionRecord {
    const stored = this.#require(executionArn);
    stored.record = { ...stored.record, ...changes };
    this.#writeRecord(stored);
    return stored.record;
  }

  append(executionArn: string, body: HistoryEventBody, timestamp = Date.now()): HistoryEvent {
    const stored = this.#require(executionArn);
    const id = stored.history.length + 1;
    const event = { ...body, id, previousEventId: id - 1, timestamp } as HistoryEvent;
    // One write call per complete line, so a crash leaves at most a torn last line, which #load skips.
    appendFileSync(join(stored.directory, HISTORY_FILE), `${JSON.stringify(event)}\n`);
    stored.history.push(event);
    return event;
  }

  #require(executionArn: string): StoredExecution {
    const stored = this.#executions.get(executionArn);
    if (!stored) throw new Error(`Execution ${executionArn} is not stored`);
    return stored;
  }

  #writeRecord(stored: StoredExecution): void {
    const file = join(stored.directory, RECORD_FILE);
    writeFileSync(`${file}.tmp`, JSON.stringify(stored.record, null, 2));
    renameSync(`${file}.tmp`, file);
  }

  #load(): void {
    for (const machineDir of readdirSync(this.#root, { withFileTypes: true })) {
      if (!machineDir.isDirectory()) continue;
      for (const executionDir of readdirSync(join(this.#root, machineDir.name), { withFileTypes: true })) {
        if (!executionDir.isDirectory()) continue;
        const directory = join(this.#root, machineDir.name, executionDir.name);
        const record = readJson(join(directory, RECORD_FILE)) as ExecutionRecord | undefined;
        if (!record?.executionArn) continue; // never completely written: the execution was not accepted
        this.#executions.set(record.executionArn, { record, history: readHistory(join(directory, HISTORY_FILE)), directory });
      }
    }
  }
}

/** A directory name for any state machine or execution name (`%`-encoded; dots too, so `..` stays a name). */
function fileName(name: string): string {
  return encodeURIComponent(name).replace(/\./g, '%2E');
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function readHistory(file: string): HistoryEvent[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const events: HistoryEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      events.push(JSON.parse(line) as HistoryEvent);
    } catch {
      break; // a torn last line from a crash mid-write
    }
  }
  return events;
}
