// Cryptographic operations: Sign, Verify, GetPublicKey, GenerateMac, VerifyMac.

import { createHash, createHmac, sign, timingSafeEqual, verify } from 'node:crypto';
import { z } from 'zod';
import { KmsError, validationError } from './kms-errors.ts';
import { ALL_MAC_ALGORITHMS, ALL_SIGNING_ALGORITHMS, ECDSA_SHA_256, HMAC_SHA_256, KEY_SPEC_PROFILES, MESSAGE_TYPES } from './key-specs.ts';
import type { KmsKeyUsage } from './key-specs.ts';
import { keyArn } from './kms-arns.ts';
import { resolveKey } from './kms-context.ts';
import type { KmsContext, OperationHandler } from './kms-context.ts';
import type { EcP256KeyMaterial, Hmac256KeyMaterial } from './key-material.ts';
import type { LocalKmsKey } from './key-store.ts';
import { decodeDerSignature, encodeDerSignature } from './der-signature.ts';
import { signDigest, verifyDigest } from './ecdsa-p256-digest.ts';
import { blob, keyIdMember, parseRequest } from './request-parsing.ts';

const MAX_MESSAGE_BYTES = 4096;
const MAX_SIGNATURE_BYTES = 6144;
const SHA_256_DIGEST_BYTES = 32;

const signingFields = {
  KeyId: keyIdMember,
  Message: blob(1, MAX_MESSAGE_BYTES),
  MessageType: z.enum(MESSAGE_TYPES).optional(),
  SigningAlgorithm: z.enum(ALL_SIGNING_ALGORITHMS),
  DryRun: z.boolean().optional(),
};
const signRequest = z.object(signingFields);
const verifyRequest = z.object({ ...signingFields, Signature: blob(1, MAX_SIGNATURE_BYTES) });
const getPublicKeyRequest = z.object({ KeyId: keyIdMember });

const macFields = {
  KeyId: keyIdMember,
  Message: blob(1, MAX_MESSAGE_BYTES),
  MacAlgorithm: z.enum(ALL_MAC_ALGORITHMS),
  DryRun: z.boolean().optional(),
};
const generateMacRequest = z.object(macFields);
const verifyMacRequest = z.object({ ...macFields, Mac: blob(1, MAX_SIGNATURE_BYTES) });

function requireUsage(key: LocalKmsKey, usage: KmsKeyUsage, operation: string): void {
  if (key.keyUsage !== usage) {
    throw new KmsError('InvalidKeyUsageException', `KeyUsage ${key.keyUsage} of key ${key.keyId} is not compatible with ${operation}`);
  }
}

function throwIfDryRun(dryRun: boolean | undefined): void {
  if (dryRun) {
    throw new KmsError('DryRunOperationException', 'The request would have succeeded, but the DryRun option is set.', 412);
  }
}

interface SigningRequest {
  KeyId: string;
  Message: Buffer;
  MessageType?: (typeof MESSAGE_TYPES)[number];
  SigningAlgorithm: string;
}

function signingKey(context: KmsContext, request: SigningRequest, operation: string): { key: LocalKmsKey; material: EcP256KeyMaterial } {
  const key = resolveKey(context, request.KeyId);
  requireUsage(key, 'SIGN_VERIFY', operation);
  if (request.SigningAlgorithm !== ECDSA_SHA_256 || key.material.keySpec !== 'ECC_NIST_P256') {
    throw new KmsError('InvalidKeyUsageException', `Signing algorithm ${request.SigningAlgorithm} is not compatible with KeySpec ${key.keySpec}`);
  }
  if (request.MessageType === 'EXTERNAL_MU') throw validationError('MessageType EXTERNAL_MU is only valid for ML-DSA keys');
  if (request.MessageType === 'DIGEST' && request.Message.length !== SHA_256_DIGEST_BYTES) {
    throw validationError(`Digest is invalid length for algorithm ${ECDSA_SHA_256}.`);
  }
  return { key, material: key.material };
}

function isDigest(request: SigningRequest): boolean {
  return request.MessageType === 'DIGEST';
}

const signOperation: OperationHandler = async (context, input) => {
  const request = parseRequest(signRequest, input);
  const { key, material } = signingKey(context, request, 'Sign');
  throwIfDryRun(request.DryRun);
  // node:crypto always hashes its input, so a ready digest is signed by our own curve code.
  const signature = isDigest(request)
    ? encodeDerSignature(signDigest(request.Message, material.privateScalar))
    : sign('sha256', request.Message, { key: material.privateKey, dsaEncoding: 'der' });
  return {
    KeyId: keyArn(context.scope, key.keyId),
    Signature: signature.toString('base64'),
    SigningAlgorithm: ECDSA_SHA_256,
  };
};

