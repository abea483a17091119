/**
 * An error the Step Functions API reports to its caller: `type` becomes the `__type` of the
 * HTTP 400 body, which the AWS SDK turns into an exception of that name.
 */
export class SfnApiError extends Error {
  readonly type: string;

  constructor(type: string, message: string) {
    super(message);
    this.name = type;
    this.type = type;
  }
}

/**
 * An error raised inside a running state: its `name` is what Retry/Catch `ErrorEquals` match and its
 * message becomes the `Cause` (aws-local-stepfunctions reads exactly these two fields).
 */
export function stateError(name: string, cause: string): Error {
  const error = new Error(cause);
  error.name = name;
  return error;
}

/** Turns anything a local lambda may throw into the name/cause pair Step Functions reports. */
export function describeThrown(thrown: unknown): { error: string; cause: string } {
  if (thrown instanceof Error) {
    return { error: thrown.name || 'Error', cause: thrown.message };
  }
  if (typeof thrown === 'string') return { error: 'Error', cause: thrown };
  try {
    return { error: 'Error', cause: JSON.stringify(thrown) ?? String(thrown) };
  } catch {
    return { error: 'Error', cause: String(thrown) };
  }
}
