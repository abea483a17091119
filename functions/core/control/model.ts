/** The runtime control record: read on every admit and every apply, never cached past one call. */
export interface KillSwitchState {
  engaged: boolean;
  reason?: string;
  changedBy?: string;
  changedAt?: string;
}

/** An admin's written permission to change an environment during a freeze, until a time. */
export interface FreezeOverride {
  environment: string;
  justification: string;
  grantedBy: string;
  grantedAt: string;
  until: string;
}

export interface ControlState {
  killSwitch: KillSwitchState;
  freezeOverrides?: FreezeOverride[];
}

export interface ControlStore {
  /** The current control record, read strongly consistent; `initial` when none was ever written. */
  read(initial: ControlState): Promise<ControlState>;
  /** Sets the kill switch and appends an audit event to the control journal, in one transaction. */
  setKillSwitch(state: Required<KillSwitchState>, correlationId: string): Promise<ControlState>;
  /** Records a freeze override (expired ones are dropped) with an audit event, in one transaction. */
  addFreezeOverride(override: FreezeOverride, correlationId: string): Promise<ControlState>;
  /** The control journal (hash-chained like a run's events). */
  listEvents(): Promise<import('../runs/model.ts').RunEvent[]>;
}
