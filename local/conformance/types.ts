import type { Action, ActionContext, ActionExample } from '../../functions/core/actions/contract.ts';
import type { ParsedResource } from '../../functions/core/actions/resources.ts';
import type { ManagedResources } from '../../functions/core/config/managed-resources.ts';

/** The six rules every action must keep, in the order they are reported. */
export const CHECK_NAMES = ['plan-read-only', 'apply-idempotent', 'stale-plan', 'verify', 'rollback', 'managed-resources'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export type CheckStatus = 'pass' | 'fail' | 'skip';

/** What one check found: `skip` only where the rule has nothing to act on (a kind no entry knows, a plan that names nothing changeable). */
export interface CheckOutcome {
  status: CheckStatus;
  reason: string;
}

export interface CheckResult extends CheckOutcome {
  action: string;
  pack: string;
  /** The example's index in `action.examples`, from 0. */
  example: number;
  description: string;
  check: CheckName;
}

/** What the checks run over: one action, one of its examples, and which pack it came from. */
export interface CheckSubject {
  action: Action;
  pack: string;
  example: ActionExample<unknown>;
  exampleIndex: number;
}

/** The phase an action call belongs to; recorded commands carry it. */
export type Phase = 'plan' | 'apply' | 'apply-again' | 'verify' | 'rollback';

/** One SDK command an action's context sent, as the recording middleware saw it. */
export interface RecordedCommand {
  /** The service key of the kind table (`s3`, `dynamodb`). */
  service: string;
  /** Without the `Command` suffix: `PutObject`, `GetItem`. */
  command: string;
  phase: Phase;
  /** What the command touched, as a resource URI (`s3://b/k`, `dynamodb://t/{"id":"x"}`, `dynamodb://t`). */
  resource?: string;
  read: boolean;
  /** The service refused it (an error answer: a condition that did not hold, a missing resource): it changed nothing. */
  refused?: boolean;
}

/** One resource's state as the kit reads it out of band: `state` for rollback, `history` (versions too) for "nothing written". */
export interface ResourceSnapshot {
  state: unknown;
  history: unknown;
}

/**
 * One resource kind the kit can stand up, read and change out of band (one entry per kind in kinds.ts).
 * An entry is opened against the running services; what it opens feeds the action's context and the
 * kit's own out-of-band reads and writes.
 */
export interface ResourceKind {
  readonly kind: string;
  /** The embedded service the kind needs (the kit starts each needed service once). */
  readonly service?: ServiceName;
  /** The SDK commands of this kind's service that only read: any other, sent during plan, fails plan-read-only. */
  readonly readCommands: ReadonlySet<string>;
  /** The resource a command's input names (`Bucket`/`Key`, `TableName`/`Key`), as a URI; undefined if it names none. */
  resourceOf(input: Record<string, unknown>): string | undefined;
  /** Whether a resource of this kind (as declared) covers one a recorded command touched. */
  covers(declared: ParsedResource, touched: ParsedResource): boolean;
  /** The `managedResources` entry that manages the resource (for the gate check); undefined where another guard governs the kind (URLs: the egress guard). */
  manage(resource: ParsedResource): Partial<ManagedResources> | undefined;
  open(services: RunningServices, record: CommandSink): OpenedKind;
}

export interface OpenedKind {
  /** What this kind adds to the action's context (ports over the recording clients), for one call. */
  context(): Partial<ActionContext>;
  /** Empties and recreates what the resource lives in (a versioned bucket; a table keyed by `id`). */
  prepare(resource: ParsedResource): Promise<void>;
  snapshot(resource: ParsedResource): Promise<ResourceSnapshot>;
  /** Changes the resource out of band; false where it cannot (a whole table names no item to change). */
  perturb(resource: ParsedResource, nonce: string): Promise<boolean>;
  destroy(): void;
}

/** Where the recording middleware reports each command: the service key, the command name and its input. */
/** Records one command as it is sent; what it returns is told whether the service refused it. */
export type CommandSink = (service: string, command: string, input: Record<string, unknown>) => { refused?: boolean } | undefined;

export type ServiceName = 's3' | 'dynamodb' | 'ssm' | 'lambda' | 'cloudwatch';

export interface RunningServices {
  readonly endpoints: Partial<Record<ServiceName, string>>;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
}
