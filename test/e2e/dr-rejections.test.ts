import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { describe, it } from 'vitest';
import { canonicalManifest } from '../../functions/core/dr/manifest.ts';
import { backup, readManifest, writeVault } from '../support/dr.ts';
import { stack, clients, keyOf, resign, expectRejected, useDrStack } from '../support/dr-fixture.ts';

useDrStack('drrej');

describe('a restore that cannot prove its artifact is REJECTED, the pointer unchanged', () => {
  it('tampered part', async () => {
    const snapshot = await backup(stack);
    const signed = await readManifest(clients.s3, snapshot.result.location);
    await writeVault(clients.s3, signed.manifest.parts[0].key, gzipSync('{"item":{"id":{"S":"evil"}}}\n'));
    await expectRejected(snapshot.id, /part .* hashes to/);
  });

  it('tampered manifest (digest no longer matches)', async () => {
    const snapshot = await backup(stack);
    const signed = await readManifest(clients.s3, snapshot.result.location);
    signed.manifest.reason = 'rewritten history';
    await writeVault(clients.s3, keyOf(snapshot.result.location), JSON.stringify(signed));
    await expectRejected(snapshot.id, /changed after signing/);
  });

  it('tampered manifest with a recomputed digest (the signature no longer verifies)', async () => {
    const snapshot = await backup(stack);
    const signed = await readManifest(clients.s3, snapshot.result.location);
    signed.manifest.reason = 'rewritten history';
    signed.sha256 = createHash('sha256').update(canonicalManifest(signed.manifest)).digest('hex');
    await writeVault(clients.s3, keyOf(snapshot.result.location), JSON.stringify(signed));
    await expectRejected(snapshot.id, /does not verify with the trusted key/);
  });

  it('signed with the wrong key', async () => {
    const snapshot = await backup(stack);
    const other = await clients.kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'not the manifest key' }));
    const signed = await resign(await readManifest(clients.s3, snapshot.result.location), other.KeyMetadata!.KeyId!);
    await writeVault(clients.s3, keyOf(snapshot.result.location), JSON.stringify(signed));
    await expectRejected(snapshot.id, /does not verify with the trusted key/);
  });

  it('missing part', async () => {
    const snapshot = await backup(stack);
    const signed = await readManifest(clients.s3, snapshot.result.location);
    await clients.s3.send(new DeleteObjectCommand({ Bucket: 'maestro-artifacts', Key: signed.manifest.parts.at(-1)!.key }));
    await expectRejected(snapshot.id, /missing from the vault/);
  });

  it('unknown snapshot', async () => {
    await expectRejected('00000000-0000-0000-0000-000000000000', /not in the vault/);
  });
});
