import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AlreadyExistsException,
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  GenerateMacCommand,
  GetPublicKeyCommand,
  InvalidAliasNameException,
  InvalidKeyUsageException,
  KMSInvalidMacException,
  KMSInvalidSignatureException,
  ListAliasesCommand,
  ListKeysCommand,
  NotFoundException,
  SignCommand,
  UnsupportedOperationException,
  VerifyCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import type { KMSClient } from '@aws-sdk/client-kms';
import { MAESTRO_KMS_KEYS, createLocalKmsClient, ensureKmsKey, startKmsEmulator } from '../../../local/kms/kms-emulator.ts';
import type { RunningKmsEmulator } from '../../../local/kms/kms-emulator.ts';

const message = Buffer.from('manifest: parts=3 sha256=abc');
// KMS sends ValidationException, a common AWS error the KMS model does not declare,
// so the SDK surfaces it as a generic service exception carrying the name.
const validationException = { name: 'ValidationException', $metadata: { httpStatusCode: 400 } };
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest();

async function createEccKey(client: KMSClient): Promise<string> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
  return KeyMetadata!.KeyId!;
}

async function createHmacKey(client: KMSClient): Promise<string> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }));
  return KeyMetadata!.KeyId!;
}

async function sign(client: KMSClient, keyId: string, bytes: Uint8Array, messageType: 'RAW' | 'DIGEST' = 'RAW') {
  const { Signature } = await client.send(new SignCommand({ KeyId: keyId, Message: bytes, MessageType: messageType, SigningAlgorithm: 'ECDSA_SHA_256' }));
  return Signature!;
}

function verifyCommand(keyId: string, bytes: Uint8Array, signature: Uint8Array, messageType: 'RAW' | 'DIGEST' = 'RAW') {
  return new VerifyCommand({ KeyId: keyId, Message: bytes, MessageType: messageType, Signature: signature, SigningAlgorithm: 'ECDSA_SHA_256' });
}

async function postRaw(url: string, target: string | undefined, body: string, method = 'POST') {
  const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1' };
  if (target) headers['x-amz-target'] = target;
  const response = await fetch(url, { method, headers, body: method === 'GET' ? undefined : body });
  return { status: response.status, errorType: response.headers.get('x-amzn-errortype'), body: (await response.json()) as Record<string, unknown> };
}

