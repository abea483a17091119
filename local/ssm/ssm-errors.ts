// Errors the SSM stand-in sends back, named exactly as SSM names them so the
// SDK maps each one to its modeled exception class.

import { ServiceError } from '../emulator-support/service-error.ts';

export const SSM_ERROR_CODES = [
  'HierarchyLevelLimitExceededException',
  'InternalServerError',
  'InvalidNextToken',
  'ParameterAlreadyExists',
  'ParameterMaxVersionLimitExceeded',
  'ParameterNotFound',
  'ParameterPatternMismatchException',
  'ParameterVersionLabelLimitExceeded',
  'ParameterVersionNotFound',
  'ValidationException',
] as const;

export type SsmErrorCode = (typeof SSM_ERROR_CODES)[number];

export function ssmError(code: SsmErrorCode, message: string): ServiceError {
  return new ServiceError(code, message, code === 'InternalServerError' ? 500 : 400);
}

export function parameterNotFound(name: string): ServiceError {
  return ssmError('ParameterNotFound', `Parameter ${name} not found.`);
}
