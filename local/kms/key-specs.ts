// The key kinds this emulator can create, and what KMS reports for each.

export const SUPPORTED_KEY_SPECS = ['ECC_NIST_P256', 'HMAC_256'] as const;
export type SupportedKeySpec = (typeof SUPPORTED_KEY_SPECS)[number];

// Every spec KMS knows, so an unknown string is a ValidationException while a
// real-but-unimplemented spec is an UnsupportedOperationException.
export const ALL_KMS_KEY_SPECS = [
  'SYMMETRIC_DEFAULT',
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'ECC_NIST_P256',
  'ECC_NIST_P384',
  'ECC_NIST_P521',
  'ECC_SECG_P256K1',
  'ECC_NIST_EDWARDS25519',
  'HMAC_224',
  'HMAC_256',
  'HMAC_384',
  'HMAC_512',
  'SM2',
  'ML_DSA_44',
  'ML_DSA_65',
  'ML_DSA_87',
] as const;

export const ALL_KMS_KEY_USAGES = ['SIGN_VERIFY', 'ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT'] as const;
export type KmsKeyUsage = (typeof ALL_KMS_KEY_USAGES)[number];

export const ALL_SIGNING_ALGORITHMS = [
  'RSASSA_PSS_SHA_256',
  'RSASSA_PSS_SHA_384',
  'RSASSA_PSS_SHA_512',
  'RSASSA_PKCS1_V1_5_SHA_256',
  'RSASSA_PKCS1_V1_5_SHA_384',
  'RSASSA_PKCS1_V1_5_SHA_512',
  'ECDSA_SHA_256',
  'ECDSA_SHA_384',
  'ECDSA_SHA_512',
  'SM2DSA',
  'ML_DSA_SHAKE_256',
  'ED25519_SHA_512',
  'ED25519_PH_SHA_512',
] as const;

export const ALL_MAC_ALGORITHMS = ['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512'] as const;

export const MESSAGE_TYPES = ['RAW', 'DIGEST', 'EXTERNAL_MU'] as const;

export const ECDSA_SHA_256 = 'ECDSA_SHA_256' as const;
export const HMAC_SHA_256 = 'HMAC_SHA_256' as const;

export interface KeySpecProfile {
  keyUsage: KmsKeyUsage;
  signingAlgorithms?: readonly string[];
  macAlgorithms?: readonly string[];
}

export const KEY_SPEC_PROFILES: Record<SupportedKeySpec, KeySpecProfile> = {
  ECC_NIST_P256: { keyUsage: 'SIGN_VERIFY', signingAlgorithms: [ECDSA_SHA_256] },
  HMAC_256: { keyUsage: 'GENERATE_VERIFY_MAC', macAlgorithms: [HMAC_SHA_256] },
};

export function isSupportedKeySpec(spec: string): spec is SupportedKeySpec {
  return (SUPPORTED_KEY_SPECS as readonly string[]).includes(spec);
}
