// ECDSA over P-256 on a caller-supplied SHA-256 digest (KMS MessageType DIGEST).
// node:crypto always hashes the input itself, so signing a digest "as is" needs
// the curve arithmetic here. Not constant-time: fine for a loopback emulator,
// not for production keys. RAW messages go through node:crypto instead.

import { randomBytes } from 'node:crypto';
import type { EcdsaSignatureValues } from './der-signature.ts';

const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const GX = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n;
const GY = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n;

export interface AffinePoint {
  x: bigint;
  y: bigint;
}

// Jacobian coordinates (X/Z², Y/Z³) avoid a field inversion per step; Z = 0 is infinity.
interface JacobianPoint {
  x: bigint;
  y: bigint;
  z: bigint;
}

const INFINITY: JacobianPoint = { x: 1n, y: 1n, z: 0n };
const GENERATOR: JacobianPoint = { x: GX, y: GY, z: 1n };

function mod(value: bigint, modulus: bigint): bigint {
  const result = value % modulus;
  return result < 0n ? result + modulus : result;
}

function invert(value: bigint, modulus: bigint): bigint {
  let [oldR, r] = [mod(value, modulus), modulus];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  if (oldR !== 1n) throw new Error('value is not invertible');
  return mod(oldS, modulus);
}

function double(point: JacobianPoint): JacobianPoint {
  if (point.z === 0n || point.y === 0n) return INFINITY;
  const { x, y, z } = point;
  const ySquared = mod(y * y, P);
  const s = mod(4n * x * ySquared, P);
  const zSquared = mod(z * z, P);
  // a = -3 on P-256, so 3X² + aZ⁴ = 3(X - Z²)(X + Z²).
  const m = mod(3n * (x - zSquared) * (x + zSquared), P);
  const x3 = mod(m * m - 2n * s, P);
  const y3 = mod(m * (s - x3) - 8n * ySquared * ySquared, P);
  const z3 = mod(2n * y * z, P);
  return { x: x3, y: y3, z: z3 };
}

function add(first: JacobianPoint, second: JacobianPoint): JacobianPoint {
  if (first.z === 0n) return second;
  if (second.z === 0n) return first;
  const z1Squared = mod(first.z * first.z, P);
  const z2Squared = mod(second.z * second.z, P);
  const u1 = mod(first.x * z2Squared, P);
  const u2 = mod(second.x * z1Squared, P);
  const s1 = mod(first.y * z2Squared * second.z, P);
  const s2 = mod(second.y * z1Squared * first.z, P);
  if (u1 === u2) return s1 === s2 ? double(first) : INFINITY;
  const h = mod(u2 - u1, P);
  const r = mod(s2 - s1, P);
  const hSquared = mod(h * h, P);
  const hCubed = mod(hSquared * h, P);
  const x3 = mod(r * r - hCubed - 2n * u1 * hSquared, P);
  const y3 = mod(r * (u1 * hSquared - x3) - s1 * hCubed, P);
  const z3 = mod(h * first.z * second.z, P);
  return { x: x3, y: y3, z: z3 };
}

function multiply(point: JacobianPoint, scalar: bigint): JacobianPoint {
  let result = INFINITY;
  let addend = point;
  for (let k = scalar; k > 0n; k >>= 1n) {
    if (k & 1n) result = add(result, addend);
    addend = double(addend);
  }
  return result;
}

function toAffine(point: JacobianPoint): AffinePoint | undefined {
  if (point.z === 0n) return undefined;
  const zInverse = invert(point.z, P);
  const zInverseSquared = mod(zInverse * zInverse, P);
  return { x: mod(point.x * zInverseSquared, P), y: mod(point.y * zInverseSquared * zInverse, P) };
}

export function isOnCurve({ x, y }: AffinePoint): boolean {
  if (x < 0n || x >= P || y < 0n || y >= P) return false;
  return mod(y * y - (x * x * x - 3n * x + B), P) === 0n;
}

export function publicPointOf(privateScalar: bigint): AffinePoint {
  const point = toAffine(multiply(GENERATOR, privateScalar));
  if (!point) throw new Error('private scalar out of range');
  return point;
}

// A 32-byte digest is exactly the bit length of N, so no truncation is needed.
function digestToScalar(digest: Uint8Array): bigint {
  if (digest.length !== 32) throw new Error('P-256 digest must be 32 bytes');
  return BigInt(`0x${Buffer.from(digest).toString('hex')}`);
}

function randomNonce(): bigint {
  for (;;) {
    const candidate = BigInt(`0x${randomBytes(32).toString('hex')}`);
    if (candidate > 0n && candidate < N) return candidate;
  }
}

export function signDigest(digest: Uint8Array, privateScalar: bigint): EcdsaSignatureValues {
  const e = digestToScalar(digest);
  for (;;) {
    const k = randomNonce();
    const point = toAffine(multiply(GENERATOR, k));
    if (!point) continue;
    const r = mod(point.x, N);
    if (r === 0n) continue;
    const s = mod(invert(k, N) * (e + r * privateScalar), N);
    if (s === 0n) continue;
    return { r, s };
  }
}

export function verifyDigest(digest: Uint8Array, { r, s }: EcdsaSignatureValues, publicPoint: AffinePoint): boolean {
  if (r <= 0n || r >= N || s <= 0n || s >= N) return false;
  if (!isOnCurve(publicPoint)) return false;
  const e = digestToScalar(digest);
  const w = invert(s, N);
  const sum = add(multiply(GENERATOR, mod(e * w, N)), multiply({ x: publicPoint.x, y: publicPoint.y, z: 1n }, mod(r * w, N)));
  const point = toAffine(sum);
  return point !== undefined && mod(point.x, N) === r;
}
