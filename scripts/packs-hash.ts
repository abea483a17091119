/**
 * `npm run packs:hash -- <module>`: prints the SHA-256 of a pack's content, the value to pin as its
 * `sha256` in maestro.config.yaml. `<module>` is a folder (relative to the working directory) or an
 * installed npm package name, as in the configuration (functions/packs/content-hash.ts says what is hashed).
 */
import { hashPack } from '../functions/packs/content-hash.ts';
import { packDirOf } from '../functions/packs/loader.ts';

const modules = process.argv.slice(2);
if (modules.length === 0) {
  console.error('usage: npm run packs:hash -- <pack folder or npm package> [...]');
  process.exit(2);
}
for (const module of modules) {
  try {
    const hash = hashPack(packDirOf(module));
    console.log(modules.length === 1 ? hash : `${hash}  ${module}`);
  } catch (error) {
    console.error(`${module}: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}
