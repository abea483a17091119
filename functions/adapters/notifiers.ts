import { appendFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { Notification, Notifier } from '../core/approvals/ports.ts';
import { TransientError } from '../core/errors.ts';
import { rethrowAwsError } from './aws-errors.ts';

/** The embedded stack's stand-in for Slack and SES: one JSON line per message, links included. */
export class RecordingNotifier implements Notifier {
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
  }

  async send(notification: Notification): Promise<void> {
    appendFileSync(this.#file, `${JSON.stringify({ at: new Date().toISOString(), ...notification })}\n`);
  }
}

/** Slack through an incoming webhook (Block Kit payload). */
export class SlackWebhookNotifier implements Notifier {
  readonly #url: string;

  constructor(url: string) {
    this.#url = url;
  }

  async send(notification: Notification): Promise<void> {
    if (notification.channel !== 'slack') return;
    const response = await fetch(this.#url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(notification.payload) });
    if (!response.ok) {
      const message = `Slack answered ${response.status}: ${(await response.text()).slice(0, 200)}`;
      if (response.status >= 500 || response.status === 429) throw new TransientError(message);
      throw new Error(message);
    }
  }
}

/**
 * Slack from functions with no internet route (AWS isolated subnets): the Block Kit message goes to
 * EventBridge (through its VPC endpoint), and a rule's API destination posts it to the webhook
 * (lib/approval-gate.ts).
 */
export class EventBridgeSlackNotifier implements Notifier {
  static readonly SOURCE = 'maestro.notifications';
  static readonly DETAIL_TYPE = 'SlackMessage';
  readonly #events: EventBridgeClient;
  readonly #bus: string;

  constructor(options: { client?: EventBridgeClient; eventBusName: string }) {
    this.#events = options.client ?? new EventBridgeClient({});
    this.#bus = options.eventBusName;
  }

  async send(notification: Notification): Promise<void> {
    if (notification.channel !== 'slack') return;
    try {
      const result = await this.#events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: this.#bus,
              Source: EventBridgeSlackNotifier.SOURCE,
              DetailType: EventBridgeSlackNotifier.DETAIL_TYPE,
              Detail: JSON.stringify(notification.payload),
            },
          ],
        }),
      );
      if (result.FailedEntryCount) throw new TransientError(`EventBridge refused the Slack message: ${result.Entries?.[0]?.ErrorMessage ?? 'unknown'}`);
    } catch (error) {
      rethrowAwsError(error, 'posting the Slack message to EventBridge');
    }
  }
}

/** Email through SES v2. */
export class SesEmailNotifier implements Notifier {
  readonly #ses: SESv2Client;
  readonly #from: string;

  constructor(options: { client?: SESv2Client; from: string }) {
    this.#ses = options.client ?? new SESv2Client({});
    this.#from = options.from;
  }

  async send(notification: Notification): Promise<void> {
    if (notification.channel !== 'email') return;
    try {
      await this.#ses.send(
        new SendEmailCommand({
          FromEmailAddress: this.#from,
          Destination: { ToAddresses: [notification.to] },
          Content: { Simple: { Subject: { Data: notification.subject }, Body: { Text: { Data: notification.text }, Html: { Data: notification.html } } } },
        }),
      );
    } catch (error) {
      rethrowAwsError(error, `emailing ${notification.to}`);
    }
  }
}

/** Sends each message to every notifier that handles its channel. */
export class FanOutNotifier implements Notifier {
  readonly #notifiers: readonly Notifier[];

  constructor(notifiers: readonly Notifier[]) {
    this.#notifiers = notifiers;
  }

  async send(notification: Notification): Promise<void> {
    for (const notifier of this.#notifiers) await notifier.send(notification);
  }
}
