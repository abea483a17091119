import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { matchesEventPattern } from '../../functions/core/triggers/event-pattern.ts';
import type { EventPattern } from '../../functions/core/triggers/event-pattern.ts';

// The AWS JSON 1.1 protocol as EventBridge speaks it: POST /, X-Amz-Target: AWSEvents.<Operation>,
// errors as {"__type", "message"}. Only PutEvents: the outbox relay's one call.
const TARGET = 'AWSEvents.PutEvents';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_ENTRIES = 10;
/** EventBridge's limit on one entry (and on a whole request). */
const MAX_ENTRY_BYTES = 256 * 1024;

/** One event as the emulator delivered it: a line of `eventbridge.jsonl`. */
export interface DeliveredEvent {
  EventId: string;
  EventBusName: string;
  Source: string;
  DetailType: string;
  Detail: unknown;
  Time: string;
  Resources: string[];
  receivedAt: string;
}

/** Entries to refuse, for tests: the next `count` entries that `match` (all, by default) fail with `errorCode`. */
export interface InjectedFailure {
  count: number;
  errorCode?: string;
  errorMessage?: string;
  match?: (entry: { Source?: string; DetailType?: string; Detail: unknown }) => boolean;
}

/** An event as a rule's target receives it (EventBridge's event envelope). */
export interface RuleEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

/** A rule: events on any bus matching `pattern` go to `target` (after PutEvents answers, as EventBridge delivers asynchronously). */
export interface EventRule {
  name: string;
  pattern: EventPattern;
  target(event: RuleEvent): Promise<unknown>;
}

export interface RunningEventBridgeEmulator {
  /** Where rules come from (read at each event): the embedded stack's event triggers. */
  setRules(rules: () => Promise<readonly EventRule[]> | readonly EventRule[]): void;
  /** Delivers an already delivered event to its matching rules again, as EventBridge may (at-least-once); resolves when the targets have answered. */
  redeliver(eventId: string): Promise<unknown[]>;
  /** Resolves when every rule delivery started so far has finished. */
  idle(): Promise<void>;
  url: string;
  /** Where delivered events are appended, one JSON object a line. */
  deliveredFile: string;
  /** Every event delivered so far (read back from the file). */
  delivered(): DeliveredEvent[];
  injectFailures(failure: InjectedFailure): void;
  stop(): Promise<void>;
}

class ApiError extends Error {
  readonly status: number;
  constructor(name: string, message: string, status = 400) {
    super(message);
    this.name = name;
    this.status = status;
  }
}

/**
 * A local EventBridge endpoint that answers PutEvents for an unmodified EventBridgeClient
 * (AWS_ENDPOINT_URL_EVENTBRIDGE): accepted entries get an EventId and are appended to
 * `dataDir/eventbridge.jsonl`; any bus name is accepted; tests can make entries fail.
 */
