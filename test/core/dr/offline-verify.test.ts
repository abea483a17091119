import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { canonicalManifest, manifestSha256 } from '../../../functions/core/dr/manifest.ts';
import type { Manifest } from '../../../functions/core/dr/manifest.ts';
import { relativePartKey, verifyOffline } from '../../../functions/core/dr/offline-verify.ts';
import { MAX_KEY_BYTES, main as verifyCli } from '../../../local/cli/dr-verify.ts';

const PREFIX = 'dr/demo/snap-1/';
const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** A signed manifest over the given parts (key → bytes), written next to a parts folder and the public key. */
function backup(dir: string, parts: [key: string, bytes: Buffer][], privateKey = signer.privateKey) {
  const manifest: Manifest = {
    format: 'maestro-dr-manifest/1',
    snapshotId: 'snap-1',
    target: 'demo',
    startedAt: '2026-12-01T00:00:00.000Z',
    completedAt: '2026-12-01T00:00:01.000Z',
    vault: { bucket: 'vault', prefix: PREFIX },
    compression: 'none',
    sources: [],
    parts: parts.map(([key, bytes], index) => ({
      index,
      key,
      source: 'table:t',
      records: 1,
      bytes: bytes.length,
      rawBytes: bytes.length,
      sha256: sha256(bytes),
    })),
    totals: { parts: parts.length, records: parts.length, bytes: 0, rawBytes: 0 },
  };
  const signature = sign('sha256', canonicalManifest(manifest), { key: privateKey, dsaEncoding: 'der' }).toString('base64');
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({ manifest, sha256: manifestSha256(manifest), signature: { algorithm: 'ECDSA_SHA_256', keyId: 'alias/test', value: signature } }),
  );
  writeFileSync(join(dir, 'key.pem'), signer.publicKey.export({ type: 'spki', format: 'pem' }));
  return join(dir, 'manifest.json');
}

let dir: string;
let output: string[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-drverify-'));
  mkdirSync(join(dir, 'backup', 'parts'), { recursive: true });
  output = [];
  vi.spyOn(console, 'log').mockImplementation((line: string) => void output.push(line));
  vi.spyOn(console, 'error').mockImplementation((line: string) => void output.push(line));
});
afterEach(() => {
  vi.restoreAllMocks();
});

const PART = Buffer.from('{"pk":"a"}\n');
const cli = (manifest: string, key = join(dir, 'backup', 'key.pem'), ...rest: string[]) => verifyCli([manifest, '--public-key', key, ...rest]);

describe('dr:verify (offline)', () => {
  it('verifies a good backup', async () => {
    writeFileSync(join(dir, 'backup', 'parts', '000000.jsonl'), PART);
    expect(await cli(backup(join(dir, 'backup'), [[`${PREFIX}parts/000000.jsonl`, PART]]))).toBe(0);
    expect(output).toContain(`ok   part parts/000000.jsonl: ${PART.length} bytes, sha256 ${sha256(PART)}`);
  });

  it('stops at a failed signature: no part is checked or reported ok', async () => {
    writeFileSync(join(dir, 'backup', 'parts', '000000.jsonl'), PART);
    const opened: string[] = [];
    const result = await verifyOffline({
      manifest: readFileSync(backup(join(dir, 'backup'), [[`${PREFIX}parts/000000.jsonl`, PART]], stranger.privateKey)),
      publicKey: Buffer.from(signer.publicKey.export({ type: 'spki', format: 'pem' })),
      openPart: (_part, relative) => void opened.push(relative) as undefined,
    });
    expect(result.ok).toBe(false);
    expect(result.checks.map((check) => [check.check, check.ok])).toEqual([
      ['manifest-sha256', true],
      ['signature', false],
    ]);
    expect(opened).toEqual([]);
    expect(await cli(join(dir, 'backup', 'manifest.json'))).toBe(1);
    expect(output.filter((line) => line.startsWith('ok   part'))).toEqual([]);
  });

  it('refuses part keys that leave the manifest folder, and never opens them', async () => {
    // A file outside the downloaded backup: a verifier that follows ../ confirms its hash (an oracle on any file).
    const outside = Buffer.from('secret outside the backup\n');
    writeFileSync(join(dir, 'outside.txt'), outside);
    const manifest = backup(join(dir, 'backup'), [
      [`${PREFIX}../outside.txt`, outside],
      [`${PREFIX}parts/../../outside.txt`, outside],
      ['dr/other/snap-9/parts/000000.jsonl', outside],
      [`${PREFIX}/etc/hostname`, outside],
      [`${PREFIX}parts//000000.jsonl`, outside],
    ]);
    const opened: string[] = [];
    const result = await verifyOffline({
      manifest: readFileSync(manifest),
      publicKey: Buffer.from(signer.publicKey.export({ type: 'spki', format: 'pem' })),
      openPart: (_part, relative) => void opened.push(relative) as undefined,
    });
    expect(opened).toEqual([]);
    expect(result.ok).toBe(false);
    expect(result.checks.slice(2).map((check) => [check.ok, check.detail.startsWith('refused:')])).toEqual(Array(5).fill([false, true]));
    expect(await cli(manifest)).toBe(1);
    expect(output.filter((line) => line.startsWith('ok   part'))).toEqual([]);
  });

  it('refuses a part that is a symbolic link out of the parts folder, or to a device', async () => {
    const outside = Buffer.from('secret outside the backup\n');
    writeFileSync(join(dir, 'outside.txt'), outside);
    symlinkSync(join(dir, 'outside.txt'), join(dir, 'backup', 'parts', 'link.jsonl'));
    symlinkSync('/dev/zero', join(dir, 'backup', 'parts', 'zero.jsonl'));
    const manifest = backup(join(dir, 'backup'), [
      [`${PREFIX}parts/link.jsonl`, outside],
      [`${PREFIX}parts/zero.jsonl`, Buffer.alloc(16)],
    ]);
    expect(await cli(manifest)).toBe(1);
    expect(output.find((line) => line.includes('part parts/link.jsonl'))).toMatch(/^FAIL .*refused: .*leads outside/);
    expect(output.find((line) => line.includes('part parts/zero.jsonl'))).toMatch(/^FAIL .*(outside|not a regular file)/);
  });

  it('reads only regular files of bounded size as manifest and key: /dev/zero, a FIFO and an oversized key exit 2 at once', async () => {
    const manifest = backup(join(dir, 'backup'), []);
    expect(await cli(manifest, '/dev/zero')).toBe(2);
    expect(output.at(-1)).toMatch(/the public key \/dev\/zero is not a regular file/);
    expect(await cli('/dev/zero')).toBe(2);
    const fifo = join(dir, 'key.fifo');
    execFileSync('mkfifo', [fifo]);
    expect(await cli(manifest, fifo)).toBe(2);
    expect(output.at(-1)).toMatch(/not a regular file/);
    writeFileSync(join(dir, 'big.pem'), Buffer.alloc(MAX_KEY_BYTES + 1, 'A'));
    expect(await cli(manifest, join(dir, 'big.pem'))).toBe(2);
    expect(output.at(-1)).toMatch(/more than the 65536 allowed/);
  });

  it('relativePartKey keeps ordinary keys', () => {
    expect(relativePartKey(`${PREFIX}parts/000001.jsonl.gz`, PREFIX)).toEqual({ relative: 'parts/000001.jsonl.gz' });
    expect(relativePartKey(`${PREFIX}parts\\..\\x`, PREFIX)).toHaveProperty('refused');
  });
});
