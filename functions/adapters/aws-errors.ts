import { TransientError } from '../core/errors.ts';

const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'SlowDown',
  'RequestTimeout',
  'TimeoutError',
]);
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

/** True for SDK and network failures that a retry may cure. */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const code = (error as { code?: string }).code;
  return TRANSIENT_NAMES.has(error.name) || (status !== undefined && status >= 500) || (code !== undefined && TRANSIENT_CODES.has(code));
}

/**
 * Adapters call this on any SDK failure they do not turn into a domain error of their own: SDK
 * exceptions never leak upward, transient ones become TransientError so the workflow retries them.
 */
export function rethrowAwsError(error: unknown, doing: string): never {
  if (isTransientAwsError(error)) {
    throw new TransientError(`${doing}: ${(error as Error).name}: ${(error as Error).message}`, { cause: error });
  }
  throw error;
}
