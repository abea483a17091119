// Secret key material: generated once, stored as JSON, loaded into node:crypto objects.

import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import type { SupportedKeySpec } from './key-specs.ts';
import { isOnCurve } from './ecdsa-p256-digest.ts';
import type { AffinePoint } from './ecdsa-p256-digest.ts';

const HMAC_256_KEY_BYTES = 32;

/** What goes into the key file. */
export type StoredKeyMaterial = { keySpec: 'ECC_NIST_P256'; privateKeyJwk: JsonWebKey } | { keySpec: 'HMAC_256'; secretBase64: string };

export interface EcP256KeyMaterial {
  keySpec: 'ECC_NIST_P256';
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The raw scalar and point, for signing and verifying pre-hashed digests. */
  privateScalar: bigint;
  publicPoint: AffinePoint;
  /** SubjectPublicKeyInfo, what GetPublicKey returns. */
  publicKeyDer: Buffer;
}

export interface Hmac256KeyMaterial {
  keySpec: 'HMAC_256';
  secret: Buffer;
}

export type KeyMaterial = EcP256KeyMaterial | Hmac256KeyMaterial;

export function generateKeyMaterial(keySpec: SupportedKeySpec): StoredKeyMaterial {
  if (keySpec === 'ECC_NIST_P256') {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { keySpec, privateKeyJwk: privateKey.export({ format: 'jwk' }) };
  }
  return { keySpec, secretBase64: randomBytes(HMAC_256_KEY_BYTES).toString('base64') };
}

export function loadKeyMaterial(stored: StoredKeyMaterial): KeyMaterial {
  if (stored.keySpec === 'ECC_NIST_P256') return loadEcP256(stored.privateKeyJwk);
  if (stored.keySpec === 'HMAC_256') {
    const secret = Buffer.from(stored.secretBase64, 'base64');
    if (secret.length !== HMAC_256_KEY_BYTES) throw new Error(`HMAC_256 key must be ${HMAC_256_KEY_BYTES} bytes`);
    return { keySpec: 'HMAC_256', secret };
  }
  throw new Error(`unsupported key spec ${(stored as { keySpec: unknown }).keySpec}`);
}

function loadEcP256(jwk: JsonWebKey): EcP256KeyMaterial {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d || !jwk.x || !jwk.y) {
    throw new Error('ECC_NIST_P256 key must be a private P-256 JWK');
  }
  // createPrivateKey checks that d, x and y belong together.
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
  const publicKey = createPublicKey(privateKey);
  const publicPoint = { x: base64UrlToBigInt(jwk.x), y: base64UrlToBigInt(jwk.y) };
  if (!isOnCurve(publicPoint)) throw new Error('ECC_NIST_P256 public point is not on the curve');
  return {
    keySpec: 'ECC_NIST_P256',
    privateKey,
    publicKey,
    privateScalar: base64UrlToBigInt(jwk.d),
    publicPoint,
    publicKeyDer: publicKey.export({ format: 'der', type: 'spki' }),
  };
}

function base64UrlToBigInt(value: string): bigint {
  return BigInt(`0x${Buffer.from(value, 'base64url').toString('hex')}`);
}
