// An error a stand-in sends back: the AWS error code (the SDK turns it into
// the modeled exception class), the HTTP status, and who is at fault.

export class ServiceError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly fault: 'Sender' | 'Receiver';

  constructor(code: string, message: string, statusCode = 400) {
    super(message);
    this.name = 'ServiceError';
    this.code = code;
    this.statusCode = statusCode;
    this.fault = statusCode >= 500 ? 'Receiver' : 'Sender';
  }
}

/** Any non-ServiceError is a bug in the stand-in: log it and answer 500 with `code`. */
export function asServiceError(error: unknown, internalCode: string, owner: string): ServiceError {
  if (error instanceof ServiceError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${JSON.stringify({ level: 'ERROR', message: `${owner} internal error`, error: detail })}\n`);
  return new ServiceError(internalCode, `Internal error in the ${owner}`, 500);
}
