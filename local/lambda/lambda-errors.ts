// Errors the Lambda stand-in sends back, with the HTTP status Lambda gives
// each, so the SDK maps every one to its modeled exception class.

import { ServiceError } from '../emulator-support/service-error.ts';

const STATUS = {
  InvalidParameterValueException: 400,
  ValidationException: 400,
  ResourceNotFoundException: 404,
  UnknownOperationException: 404,
  ResourceConflictException: 409,
  PreconditionFailedException: 412,
  RequestTooLargeException: 413,
  ServiceException: 500,
} as const;

export type LambdaErrorCode = keyof typeof STATUS;

export function lambdaError(code: LambdaErrorCode, message: string): ServiceError {
  return new ServiceError(code, message, STATUS[code]);
}

export function staleRevision(what: 'function' | 'alias'): ServiceError {
  const read = what === 'alias' ? 'GetAlias' : 'GetFunction';
  return lambdaError(
    'PreconditionFailedException',
    `The Revision Id provided does not match the latest Revision Id. Call the ${read} API to retrieve the latest Revision Id`,
  );
}
