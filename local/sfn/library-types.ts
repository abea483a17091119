import type { StateMachine } from 'aws-local-stepfunctions';

/**
 * Types aws-local-stepfunctions uses but does not export by name, derived from what it does export.
 */
type RunHandle = ReturnType<StateMachine['run']>;
export type EventLog = RunHandle['eventLogs'] extends AsyncGenerator<infer Event> ? Event : never;
export type RunOptions = NonNullable<Parameters<StateMachine['run']>[1]>;
export type JsonValue = Parameters<StateMachine['run']>[0];
