// Errors the emulator sends back, named exactly as KMS names them so the SDK
// maps each one to its modeled exception class.

export const KMS_ERROR_TYPES = [
  'AlreadyExistsException',
  'DryRunOperationException',
  'InvalidAliasNameException',
  'InvalidKeyUsageException',
  'KMSInternalException',
  'KMSInvalidMacException',
  'KMSInvalidSignatureException',
  'NotFoundException',
  'UnsupportedOperationException',
  'ValidationException',
] as const;

export type KmsErrorType = (typeof KMS_ERROR_TYPES)[number];

export class KmsError extends Error {
  readonly type: KmsErrorType;
  readonly statusCode: number;

  constructor(type: KmsErrorType, message: string, statusCode = 400) {
    super(message);
    this.name = type;
    this.type = type;
    this.statusCode = statusCode;
  }
}

export function validationError(message: string): KmsError {
  return new KmsError('ValidationException', message);
}
