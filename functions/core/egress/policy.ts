import * as z from 'zod';
import { isAddressRange } from './classify-address.ts';
import { own } from '../own.ts';

/**
 * One allowlist entry. A string is a host pattern (`api.example.com`, `*.example.com`, or `*` for any
 * public host) on the default ports. The object form can add ports and, for that host only, address
 * ranges that would otherwise be refused (a loopback test server, an internal service): the only way
 * a private, loopback or link-local address is ever reached.
 */
export const AllowlistEntry = z.union([
  z.string().trim().min(1).max(253),
  z.strictObject({
    host: z.string().trim().min(1).max(253),
    /** Ports allowed for this host. @default [443] (and 80 when `http` is allowed) */
    ports: z.array(z.number().int().min(1).max(65_535)).min(1).max(32).optional(),
    /** CIDR ranges this host may resolve to even though they are not public (`127.0.0.1/32`). @default [] */
    allowAddresses: z.array(z.string().refine(isAddressRange, 'must be an IP address or CIDR range')).max(32).optional(),
  }),
]);
export type AllowlistEntry = z.infer<typeof AllowlistEntry>;

/** Per environment: which hosts `http.fetch` may reach, and whether plain `http` is allowed. */
export const EnvironmentEgress = z.union([
  z.array(AllowlistEntry).max(500),
  z.strictObject({
    hosts: z.array(AllowlistEntry).max(500),
    /** Allow `http:` as well as `https:`. @default false */
    allowHttp: z.boolean().optional(),
  }),
]);

/** `MAESTRO_EGRESS_ALLOWLIST`: `{"dev": ["api.example.com"], "prod": {"hosts": [...], "allowHttp": false}}`. */
export const EgressAllowlists = z.record(z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be an environment name'), EnvironmentEgress);
export type EgressAllowlists = z.infer<typeof EgressAllowlists>;

/** The guard's rules for one environment, after normalisation. */
export interface EgressPolicy {
  environment: string;
  hosts: readonly NormalizedEntry[];
  allowHttp: boolean;
  /** How many redirects a fetch follows, each re-checked. @default 3 */
  maxRedirects: number;
}

export interface NormalizedEntry {
  pattern: string;
  ports?: readonly number[];
  allowAddresses: readonly string[];
}

/** The policy of one environment; an environment with no entry may reach nothing (deny by default). */
export function egressPolicyFor(allowlists: EgressAllowlists, environment: string, options: { maxRedirects?: number } = {}): EgressPolicy {
  const configured = own(allowlists, environment) ?? [];
  const entries = Array.isArray(configured) ? configured : configured.hosts;
  const allowHttp = Array.isArray(configured) ? false : (configured.allowHttp ?? false);
  return {
    environment,
    allowHttp,
    maxRedirects: options.maxRedirects ?? 3,
    hosts: entries.map((entry) =>
      typeof entry === 'string'
        ? { pattern: normalizeHost(entry), allowAddresses: [] }
        : { pattern: normalizeHost(entry.host), ports: entry.ports, allowAddresses: entry.allowAddresses ?? [] },
    ),
  };
}

/** Lower case, no trailing dots, no IPv6 brackets: the one spelling hosts are compared in. */
export function normalizeHost(host: string): string {
  let normalized = host.trim().toLowerCase();
  while (normalized.endsWith('.')) normalized = normalized.slice(0, -1);
  if (normalized.startsWith('[') && normalized.endsWith(']')) normalized = normalized.slice(1, -1);
  return normalized;
}

/** The entries whose pattern matches the host: exact, `*.suffix` (subdomains only), or `*`. */
export function matchingEntries(policy: EgressPolicy, host: string): NormalizedEntry[] {
  return policy.hosts.filter((entry) => {
    if (entry.pattern === '*') return true;
    if (entry.pattern.startsWith('*.')) return host.endsWith(entry.pattern.slice(1)) && host.length > entry.pattern.length - 1;
    return entry.pattern === host;
  });
}
