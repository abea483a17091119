import { lookup } from 'node:dns/promises';
import type { HostResolver } from '../core/egress/check-egress.ts';

/**
 * The system resolver (every A and AAAA record, in the resolver's order), with optional static
 * entries consulted first, like /etc/hosts (`MAESTRO_EGRESS_STATIC_HOSTS`, for the embedded stack and
 * tests). Whatever it returns is still judged by the egress guard; an entry allows nothing by itself.
 */
export function systemResolver(staticHosts: Record<string, readonly string[]> = {}): HostResolver {
  return async (host) => {
    const fixed = staticHosts[host];
    if (fixed) return [...fixed];
    const found = await lookup(host, { all: true, verbatim: true });
    return found.map((entry) => entry.address);
  };
}
