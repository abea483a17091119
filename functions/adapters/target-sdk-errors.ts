import { ActionFailed, TransientError } from '../core/errors.ts';
import { isTransientAwsError } from './aws-errors.ts';

// Throttling codes these services use besides the common ones aws-errors.ts knows.
const THROTTLED = new Set(['TooManyRequestsException', 'TooManyUpdates', 'ThrottledException']);

export const sdkErrorName = (error: unknown): string | undefined => (error instanceof Error ? error.name : undefined);

/**
 * The last word on an SDK failure in the target adapters (Lambda, SSM, CloudWatch): a retry may
 * cure it → TransientError; anything else → ActionFailed naming what was being done. The SDK
 * exception stays only as the cause.
 */
export function failTargetCall(error: unknown, doing: string): never {
  if (isTransientAwsError(error) || THROTTLED.has(sdkErrorName(error) ?? '')) {
    throw new TransientError(`${doing}: ${sdkErrorName(error)}: ${(error as Error).message}`, { cause: error });
  }
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (sdkErrorName(error) === 'AccessDeniedException' || status === 403) throw new ActionFailed(`${doing}: access denied`, { cause: error });
  throw new ActionFailed(`${doing}: ${sdkErrorName(error) ?? 'Error'}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