export async function startEventBridgeEmulator(options: {
  dataDir: string;
  host?: string;
  port?: number;
  onRuleError?: (error: unknown, rule: string) => void;
}): Promise<RunningEventBridgeEmulator> {
  const deliveredFile = join(resolve(options.dataDir), 'eventbridge.jsonl');
  mkdirSync(dirname(deliveredFile), { recursive: true });
  appendFileSync(deliveredFile, '');
  const failures: InjectedFailure[] = [];
  let ruleSource: () => Promise<readonly EventRule[]> | readonly EventRule[] = () => [];
  const pending = new Set<Promise<unknown>>();
  const envelope = (event: DeliveredEvent): RuleEvent => ({
    version: '0',
    id: event.EventId,
    'detail-type': event.DetailType,
    source: event.Source,
    account: '000000000000',
    time: event.Time,
    region: 'us-east-1',
    resources: event.Resources,
    detail: event.Detail,
  });
  /** Every rule whose pattern matches gets the event; a target's failure is reported, not retried. */
  const route = async (event: DeliveredEvent): Promise<unknown[]> => {
    const ruleEvent = envelope(event);
    const rules = await ruleSource();
    return Promise.all(
      rules
        .filter((rule) => matchesEventPattern(rule.pattern, ruleEvent))
        .map((rule) =>
          rule.target(ruleEvent).catch((error: unknown) => {
            options.onRuleError?.(error, rule.name);
            return undefined;
          }),
        ),
    );
  };
  const dispatch = (events: readonly DeliveredEvent[]) => {
    for (const event of events) {
      const delivery = route(event).catch((error: unknown) => options.onRuleError?.(error, '(rules)'));
      pending.add(delivery);
      void delivery.finally(() => pending.delete(delivery));
    }
  };

  const putEvents = (request: Record<string, unknown>) => {
    const entries = request.Entries;
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_ENTRIES) {
      throw new ApiError('ValidationException', `Entries must hold 1 to ${MAX_ENTRIES} entries`);
    }
    const lines: string[] = [];
    const results = entries.map((raw: Record<string, unknown>) => {
      const detailText = typeof raw.Detail === 'string' ? raw.Detail : undefined;
      let detail: unknown;
      try {
        detail = detailText === undefined ? undefined : JSON.parse(detailText);
      } catch {
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      if (typeof raw.Source !== 'string' || !raw.Source || typeof raw.DetailType !== 'string' || !raw.DetailType || detail === undefined) {
        return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameters Source, DetailType and Detail are required.' };
      }
      if (Buffer.byteLength(JSON.stringify(raw)) > MAX_ENTRY_BYTES) {
        return { ErrorCode: 'InvalidArgument', ErrorMessage: `Entry is larger than ${MAX_ENTRY_BYTES} bytes.` };
      }
      const failure = failures.find(
        (candidate) =>
          candidate.count > 0 && (candidate.match?.({ Source: raw.Source as string, DetailType: raw.DetailType as string, Detail: detail }) ?? true),
      );
      if (failure) {
        failure.count -= 1;
        if (failure.count === 0) failures.splice(failures.indexOf(failure), 1);
        return { ErrorCode: failure.errorCode ?? 'InternalFailure', ErrorMessage: failure.errorMessage ?? 'Injected failure' };
      }
      const event: DeliveredEvent = {
        EventId: randomUUID(),
        EventBusName: typeof raw.EventBusName === 'string' && raw.EventBusName ? raw.EventBusName : 'default',
        Source: raw.Source,
        DetailType: raw.DetailType,
        Detail: detail,
        Time: typeof raw.Time === 'number' ? new Date(raw.Time * 1000).toISOString() : new Date().toISOString(),
        Resources: Array.isArray(raw.Resources) ? (raw.Resources as string[]) : [],
        receivedAt: new Date().toISOString(),
      };
      lines.push(JSON.stringify(event));
      return { EventId: event.EventId };
    });
    // One write per request, before answering: an entry reported delivered is on disk.
    if (lines.length > 0) appendFileSync(deliveredFile, `${lines.join('\n')}\n`);
    dispatch(lines.map((line) => JSON.parse(line) as DeliveredEvent));
    return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.on('error', () => undefined);
    readBody(request)
      .then((body) => {
        if (request.method !== 'POST') throw new ApiError('UnsupportedOperation', `HTTP method ${request.method} is not supported; EventBridge takes POST /`);
        const target = request.headers['x-amz-target'];
        if (target !== TARGET)
          throw new ApiError('UnsupportedOperation', `Operation ${String(target)} is not supported by the local EventBridge endpoint; only ${TARGET}`);
        let parsed: unknown;
        try {
          parsed = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
        } catch {
          throw new ApiError('SerializationException', 'The request body is not valid JSON');
        }
        if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
          throw new ApiError('SerializationException', 'The request body must be a JSON object');
        send(response, 200, putEvents(parsed as Record<string, unknown>));
      })
      .catch((error: unknown) => {
        const apiError = error instanceof ApiError ? error : new ApiError('InternalException', (error as Error).message, 500);
        send(response, apiError.status, { __type: apiError.name, message: apiError.message });
      })
      .catch(() => response.destroy());
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => done());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `http://${host}:${port}`,
    deliveredFile,
    delivered: () => readDelivered(deliveredFile),
    setRules: (rules) => {
      ruleSource = rules;
    },
    redeliver: async (eventId) => {
      const event = readDelivered(deliveredFile).find((candidate) => candidate.EventId === eventId);
      if (!event) throw new Error(`redeliver: no delivered event ${eventId}`);
      return route(event);
    },
    idle: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    injectFailures: (failure) => {
      if (!Number.isInteger(failure.count) || failure.count < 1) throw new Error(`injectFailures: count must be a positive integer, got ${failure.count}`);
      failures.push({ ...failure });
    },
    stop: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** The events in an `eventbridge.jsonl` file (a torn last line from a crash is skipped). */
export function readDelivered(file: string): DeliveredEvent[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const events: DeliveredEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      events.push(JSON.parse(line) as DeliveredEvent);
    } catch {
      // torn line
    }
  }
  return events;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on('end', () =>
      size > MAX_BODY_BYTES ? reject(new ApiError('ValidationException', `Request body exceeds ${MAX_BODY_BYTES} bytes`)) : resolveBody(Buffer.concat(chunks)),
    );
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: object): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID() });
  response.end(text);
}