describe('KMS emulator', () => {
  let dataDir: string;
  let emulator: RunningKmsEmulator;
  let client: KMSClient;
  let eccKeyId: string;
  let hmacKeyId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'maestro-kms-'));
    emulator = await startKmsEmulator({ dataDir, port: 0 });
    client = createLocalKmsClient(emulator);
    eccKeyId = await createEccKey(client);
    hmacKeyId = await createHmacKey(client);
  });

  afterAll(async () => {
    client?.destroy();
    await emulator?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates both key kinds and describes them as KMS does', async () => {
    const ecc = (await client.send(new DescribeKeyCommand({ KeyId: eccKeyId }))).KeyMetadata!;
    expect(ecc).toMatchObject({
      KeyId: eccKeyId,
      Arn: `arn:aws:kms:us-east-1:000000000000:key/${eccKeyId}`,
      AWSAccountId: '000000000000',
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      KeyState: 'Enabled',
      Enabled: true,
      SigningAlgorithms: ['ECDSA_SHA_256'],
    });
    expect(ecc.CreationDate).toBeInstanceOf(Date);
    expect(Math.abs(ecc.CreationDate!.getTime() - Date.now())).toBeLessThan(60_000);

    const hmac = (await client.send(new DescribeKeyCommand({ KeyId: hmacKeyId }))).KeyMetadata!;
    expect(hmac).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', MacAlgorithms: ['HMAC_SHA_256'] });

    const { Keys } = await client.send(new ListKeysCommand({}));
    expect(Keys!.map((key) => key.KeyId)).toEqual(expect.arrayContaining([eccKeyId, hmacKeyId]));
  });

  it('pages ListKeys with Limit and Marker', async () => {
    const first = await client.send(new ListKeysCommand({ Limit: 1 }));
    expect(first.Keys).toHaveLength(1);
    expect(first.Truncated).toBe(true);
    const second = await client.send(new ListKeysCommand({ Limit: 1, Marker: first.NextMarker }));
    expect(second.Keys![0].KeyId).not.toBe(first.Keys![0].KeyId);
  });

  it('signs RAW and DIGEST messages and verifies them', async () => {
    const rawSignature = await sign(client, eccKeyId, message, 'RAW');
    const digestSignature = await sign(client, eccKeyId, sha256(message), 'DIGEST');

    const raw = await client.send(verifyCommand(eccKeyId, message, rawSignature, 'RAW'));
    expect(raw).toMatchObject({ SignatureValid: true, SigningAlgorithm: 'ECDSA_SHA_256', KeyId: `arn:aws:kms:us-east-1:000000000000:key/${eccKeyId}` });
    expect((await client.send(verifyCommand(eccKeyId, sha256(message), digestSignature, 'DIGEST'))).SignatureValid).toBe(true);
    // DIGEST of sha256(m) is the same ECDSA signature space as RAW m, as on KMS.
    expect((await client.send(verifyCommand(eccKeyId, message, digestSignature, 'RAW'))).SignatureValid).toBe(true);
    expect((await client.send(verifyCommand(eccKeyId, sha256(message), rawSignature, 'DIGEST'))).SignatureValid).toBe(true);
  });

  it('rejects a tampered message or signature with KMSInvalidSignatureException', async () => {
    const signature = await sign(client, eccKeyId, message);
    const tampered = Buffer.from(message);
    tampered[0] ^= 1;
    await expect(client.send(verifyCommand(eccKeyId, tampered, signature))).rejects.toBeInstanceOf(KMSInvalidSignatureException);

    const tamperedDigest = sha256(message);
    tamperedDigest[5] ^= 1;
    await expect(client.send(verifyCommand(eccKeyId, tamperedDigest, signature, 'DIGEST'))).rejects.toBeInstanceOf(KMSInvalidSignatureException);

    await expect(client.send(verifyCommand(eccKeyId, message, Buffer.from('not a DER signature')))).rejects.toBeInstanceOf(KMSInvalidSignatureException);
    // A signature from another key must not verify either.
    const otherKeyId = await createEccKey(client);
    await expect(client.send(verifyCommand(otherKeyId, message, signature))).rejects.toBeInstanceOf(KMSInvalidSignatureException);
  });

  it('refuses a DIGEST that is not 32 bytes', async () => {
    await expect(sign(client, eccKeyId, Buffer.alloc(31), 'DIGEST')).rejects.toMatchObject(validationException);
  });

  it('returns a DER SubjectPublicKeyInfo that node:crypto verifies KMS signatures with', async () => {
    const output = await client.send(new GetPublicKeyCommand({ KeyId: eccKeyId }));
    expect(output).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ECDSA_SHA_256'] });
    const publicKey = createPublicKey({ key: Buffer.from(output.PublicKey!), format: 'der', type: 'spki' });
    expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');

    const rawSignature = await sign(client, eccKeyId, message, 'RAW');
    const digestSignature = await sign(client, eccKeyId, sha256(message), 'DIGEST');
    for (const signature of [rawSignature, digestSignature]) {
      expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
      expect(verify('sha256', Buffer.from('other'), { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(false);
    }
  });

  it('generates and verifies HMAC_SHA_256 MACs', async () => {
    const { Mac, MacAlgorithm } = await client.send(new GenerateMacCommand({ KeyId: hmacKeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' }));
    expect(MacAlgorithm).toBe('HMAC_SHA_256');
    expect(Mac).toHaveLength(32);
    const again = await client.send(new GenerateMacCommand({ KeyId: hmacKeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' }));
    expect(Buffer.from(again.Mac!).equals(Buffer.from(Mac!))).toBe(true);

    const valid = await client.send(new VerifyMacCommand({ KeyId: hmacKeyId, Message: message, Mac: Mac!, MacAlgorithm: 'HMAC_SHA_256' }));
    expect(valid.MacValid).toBe(true);

    const wrongMac = Buffer.from(Mac!);
    wrongMac[0] ^= 1;
    await expect(client.send(new VerifyMacCommand({ KeyId: hmacKeyId, Message: message, Mac: wrongMac, MacAlgorithm: 'HMAC_SHA_256' }))).rejects.toBeInstanceOf(
      KMSInvalidMacException,
    );
    await expect(
      client.send(new VerifyMacCommand({ KeyId: hmacKeyId, Message: Buffer.from('other'), Mac: Mac!, MacAlgorithm: 'HMAC_SHA_256' })),
    ).rejects.toBeInstanceOf(KMSInvalidMacException);
    await expect(
      client.send(new VerifyMacCommand({ KeyId: hmacKeyId, Message: message, Mac: Buffer.from(Mac!).subarray(0, 16), MacAlgorithm: 'HMAC_SHA_256' })),
    ).rejects.toBeInstanceOf(KMSInvalidMacException);
  });

  it('resolves key ids, key ARNs, alias names and alias ARNs everywhere', async () => {
    await client.send(new CreateAliasCommand({ AliasName: 'alias/test-signing', TargetKeyId: eccKeyId }));
    await client.send(new CreateAliasCommand({ AliasName: 'alias/test-mac', TargetKeyId: `arn:aws:kms:us-east-1:000000000000:key/${hmacKeyId}` }));

    for (const identifier of [
      eccKeyId,
      `arn:aws:kms:us-east-1:000000000000:key/${eccKeyId}`,
      'alias/test-signing',
      'arn:aws:kms:us-east-1:000000000000:alias/test-signing',
    ]) {
      expect((await client.send(new DescribeKeyCommand({ KeyId: identifier }))).KeyMetadata!.KeyId).toBe(eccKeyId);
      const signature = await sign(client, identifier, message);
      expect((await client.send(verifyCommand(eccKeyId, message, signature))).SignatureValid).toBe(true);
    }
    const { Mac } = await client.send(new GenerateMacCommand({ KeyId: 'alias/test-mac', Message: message, MacAlgorithm: 'HMAC_SHA_256' }));
    expect((await client.send(new VerifyMacCommand({ KeyId: hmacKeyId, Message: message, Mac: Mac!, MacAlgorithm: 'HMAC_SHA_256' }))).MacValid).toBe(true);

    const { Aliases } = await client.send(new ListAliasesCommand({ KeyId: eccKeyId }));
    expect(Aliases).toEqual([
      expect.objectContaining({
        AliasName: 'alias/test-signing',
        AliasArn: 'arn:aws:kms:us-east-1:000000000000:alias/test-signing',
        TargetKeyId: eccKeyId,
      }),
    ]);

    await expect(client.send(new CreateAliasCommand({ AliasName: 'alias/test-signing', TargetKeyId: hmacKeyId }))).rejects.toBeInstanceOf(
      AlreadyExistsException,
    );
    await expect(client.send(new CreateAliasCommand({ AliasName: 'alias/aws/reserved', TargetKeyId: hmacKeyId }))).rejects.toBeInstanceOf(
      InvalidAliasNameException,
    );
    await expect(client.send(new CreateAliasCommand({ AliasName: 'no-prefix', TargetKeyId: hmacKeyId }))).rejects.toBeInstanceOf(InvalidAliasNameException);
  });

  it('refuses an operation that does not match the key usage', async () => {
    await expect(sign(client, hmacKeyId, message)).rejects.toBeInstanceOf(InvalidKeyUsageException);
    await expect(client.send(new GenerateMacCommand({ KeyId: eccKeyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' }))).rejects.toBeInstanceOf(
      InvalidKeyUsageException,
    );
    await expect(client.send(new SignCommand({ KeyId: eccKeyId, Message: message, SigningAlgorithm: 'ECDSA_SHA_384' }))).rejects.toBeInstanceOf(
      InvalidKeyUsageException,
    );
    await expect(client.send(new GetPublicKeyCommand({ KeyId: hmacKeyId }))).rejects.toBeInstanceOf(UnsupportedOperationException);
  });

  it('reports unknown keys and aliases as NotFoundException', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    await expect(client.send(new DescribeKeyCommand({ KeyId: missing }))).rejects.toBeInstanceOf(NotFoundException);
    await expect(sign(client, 'alias/does-not-exist', message)).rejects.toBeInstanceOf(NotFoundException);
    await expect(sign(client, `arn:aws:kms:eu-west-1:000000000000:key/${eccKeyId}`, message)).rejects.toBeInstanceOf(NotFoundException);
    await expect(sign(client, 'not-a-key', message)).rejects.toBeInstanceOf(NotFoundException);
  });

  it('refuses key specs it does not implement and invalid spec/usage pairs', async () => {
    await expect(client.send(new CreateKeyCommand({}))).rejects.toBeInstanceOf(UnsupportedOperationException);
    await expect(client.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' }))).rejects.toBeInstanceOf(UnsupportedOperationException);
    await expect(client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256' }))).rejects.toMatchObject(validationException);
    await expect(client.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'SIGN_VERIFY' }))).rejects.toMatchObject(validationException);
  });

  it('answers bad wire input with KMS-shaped 400 errors and keeps serving', async () => {
    const malformed = await postRaw(emulator.url, 'TrentService.Sign', '{not json');
    expect(malformed).toMatchObject({ status: 400, errorType: 'ValidationException:', body: { __type: 'ValidationException' } });
    expect(malformed.body.message).toMatch(/JSON/);

    const missingFields = await postRaw(emulator.url, 'TrentService.Sign', JSON.stringify({ KeyId: eccKeyId }));
    expect(missingFields.status).toBe(400);
    expect(missingFields.body.__type).toBe('ValidationException');
    expect(missingFields.body.message).toMatch(/'message' failed to satisfy constraint: Member must not be null/);

    const badBase64 = await postRaw(emulator.url, 'TrentService.Sign', JSON.stringify({ KeyId: eccKeyId, Message: '***', SigningAlgorithm: 'ECDSA_SHA_256' }));
    expect(badBase64.body.__type).toBe('ValidationException');

    const notAnObject = await postRaw(emulator.url, 'TrentService.ListKeys', '[1,2]');
    expect(notAnObject.body.__type).toBe('ValidationException');

    for (const target of ['TrentService.Encrypt', 'TrentService.constructor', 'Other.ListKeys', undefined]) {
      const unknown = await postRaw(emulator.url, target, '{}');
      expect(unknown).toMatchObject({ status: 400, body: { __type: 'UnsupportedOperationException' } });
    }
    expect((await postRaw(emulator.url, 'TrentService.ListKeys', '', 'GET')).status).toBe(400);

    const stillServing = await postRaw(emulator.url, 'TrentService.ListKeys', '');
    expect(stillServing.status).toBe(200);
    expect(Array.isArray(stillServing.body.Keys)).toBe(true);
  });

  it('writes every key file and the alias file with mode 0600', async () => {
    const keyFiles = await readdir(join(dataDir, 'keys'));
    expect(keyFiles).toEqual(expect.arrayContaining([`${eccKeyId}.json`, `${hmacKeyId}.json`]));
    for (const file of [...keyFiles.map((name) => join(dataDir, 'keys', name)), join(dataDir, 'aliases.json')]) {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    }
  });

  it('provisions keys idempotently with ensureKmsKey', async () => {
    const first = await ensureKmsKey(client, MAESTRO_KMS_KEYS.manifestSigning);
    const second = await ensureKmsKey(client, MAESTRO_KMS_KEYS.manifestSigning);
    expect(first.created).toBe(true);
    expect(second).toMatchObject({ created: false, keyId: first.keyId, keySpec: 'ECC_NIST_P256' });
    const mac = await ensureKmsKey(client, MAESTRO_KMS_KEYS.approvalLinks);
    expect(mac.keySpec).toBe('HMAC_256');
    await expect(ensureKmsKey(client, { alias: MAESTRO_KMS_KEYS.approvalLinks.alias, keySpec: 'ECC_NIST_P256' })).rejects.toThrow(/expected ECC_NIST_P256/);
  });
});

describe('KMS emulator restart', () => {
  it('verifies signatures and MACs made before a restart on the same dataDir', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'maestro-kms-restart-'));
    try {
      const before = await startKmsEmulator({ dataDir });
      const beforeClient = createLocalKmsClient(before);
      const signing = await ensureKmsKey(beforeClient, MAESTRO_KMS_KEYS.manifestSigning);
      const macKey = await ensureKmsKey(beforeClient, MAESTRO_KMS_KEYS.approvalLinks);
      const signature = await sign(beforeClient, signing.alias, message);
      const { Mac } = await beforeClient.send(new GenerateMacCommand({ KeyId: macKey.alias, Message: message, MacAlgorithm: 'HMAC_SHA_256' }));
      const publicKeyBefore = (await beforeClient.send(new GetPublicKeyCommand({ KeyId: signing.keyId }))).PublicKey!;
      beforeClient.destroy();
      await before.stop();

      const after = await startKmsEmulator({ dataDir });
      const afterClient = createLocalKmsClient(after);
      try {
        expect(await ensureKmsKey(afterClient, MAESTRO_KMS_KEYS.manifestSigning)).toMatchObject({ created: false, keyId: signing.keyId });
        expect((await afterClient.send(verifyCommand(signing.alias, message, signature))).SignatureValid).toBe(true);
        const { MacValid } = await afterClient.send(new VerifyMacCommand({ KeyId: macKey.alias, Message: message, Mac: Mac!, MacAlgorithm: 'HMAC_SHA_256' }));
        expect(MacValid).toBe(true);
        const publicKeyAfter = (await afterClient.send(new GetPublicKeyCommand({ KeyId: signing.alias }))).PublicKey!;
        expect(Buffer.from(publicKeyAfter).equals(Buffer.from(publicKeyBefore))).toBe(true);
      } finally {
        afterClient.destroy();
        await after.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('KMS emulator start-up', () => {
  it('refuses to start on a corrupt key file instead of dropping the key', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'maestro-kms-corrupt-'));
    try {
      await mkdir(join(dataDir, 'keys'));
      await writeFile(join(dataDir, 'keys', '00000000-0000-4000-8000-000000000001.json'), '{"formatVersion":1', { mode: 0o600 });
      await expect(startKmsEmulator({ dataDir })).rejects.toThrow(/cannot load key file/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
