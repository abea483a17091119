// Errors the CloudWatch stand-in sends back. CloudWatch has two names for
// each: the shape name the JSON protocols put in __type, and the query-protocol
// code (sent in XML, and in x-amzn-query-error for query-compatible clients).

import { ServiceError } from '../emulator-support/service-error.ts';

const ERRORS = {
  ResourceNotFound: { queryCode: 'ResourceNotFound', status: 404 },
  InvalidFormatFault: { queryCode: 'InvalidFormat', status: 400 },
  InvalidNextToken: { queryCode: 'InvalidNextToken', status: 400 },
  InvalidParameterValueException: { queryCode: 'InvalidParameterValue', status: 400 },
  InvalidParameterCombinationException: { queryCode: 'InvalidParameterCombination', status: 400 },
  MissingRequiredParameterException: { queryCode: 'MissingParameter', status: 400 },
  LimitExceededFault: { queryCode: 'LimitExceeded', status: 400 },
  ValidationException: { queryCode: 'ValidationError', status: 400 },
  InvalidAction: { queryCode: 'InvalidAction', status: 400 },
  InternalServiceFault: { queryCode: 'InternalServiceError', status: 500 },
} as const;

export type CloudWatchErrorShape = keyof typeof ERRORS;

export class CloudWatchError extends ServiceError {
  readonly queryCode: string;

  constructor(shape: CloudWatchErrorShape, message: string) {
    super(shape, message, ERRORS[shape].status);
    this.name = 'CloudWatchError';
    this.queryCode = ERRORS[shape].queryCode;
  }
}

/** The query-protocol code for any error (a plain ServiceError keeps its code). */
export function queryCodeOf(error: ServiceError): string {
  return error instanceof CloudWatchError ? error.queryCode : error.code;
}

export function cloudWatchValidationError(message: string): CloudWatchError {
  return new CloudWatchError('ValidationException', message);
}
