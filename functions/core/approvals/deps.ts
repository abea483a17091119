import type { LinkSigner } from './links.ts';
import type { LinkLedger, Notifier } from './ports.ts';

/** What the approval gate needs besides the run store and the engine. */
export interface ApprovalDeps {
  linkSigner: LinkSigner;
  notifier: Notifier;
  linkLedger: LinkLedger;
  /** Where links point (the API's public base URL). */
  publicUrl: string;
}

/** An approver's email address: the id itself when it is one, else a placeholder domain. */
export function emailOf(approver: string): string {
  return approver.includes('@') ? approver : `${approver}@approvers.maestro.invalid`;
}
