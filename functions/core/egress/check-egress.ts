import { SsrfBlocked } from '../errors.ts';
import { blockedHostName } from './blocked-host-names.ts';
import { addressInRanges, classifyAddress } from './classify-address.ts';
import { matchingEntries, normalizeHost } from './policy.ts';
import type { EgressPolicy } from './policy.ts';

/** Resolves a host name to every address it has (A and AAAA), like `dns.lookup(host, {all: true})`. */
export type HostResolver = (host: string) => Promise<string[]>;

export const EgressRule = {
  malformed: 'malformed',
  scheme: 'scheme',
  credentials: 'credentials',
  hostName: 'host-name',
  notAllowlisted: 'not-allowlisted',
  port: 'port',
  dns: 'dns',
  address: 'address',
  allowed: 'allowed',
} as const;
export type EgressRule = (typeof EgressRule)[keyof typeof EgressRule];

/** The guard's answer for one URL; when allowed, `connectTo` is the only address a client may use. */
export interface EgressDecision {
  allowed: boolean;
  rule: EgressRule;
  reason: string;
  /** The URL as parsed and normalised (what a client must request, never the raw input). */
  url?: string;
  host?: string;
  port?: number;
  resolvedAddresses: string[];
  connectTo?: { address: string; family: 4 | 6 };
}

const MAX_URL_LENGTH = 2048;

/**
 * Decides whether a URL may be fetched, without connecting: scheme (`https`, `http` only when the
 * environment allows it), no credentials, no metadata or local host names, host on the environment's
 * allowlist, allowed port, then one DNS resolution whose every address must be public unicast (or in a
 * range the matching allowlist entry names). A literal IP host in any encoding (decimal, octal, hex,
 * short, IPv4-mapped IPv6...) is normalised by WHATWG URL parsing, then judged by the same rules.
 */
export async function checkEgress(rawUrl: string, policy: EgressPolicy, resolve: HostResolver): Promise<EgressDecision> {
  const resolvedAddresses: string[] = [];
  const block = (rule: EgressRule, reason: string, extra: Partial<EgressDecision> = {}): EgressDecision => ({
    allowed: false,
    rule,
    reason,
    resolvedAddresses,
    ...extra,
  });

  if (typeof rawUrl !== 'string' || rawUrl.length === 0) return block(EgressRule.malformed, 'the URL is empty');
  if (rawUrl.length > MAX_URL_LENGTH) return block(EgressRule.malformed, `the URL is longer than ${MAX_URL_LENGTH} characters`);
  // URL parsing silently drops tabs and new lines and trims spaces: refuse them instead of guessing.
  if (/[\u0000-\u0020\u007f\\]/.test(rawUrl)) return block(EgressRule.malformed, 'the URL contains white space, control characters or backslashes');
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return block(EgressRule.malformed, 'the URL cannot be parsed');
  }
  const allowedSchemes = policy.allowHttp ? ['https:', 'http:'] : ['https:'];
  if (!allowedSchemes.includes(url.protocol)) {
    return block(EgressRule.scheme, `scheme ${url.protocol} is not allowed (allowed: ${allowedSchemes.join(', ')})`);
  }
  if (url.username !== '' || url.password !== '') return block(EgressRule.credentials, 'credentials in URLs are not allowed');

  const host = normalizeHost(url.hostname);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  const located = { url: url.href, host, port };
  if (host === '') return block(EgressRule.malformed, 'the URL has no host', located);
  const literal = classifyAddress(host);
  if (!literal) {
    const refusedName = blockedHostName(host);
    if (refusedName) return block(EgressRule.hostName, `${host} is a ${refusedName}`, located);
    if (/^[0-9.]+$/.test(host) || /^0x/i.test(host)) return block(EgressRule.malformed, `${host} is neither a host name nor an IP address`, located);
  }

  const entries = matchingEntries(policy, host);
  if (entries.length === 0) {
    return block(EgressRule.notAllowlisted, `${host} is not on the egress allowlist of environment ${policy.environment}`, located);
  }
  const defaultPorts = policy.allowHttp ? [443, 80] : [443];
  const portEntries = entries.filter((entry) => (entry.ports ?? defaultPorts).includes(port));
  if (portEntries.length === 0) return block(EgressRule.port, `port ${port} is not allowed for ${host}`, located);
  const exceptions = portEntries.flatMap((entry) => (entry.pattern === '*' ? [] : entry.allowAddresses));

  let addresses: string[];
  if (literal) {
    addresses = [literal.address];
  } else {
    try {
      addresses = await resolve(host);
    } catch (error) {
      return block(EgressRule.dns, `${host} does not resolve (${(error as { code?: string }).code ?? (error as Error).message})`, located);
    }
    if (addresses.length === 0) return block(EgressRule.dns, `${host} has no addresses`, located);
  }

  let connectTo: EgressDecision['connectTo'];
  for (const address of addresses) {
    const found = classifyAddress(address);
    if (!found) return block(EgressRule.dns, `${host} resolved to ${address}, which is not an IP address`, located);
    resolvedAddresses.push(found.address);
    if (!found.isPublic && !addressInRanges(found.address, exceptions)) {
      const what = literal
        ? `${host} is ${found.range === 'cloudMetadata' ? 'a cloud metadata address' : `a ${found.range} address`}`
        : `${host} resolves to ${found.address} (${found.range})`;
      return block(EgressRule.address, `${what}, not a public one`, located);
    }
    connectTo ??= { address: found.address, family: found.family };
  }
  return {
    allowed: true,
    rule: EgressRule.allowed,
    reason: `${host}:${port} is allowed for environment ${policy.environment}`,
    ...located,
    resolvedAddresses,
    connectTo,
  };
}

/** The same decision, as an SsrfBlocked error when refused. */
export async function assertEgress(rawUrl: string, policy: EgressPolicy, resolve: HostResolver, field = 'url'): Promise<EgressDecision & { allowed: true }> {
  const decision = await checkEgress(rawUrl, policy, resolve);
  if (!decision.allowed) throw ssrfBlocked(decision, field);
  return decision as EgressDecision & { allowed: true };
}

export function ssrfBlocked(decision: EgressDecision, field = 'url'): SsrfBlocked {
  return new SsrfBlocked(`egress refused: ${decision.reason}`, { field, details: { rule: decision.rule, resolvedAddresses: decision.resolvedAddresses } });
}
