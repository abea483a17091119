import { StateMachine } from 'aws-local-stepfunctions';
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { isLambdaFunctionArn } from './arns.ts';

/** How a Task state's Resource is run locally. */
export type TaskKind = 'invoke' | 'callback' | 'function' | 'unsupported';

export const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
export const LAMBDA_INVOKE_CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/**
 * Node's timers hold at most 2^31-1 ms (about 24.8 days); longer delays overflow and fire at once,
 * so every timeout here is clamped to this.
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export interface TaskStateInfo {
  stateName: string;
  kind: TaskKind;
  resource: string;
  timeoutSeconds?: number;
  timeoutSecondsPath?: string;
  heartbeatSeconds?: number;
  heartbeatSecondsPath?: string;
}

export interface PreparedStateMachine {
  name: string;
  arn: string;
  roleArn: string;
  /** The definition handed to aws-local-stepfunctions (task timeouts moved out, see prepareStateMachine). */
  runtimeDefinition: StateMachineDefinition;
  startAt: string;
  topLevelStates: ReadonlySet<string>;
  /** Every Task state, nested ones included, by name (names are unique across the whole machine). */
  tasks: ReadonlyMap<string, TaskStateInfo>;
}

type JsonObject = Record<string, unknown>;

/**
 * Definitions asl-validator has accepted, by their text, as it left them (it sets each state's
 * QueryLanguage). It compiles its JSON schemas anew on every call (about a second of CPU for the run
 * workflow), and every embedded stack start validates the same three workflows: once per process is enough.
 */
const ACCEPTED_DEFINITIONS = new Map<string, string>();

interface StatesBlock {
  StartAt: string;
  States: Record<string, JsonObject>;
}

export function classifyResource(resource: string): TaskKind {
  if (resource === LAMBDA_INVOKE) return 'invoke';
  if (resource === LAMBDA_INVOKE_CALLBACK) return 'callback';
  if (isLambdaFunctionArn(resource)) return 'function';
  return 'unsupported';
}

/** The nested state blocks of a Map (ItemProcessor or the older Iterator) or Parallel (Branches) state. */
function nestedBlocks(state: JsonObject): StatesBlock[] {
  if (state.Type === 'Map') {
    const processor = (state.ItemProcessor ?? state.Iterator) as StatesBlock | undefined;
    return processor ? [processor] : [];
  }
  if (state.Type === 'Parallel') return (state.Branches as StatesBlock[] | undefined) ?? [];
  return [];
}

/**
 * Validates an ASL definition and derives what the local runner needs: every Task state (at any
 * depth, because aws-local-stepfunctions looks task overrides up by state name, nested ones too), and a
 * runtime copy in which each Task's own timeouts are removed. The library would otherwise time every
 * task out after 60 s (AWS has no such default) and cannot do heartbeats; the local task handlers
 * enforce TimeoutSeconds and HeartbeatSeconds themselves and can clear their timers on abort.
 */
export function prepareStateMachine(options: { name: string; arn: string; roleArn: string; definition: string }): PreparedStateMachine {
  let parsed: JsonObject;
  try {
    parsed = JSON.parse(options.definition) as JsonObject;
  } catch (error) {
    throw new Error(`State machine ${options.name}: definition is not JSON: ${(error as Error).message}`);
  }
  if (parsed.QueryLanguage === 'JSONata') {
    throw new Error(`State machine ${options.name}: JSONata is not supported locally (aws-local-stepfunctions runs JSONPath only)`);
  }
  const accepted = ACCEPTED_DEFINITIONS.get(options.definition);
  if (accepted) parsed = JSON.parse(accepted) as JsonObject;
  else {
    try {
      // Constructing validates (asl-validator) and throws with the list of problems.
      new StateMachine(parsed as unknown as StateMachineDefinition);
    } catch (error) {
      throw new Error(`State machine ${options.name}: ${(error as Error).message}`);
    }
    ACCEPTED_DEFINITIONS.set(options.definition, JSON.stringify(parsed));
  }

  const runtimeDefinition = structuredClone(parsed) as unknown as StatesBlock & JsonObject;
  const tasks = new Map<string, TaskStateInfo>();
  const seen = new Set<string>();
  const visit = (block: StatesBlock): void => {
    for (const [stateName, state] of Object.entries(block.States)) {
      if (seen.has(stateName)) {
        throw new Error(`State machine ${options.name}: state name '${stateName}' is used twice; names must be unique across the whole machine`);
      }
      seen.add(stateName);
      if (state.Type === 'Task') {
        const resource = String(state.Resource);
        tasks.set(stateName, {
          stateName,
          kind: classifyResource(resource),
          resource,
          timeoutSeconds: state.TimeoutSeconds as number | undefined,
          timeoutSecondsPath: state.TimeoutSecondsPath as string | undefined,
          heartbeatSeconds: state.HeartbeatSeconds as number | undefined,
          heartbeatSecondsPath: state.HeartbeatSecondsPath as string | undefined,
        });
        delete state.TimeoutSecondsPath;
        delete state.HeartbeatSeconds;
        delete state.HeartbeatSecondsPath;
        state.TimeoutSeconds = MAX_TIMER_SECONDS;
      }
      for (const nested of nestedBlocks(state)) visit(nested);
    }
  };
  visit(runtimeDefinition);

  return {
    name: options.name,
    arn: options.arn,
    roleArn: options.roleArn,
    runtimeDefinition: runtimeDefinition as unknown as StateMachineDefinition,
    startAt: runtimeDefinition.StartAt,
    topLevelStates: new Set(Object.keys(runtimeDefinition.States)),
    tasks,
  };
}

/**
 * The runtime definition starting at `stateName` instead of StartAt, to carry an execution on from
 * the state it was in. States before it become unreachable, which asl-validator refuses, so callers
 * run it with `noValidate` (the full definition was validated in prepareStateMachine).
 */
export function definitionStartingAt(machine: PreparedStateMachine, stateName: string): StateMachineDefinition {
  return { ...machine.runtimeDefinition, StartAt: stateName };
}
