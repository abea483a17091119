// `npm run dr:verify -- <manifest.json> --public-key <key.pem|key.der> [--parts <dir>]`: checks a
// downloaded DR backup with the public key alone (no AWS access): the manifest digest, its KMS
// signature, every part's size and SHA-256. Exit code 0 when it all verifies, 1 when not, 2 on bad usage.
import { closeSync, constants, createReadStream, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { dirname, relative as relativePath, resolve, sep } from 'node:path';
import { Command } from 'commander';
import { verifyOffline } from '../../functions/core/dr/offline-verify.ts';

/** The largest manifest and public key read (a manifest lists parts and samples; a key is a few hundred bytes). */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
export const MAX_KEY_BYTES = 64 * 1024;

/**
 * Opens a file for reading only if it is a regular file: without blocking (a FIFO would wait for a
 * writer), refusing devices (`/dev/zero` never ends), FIFOs, sockets and directories.
 */
function openRegular(file: string, what: string): { fd: number; size: number } {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    throw new Error(`${what} ${file} is not a regular file`);
  }
  return { fd, size: stat.size };
}

/** Reads a regular file of at most maxBytes (checked on the size and again on the bytes read). */
function readRegularFile(file: string, what: string, maxBytes: number): Buffer {
  const { fd, size } = openRegular(file, what);
  try {
    if (size > maxBytes) throw new Error(`${what} ${file} has ${size} bytes, more than the ${maxBytes} allowed`);
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length <= maxBytes; length += read) read = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > maxBytes) throw new Error(`${what} ${file} grew past the ${maxBytes} bytes allowed`);
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command('dr:verify')
    .description('Verify a downloaded DR backup (manifest + parts) with the manifest public key alone')
    .argument('<manifest>', 'the manifest.json downloaded from the vault')
    .requiredOption('--public-key <file>', 'the manifest signing public key, PEM or DER (aws kms get-public-key)')
    .option('--parts <dir>', 'where the parts are (their keys relative to the manifest prefix); default: the manifest folder')
    .option('--json', 'print the result as JSON')
    .exitOverride();
  try {
    program.parse([...argv], { from: 'user' });
  } catch {
    return 2;
  }
  const [manifestFile] = program.args;
  const options = program.opts<{ publicKey: string; parts?: string; json?: boolean }>();
  let manifest: Buffer;
  let publicKey: Buffer;
  let partsDir: string;
  try {
    manifest = readRegularFile(manifestFile, 'the manifest', MAX_MANIFEST_BYTES);
    publicKey = readRegularFile(options.publicKey, 'the public key', MAX_KEY_BYTES);
    partsDir = realpathSync(resolve(options.parts ?? dirname(resolve(manifestFile))));
  } catch (error) {
    console.error(`dr:verify: ${(error as Error).message}`);
    return 2;
  }
  const result = await verifyOffline({
    manifest,
    publicKey,
    openPart: (part, relative) => {
      let file: string;
      try {
        file = realpathSync(resolve(partsDir, relative));
      } catch {
        return undefined;
      }
      // Symbolic links count too: the file itself must be inside the parts folder.
      const inside = relativePath(partsDir, file);
      if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || resolve(partsDir, inside) !== file)
        throw new Error(`refused: ${relative} leads outside ${partsDir}`);
      const { fd } = openRegular(file, 'the part');
      // One byte more than the manifest says at most, so a longer file fails its size check without being read to its end.
      return createReadStream('', { fd, start: 0, end: part.bytes });
    },
  });
  if (options.json) console.log(JSON.stringify(result, null, 2));
  else {
    for (const check of result.checks) console.log(`${check.ok ? 'ok  ' : 'FAIL'} ${check.check}: ${check.detail}`);
    console.log(result.ok ? `verified: snapshot ${result.snapshotId} of ${result.target}` : 'NOT verified');
  }
  return result.ok ? 0 : 1;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
