/**
 * What the deploy and configuration actions may touch outside Maestro, as interfaces: a Lambda
 * alias and the versions it routes to, SSM parameters with their history, and CloudWatch alarm
 * states. Adapters implement them on the AWS SDK; every SDK failure becomes a domain error there
 * (StalePlan, ConcurrentModification, ActionFailed, TransientError) and never reaches an action.
 */

/** Where an alias sends its traffic: a primary version, and during a shift one more version taking a share. */
export interface AliasRouting {
  readonly functionName: string;
  readonly aliasName: string;
  readonly primaryVersion: string;
  /** Present only while traffic is split; `weight` is the share (0..1) the additional version takes. */
  readonly additional?: { readonly version: string; readonly weight: number };
  /** Changes with every update of the alias; passing it back updates only the alias that was read. */
  readonly revisionId: string;
}

export interface SetAliasRoutingRequest {
  readonly functionName: string;
  readonly aliasName: string;
  readonly primaryVersion: string;
  /** Omit to send all traffic to the primary version. */
  readonly additional?: { readonly version: string; readonly weight: number };
  /** The revision read before; the update is refused with StalePlan if the alias moved since. */
  readonly expectedRevisionId: string;
}

export interface AliasStore {
  /** undefined when the function or the alias does not exist. */
  getAlias(functionName: string, aliasName: string): Promise<AliasRouting | undefined>;
  /** Published version numbers, ascending ($LATEST is not a version one can shift to). */
  listVersions(functionName: string): Promise<string[]>;
  /** Refuses with StalePlan when the alias changed since `expectedRevisionId` was read. */
  setRouting(request: SetAliasRoutingRequest): Promise<AliasRouting>;
}

export type ParameterType = 'String' | 'StringList' | 'SecureString';

export interface ParameterValue {
  readonly name: string;
  /** Plaintext, SecureString included (a rollback must be able to write it back). */
  readonly value: string;
  readonly type: ParameterType;
  readonly version: number;
  readonly lastModified: Date;
}

export interface PutParameterRequest {
  readonly name: string;
  readonly value: string;
  readonly type: ParameterType;
  /** false: create only, refused with StalePlan if the parameter exists by now. */
  readonly overwrite: boolean;
}

export interface ParameterStore {
  /** The current version, or undefined when the parameter does not exist. */
  get(name: string): Promise<ParameterValue | undefined>;
  /** One version from the history, or undefined when it is gone (or never was). */
  getVersion(name: string, version: number): Promise<ParameterValue | undefined>;
  /** Writes a new version and returns its number. */
  put(request: PutParameterRequest): Promise<{ version: number }>;
  /** Deletes the parameter with its history; false when there was nothing to delete. */
  delete(name: string): Promise<boolean>;
}

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface AlarmStatus {
  readonly name: string;
  readonly state: AlarmState;
  readonly reason: string;
  readonly updatedAt: Date;
}

export interface AlarmReader {
  /** The named alarms' current states, in the order asked; a name with no alarm is listed in `missing`. */
  read(names: readonly string[]): Promise<{ alarms: AlarmStatus[]; missing: string[] }>;
}
