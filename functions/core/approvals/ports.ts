/** Where approval messages go: Slack (incoming webhook) and email (SES), or a recording sink locally. */
export type Notification =
  | { channel: 'slack'; kind: NoticeKind; runId: string; payload: SlackMessage }
  | { channel: 'email'; kind: NoticeKind; runId: string; to: string; subject: string; text: string; html: string; links?: { approver: string; url: string }[] };

export type NoticeKind = 'approval-request' | 'approval-reminder' | 'approval-outcome';

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

export interface Notifier {
  send(notification: Notification): Promise<void>;
}

/** Single use of approval links: a nonce is spent once, by a conditional write. */
export interface LinkLedger {
  /** True the first time; false when the nonce was already spent. */
  spend(nonce: string, record: { runId: string; approver: string; at: string }): Promise<boolean>;
}
