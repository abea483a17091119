import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { ErrorCategory } from '../core/errors.ts';
import type { ErrorCategory as ErrorCategoryType } from '../core/errors.ts';
import { OUTBOX_SOURCE } from '../core/outbox/model.ts';
import type { DeliveryFailure, OutboxMessage, PublishResult } from '../core/outbox/model.ts';
import type { EventPublisher } from '../core/outbox/ports.ts';
import { isTransientAwsError } from './aws-errors.ts';
import { own } from '../core/own.ts';

/** PutEvents takes at most 10 entries per call. */
const MAX_ENTRIES_PER_CALL = 10;

const CATEGORY_OF_CODE: Record<string, ErrorCategoryType> = {
  ThrottlingException: ErrorCategory.transient,
  InternalFailure: ErrorCategory.transient,
  InternalException: ErrorCategory.transient,
  ServiceUnavailable: ErrorCategory.transient,
  AccessDeniedException: ErrorCategory.policy,
  NotAuthorizedForSourceException: ErrorCategory.policy,
  KMSAccessDeniedException: ErrorCategory.policy,
  ResourceNotFoundException: ErrorCategory.dependency,
  MalformedDetail: ErrorCategory.validation,
  ValidationException: ErrorCategory.validation,
  InvalidArgument: ErrorCategory.validation,
};

/** The category of a PutEvents entry error code: what decides whether the relay retries it. */
export function categoryOfPutEventsError(code: string | undefined): ErrorCategoryType {
  return (code === undefined ? undefined : own(CATEGORY_OF_CODE, code)) ?? ErrorCategory.dependency;
}

/**
 * Publishes outbox messages to an EventBridge bus: `Source` maestro, `DetailType` the event type,
 * `Detail` the message (its `id` is what consumers dedupe on). Entry failures and failed calls come
 * back as results with a category; nothing is thrown.
 */
export class EventBridgePublisher implements EventPublisher {
  readonly #client: EventBridgeClient;
  readonly #eventBusName: string;

  constructor(options: { client: EventBridgeClient; eventBusName: string }) {
    this.#client = options.client;
    this.#eventBusName = options.eventBusName;
  }

  async publish(messages: readonly OutboxMessage[]): Promise<PublishResult[]> {
    const results: PublishResult[] = [];
    for (let start = 0; start < messages.length; start += MAX_ENTRIES_PER_CALL) {
      results.push(...(await this.#publishBatch(messages.slice(start, start + MAX_ENTRIES_PER_CALL))));
    }
    return results;
  }

  async #publishBatch(messages: readonly OutboxMessage[]): Promise<PublishResult[]> {
    const entries: PutEventsRequestEntry[] = messages.map((message) => ({
      EventBusName: this.#eventBusName,
      Source: OUTBOX_SOURCE,
      DetailType: message.type,
      Detail: JSON.stringify(message),
      Time: new Date(message.ts),
      Resources: [],
    }));
    try {
      const response = await this.#client.send(new PutEventsCommand({ Entries: entries }));
      return messages.map((_, index) => {
        const entry = response.Entries?.[index];
        if (entry?.EventId && !entry.ErrorCode) return { ok: true };
        const failure: DeliveryFailure = {
          name: entry?.ErrorCode ?? 'NoEventId',
          message: entry?.ErrorMessage ?? 'EventBridge returned no event id for this entry',
          category: categoryOfPutEventsError(entry?.ErrorCode),
        };
        return { ok: false, error: failure };
      });
    } catch (error) {
      const failure: DeliveryFailure = {
        name: error instanceof Error ? error.name : 'Error',
        message: error instanceof Error ? error.message : String(error),
        category: isTransientAwsError(error) ? ErrorCategory.transient : categoryOfPutEventsError(error instanceof Error ? error.name : undefined),
      };
      return messages.map(() => ({ ok: false, error: failure }));
    }
  }
}
