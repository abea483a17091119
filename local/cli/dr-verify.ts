// `npm run dr:verify -- <manifest.json> --public-key <key.pem|key.der> [--parts <dir>]`: checks a
// downloaded DR backup with the public key alone (no AWS access): the manifest digest, its KMS
// signature, every part's size and SHA-256. Exit code 0 when it all verifies, 1 when not, 2 on bad usage.
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { verifyOffline } from '../../functions/core/dr/offline-verify.ts';

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
  const partsDir = resolve(options.parts ?? dirname(resolve(manifestFile)));
  const result = await verifyOffline({
    manifest: readFileSync(manifestFile),
    publicKey: readFileSync(options.publicKey),
    openPart: (_key, relative) => {
      const file = join(partsDir, relative);
      return existsSync(file) ? createReadStream(file) : undefined;
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
