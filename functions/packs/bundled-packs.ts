/**
 * Packs compiled into a Lambda bundle. In AWS a pack's folder is not there to hash or load: the CDK
 * app hashes it at synth (refusing a pack whose content does not match its pin), and the bundle's
 * generated entry imports the pack's module statically and registers it here, with the hash the
 * synth verified, before the handler is imported. The loader then takes a registered pack instead
 * of its folder, and still refuses it unless that hash is the one the function's configuration pins.
 */

/** A pack as the synth verified and bundled it. */
export interface BundledPack {
  readonly name: string;
  readonly version: string;
  /** The SHA-256 the synth computed over the pack's folder (functions/packs/content-hash.ts). */
  readonly sha256: string;
  /** What the pack's module exports (its `pack`). */
  readonly exports: unknown;
}

const bundled = new Map<string, BundledPack>();

/** Called by a bundle's generated entry (lib/pack-bundles.ts), once per pack it carries. */
export function registerBundledPack(pack: BundledPack): void {
  bundled.set(pack.name, Object.freeze({ ...pack }));
}

/** The bundled pack of that name, if this process runs a bundle that carries it. */
export function bundledPack(name: string): BundledPack | undefined {
  return bundled.get(name);
}
