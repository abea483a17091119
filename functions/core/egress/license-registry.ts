import * as z from 'zod';
import { LicenseDenied } from '../errors.ts';

/** A source Maestro may fetch from, with the license its content is under and the terms of use. */
export const LicenseSource = z.strictObject({
  /** A stable name for provenance (`open-meteo`). */
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a lowercase source id'),
  /**
   * The URLs that belong to the source (`https://api.example.com/v1/`): same origin (scheme, host,
   * port, as the URL parser reads them), and a path equal to the prefix's or under it on a `/` boundary
   * (`/v1` covers `/v1` and `/v1/x`, not `/v1x`). Query and fragment of the prefix are ignored.
   */
  urlPrefix: z
    .string()
    .url()
    .refine((value) => /^https?:\/\//.test(value), 'must be an http(s) URL prefix'),
  /** The license of the content (SPDX id or `proprietary`). */
  license: z.string().min(1).max(100),
  /** Whether the terms allow automated retrieval by a machine. */
  automatedAccess: z.boolean(),
  /** Attribution the terms require, carried into the result's provenance. */
  attribution: z.string().max(500).optional(),
});
export type LicenseSource = z.infer<typeof LicenseSource>;
export const LicenseSources = z.array(LicenseSource).max(500);
export type LicenseSources = z.infer<typeof LicenseSources>;

/** Whether `url` belongs to `prefix`: same parsed origin, then the path on a segment boundary. */
export function urlMatchesPrefix(url: string, prefix: string): boolean {
  let target: URL;
  let base: URL;
  try {
    target = new URL(url);
    base = new URL(prefix);
  } catch {
    return false;
  }
  if (target.origin !== base.origin || target.username !== '' || target.password !== '') return false;
  const path = base.pathname;
  if (path === '/' || target.pathname === path) return true;
  return target.pathname.startsWith(path.endsWith('/') ? path : `${path}/`);
}

/**
 * The registry of licensed sources. A URL is fetched only when the longest matching prefix names a
 * source whose terms allow automated access; anything else is refused with LicenseDenied.
 */
export class LicenseRegistry {
  readonly #sources: readonly LicenseSource[];

  constructor(sources: readonly LicenseSource[]) {
    // The most specific first: the longest path (an origin's sources differ by path only).
    this.#sources = [...sources].sort((a, b) => pathOf(b.urlPrefix).length - pathOf(a.urlPrefix).length);
  }

  /** The source a URL belongs to, or undefined. */
  sourceOf(url: string): LicenseSource | undefined {
    return this.#sources.find((source) => urlMatchesPrefix(url, source.urlPrefix));
  }

  /** The licensed source for the URL; LicenseDenied when there is none or its terms refuse automation. */
  require(url: string, field = 'url'): LicenseSource {
    const source = this.sourceOf(url);
    if (!source)
      throw new LicenseDenied(`${url} belongs to no registered source; add it with its license terms before fetching it`, { field, details: { url } });
    if (!source.automatedAccess) {
      throw new LicenseDenied(`source ${source.id} (${source.license}) does not allow automated access`, {
        field,
        details: { url, source: source.id, license: source.license },
      });
    }
    return source;
  }
}

function pathOf(prefix: string): string {
  try {
    return new URL(prefix).pathname;
  } catch {
    return '';
  }
}
