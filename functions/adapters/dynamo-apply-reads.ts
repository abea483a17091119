import { TransactGetCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ControlState, FreezeOverride, KillSwitchState } from '../core/control/model.ts';
import type { QuiesceFlag } from '../core/dr/ports.ts';
import type { Run, Task } from '../core/runs/model.ts';
import type { ApplyReads, ApplySnapshot } from '../core/runs/ports.ts';
import { rethrowAwsError } from './aws-errors.ts';
import { fromItem, runKey, taskKey } from './dynamo-run-repository.ts';

import { CONTROL_KEY, quiesceKey } from './dynamo-gate-keys.ts';
import { lockKey, lockState } from './dynamo-lock-store.ts';

const QUIESCE_STORAGE = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'entity'];
/** DynamoDB's limit on the items of one TransactGetItems. */
const MAX_ITEMS = 100;

/**
 * What an apply decides on, in one TransactGetItems on the state table (a serializable read): the run,
 * its task, the control record and the quiesce flag of each configured DR target (flags are kept one
 * per target, `sk` = the target's name, and a backup only quiesces a configured target).
 */
export class DynamoApplyReads implements ApplyReads {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;
  readonly quiesceTargets: readonly string[];

  constructor(options: { client: DynamoDBDocumentClient; tableName: string; quiesceTargets: readonly string[] }) {
    if (options.quiesceTargets.length + 3 > MAX_ITEMS) throw new Error(`at most ${MAX_ITEMS - 3} DR targets fit in one apply read`);
    this.#db = options.client;
    this.#table = options.tableName;
    this.quiesceTargets = [...options.quiesceTargets];
  }

  async read(input: {
    runId: string;
    taskIndex: number;
    initialControl: ControlState;
    control?: boolean;
    quiesceFlags?: boolean;
    locks?: readonly string[];
  }): Promise<ApplySnapshot | undefined> {
    const withControl = input.control ?? true;
    const targets = (input.quiesceFlags ?? true) ? this.quiesceTargets : [];
    // The locks only while they fit beside everything else.
    const locks = input.locks && input.locks.length + targets.length + 3 <= MAX_ITEMS ? input.locks : [];
    const gets = [
      { Key: runKey(input.runId) },
      { Key: taskKey(input.runId, input.taskIndex) },
      // The control record without its journal's bookkeeping: the gate reads these two.
      ...(withControl ? [{ Key: CONTROL_KEY, ProjectionExpression: 'killSwitch, freezeOverrides, pk' }] : []),
      ...targets.map((target) => ({ Key: quiesceKey(target) })),
      ...locks.map((resource) => ({ Key: lockKey(resource) })),
    ];
    let items: (Record<string, unknown> | undefined)[];
    try {
      const result = await this.#db.send(new TransactGetCommand({ TransactItems: gets.map((get) => ({ Get: { TableName: this.#table, ...get } })) }));
      items = (result.Responses ?? []).map((response) => response?.Item);
    } catch (error) {
      return rethrowAwsError(error, `reading run ${input.runId} for its apply`);
    }
    const [run, task] = items;
    if (!run) return undefined;
    const control = withControl ? items[2] : undefined;
    const flagsFrom = withControl ? 3 : 2;
    const flags = items.slice(flagsFrom, flagsFrom + targets.length);
    return {
      run: fromItem<Run>(run),
      task: task ? fromItem<Task>(task) : undefined,
      ...(withControl
        ? {
            control: control
              ? {
                  killSwitch: (control.killSwitch as KillSwitchState | undefined) ?? input.initialControl.killSwitch,
                  freezeOverrides: (control.freezeOverrides as FreezeOverride[] | undefined) ?? [],
                }
              : input.initialControl,
          }
        : {}),
      ...((input.quiesceFlags ?? true) ? { quiesceFlags: flags.filter((flag) => flag !== undefined).map(stripQuiesce) } : {}),
      ...(locks.length > 0 ? { locks: items.slice(flagsFrom + targets.length).map(lockState) } : {}),
    };
  }
}

function stripQuiesce(item: Record<string, unknown>): QuiesceFlag {
  const copy = { ...item };
  for (const name of QUIESCE_STORAGE) delete copy[name];
  return copy as unknown as QuiesceFlag;
}