const verifyOperation: OperationHandler = async (context, input) => {
  const request = parseRequest(verifyRequest, input);
  const { key, material } = signingKey(context, request, 'Verify');
  throwIfDryRun(request.DryRun);
  const valid = isDigest(request)
    ? verifyDigestSignature(request.Message, request.Signature, material)
    : verifyRawSignature(request.Message, request.Signature, material);
  if (!valid) throw new KmsError('KMSInvalidSignatureException', 'The signature is not valid for the message and key.');
  return {
    KeyId: keyArn(context.scope, key.keyId),
    SignatureValid: true,
    SigningAlgorithm: ECDSA_SHA_256,
  };
};

function verifyDigestSignature(digest: Buffer, signature: Buffer, material: EcP256KeyMaterial): boolean {
  const values = decodeDerSignature(signature);
  return values !== undefined && verifyDigest(digest, values, material.publicPoint);
}

function verifyRawSignature(message: Buffer, signature: Buffer, material: EcP256KeyMaterial): boolean {
  // Our own strict DER check first, so both message types accept exactly the same encodings.
  if (!decodeDerSignature(signature)) return false;
  try {
    return verify('sha256', message, { key: material.publicKey, dsaEncoding: 'der' }, signature);
  } catch {
    return false;
  }
}

const getPublicKey: OperationHandler = async (context, input) => {
  const request = parseRequest(getPublicKeyRequest, input);
  const key = resolveKey(context, request.KeyId);
  if (key.material.keySpec !== 'ECC_NIST_P256') {
    throw new KmsError('UnsupportedOperationException', `GetPublicKey is not supported for KeySpec ${key.keySpec}`);
  }
  return {
    KeyId: keyArn(context.scope, key.keyId),
    PublicKey: key.material.publicKeyDer.toString('base64'),
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    KeyUsage: key.keyUsage,
    SigningAlgorithms: KEY_SPEC_PROFILES[key.keySpec].signingAlgorithms,
  };
};

interface MacRequest {
  KeyId: string;
  MacAlgorithm: string;
}

function macKey(context: KmsContext, request: MacRequest, operation: string): { key: LocalKmsKey; material: Hmac256KeyMaterial } {
  const key = resolveKey(context, request.KeyId);
  requireUsage(key, 'GENERATE_VERIFY_MAC', operation);
  if (request.MacAlgorithm !== HMAC_SHA_256 || key.material.keySpec !== 'HMAC_256') {
    throw new KmsError('InvalidKeyUsageException', `MAC algorithm ${request.MacAlgorithm} is not compatible with KeySpec ${key.keySpec}`);
  }
  return { key, material: key.material };
}

function hmacSha256(secret: Buffer, message: Buffer): Buffer {
  return createHmac('sha256', secret).update(message).digest();
}

const generateMac: OperationHandler = async (context, input) => {
  const request = parseRequest(generateMacRequest, input);
  const { key, material } = macKey(context, request, 'GenerateMac');
  throwIfDryRun(request.DryRun);
  return {
    KeyId: keyArn(context.scope, key.keyId),
    Mac: hmacSha256(material.secret, request.Message).toString('base64'),
    MacAlgorithm: HMAC_SHA_256,
  };
};

const verifyMac: OperationHandler = async (context, input) => {
  const request = parseRequest(verifyMacRequest, input);
  const { key, material } = macKey(context, request, 'VerifyMac');
  throwIfDryRun(request.DryRun);
  const expected = hmacSha256(material.secret, request.Message);
  // Compare hashes of both so lengths match and the comparison stays constant-time.
  const valid = timingSafeEqual(sha256(expected), sha256(request.Mac)) && expected.length === request.Mac.length;
  if (!valid) throw new KmsError('KMSInvalidMacException', 'The MAC is not valid for the message and key.');
  return { KeyId: keyArn(context.scope, key.keyId), MacValid: true, MacAlgorithm: HMAC_SHA_256 };
};

function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

export const CRYPTO_OPERATIONS = {
  Sign: signOperation,
  Verify: verifyOperation,
  GetPublicKey: getPublicKey,
  GenerateMac: generateMac,
  VerifyMac: verifyMac,
} as const satisfies Record<string, OperationHandler>;
