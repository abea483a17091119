// A function's code as metadata: its SHA-256 and size. The stand-in runs no
// code and does not read S3 or ECR, so for an S3 or image location the hash
// is taken over the location itself (a new location is new code).

import { createHash } from 'node:crypto';
import { z } from 'zod';
import { lambdaError } from './lambda-errors.ts';
import type { CodeLocation } from './function-document.ts';

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// Every zip starts with a local file header or, when empty, the end-of-directory record.
const ZIP_SIGNATURES = [Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from([0x50, 0x4b, 0x05, 0x06])];

export const codeSourceMembers = {
  ZipFile: z.string().regex(BASE64_PATTERN, 'Member must be base64-encoded').optional(),
  S3Bucket: z.string().min(3).max(63).optional(),
  S3Key: z.string().min(1).max(1024).optional(),
  S3ObjectVersion: z.string().min(1).max(1024).optional(),
  ImageUri: z.string().min(1).optional(),
};

export interface CodeSource {
  ZipFile?: string;
  S3Bucket?: string;
  S3Key?: string;
  S3ObjectVersion?: string;
  ImageUri?: string;
}

export interface CodeMetadata {
  codeSha256: string;
  codeSize: number;
  codeLocation: CodeLocation;
}

export function describeCode(source: CodeSource): CodeMetadata {
  const fromZip = source.ZipFile !== undefined;
  const fromS3 = source.S3Bucket !== undefined || source.S3Key !== undefined;
  const fromImage = source.ImageUri !== undefined;
  if (Number(fromZip) + Number(fromS3) + Number(fromImage) !== 1) {
    throw lambdaError('InvalidParameterValueException', 'Please provide a source for function code: exactly one of ZipFile, S3Bucket with S3Key, or ImageUri.');
  }
  if (fromZip) {
    const bytes = Buffer.from(source.ZipFile!, 'base64');
    if (!ZIP_SIGNATURES.some((signature) => bytes.subarray(0, 4).equals(signature))) {
      throw lambdaError('InvalidParameterValueException', 'Could not unzip uploaded file. Please check your file, then try to upload again.');
    }
    return { codeSha256: sha256Base64(bytes), codeSize: bytes.length, codeLocation: { kind: 'zip' } };
  }
  if (fromS3) {
    if (source.S3Bucket === undefined || source.S3Key === undefined) {
      throw lambdaError('InvalidParameterValueException', 'S3Bucket and S3Key must be given together.');
    }
    const location = `s3://${source.S3Bucket}/${source.S3Key}${source.S3ObjectVersion ? `?versionId=${source.S3ObjectVersion}` : ''}`;
    return {
      codeSha256: sha256Base64(Buffer.from(location)),
      codeSize: 0,
      codeLocation: { kind: 's3', bucket: source.S3Bucket, key: source.S3Key, ...(source.S3ObjectVersion ? { objectVersion: source.S3ObjectVersion } : {}) },
    };
  }
  return { codeSha256: sha256Base64(Buffer.from(source.ImageUri!)), codeSize: 0, codeLocation: { kind: 'image', imageUri: source.ImageUri! } };
}

function sha256Base64(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64');
}
