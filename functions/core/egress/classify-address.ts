import ipaddr from 'ipaddr.js';

/** What the egress guard knows about one IP address. */
export interface AddressClass {
  /** The address in canonical form (`127.0.0.1`, `fd00:ec2::254`); an IPv4-mapped one as its IPv4. */
  address: string;
  family: 4 | 6;
  /**
   * `public` for a globally routable unicast address; otherwise the range that makes it unsafe:
   * `loopback`, `private`, `carrierGradeNat`, `linkLocal`, `uniqueLocal`, `multicast`, `reserved`,
   * `unspecified`, `broadcast`, `ipv4Compatible`, `6to4`, `teredo`, `rfc6052` (NAT64)...
   */
  range: string;
  isPublic: boolean;
}

/** Cloud instance-metadata addresses, named as such in decisions (they are also link-local / ULA). */
const METADATA_ADDRESSES: ReadonlySet<string> = new Set(['169.254.169.254', 'fd00:ec2::254', '169.254.170.2', '100.100.100.200']);

/**
 * Classifies an IP address with ipaddr.js's special ranges. Only globally routable unicast passes:
 * IPv4 `unicast`, IPv6 `unicast` inside 2000::/3. IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as the
 * IPv4 it carries; IPv4-compatible (::a.b.c.d), 6to4, Teredo and NAT64 prefixes, which also embed IPv4
 * addresses, are refused outright. Returns undefined for a string that is not an IP address.
 */
export function classifyAddress(text: string): AddressClass | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // Zone ids (fe80::1%eth0) name an interface: never a public destination.
  if (bare.includes('%')) return { address: bare, family: 6, range: 'linkLocal', isPublic: false };
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  // Strict parsing: only the four-part dotted decimal IPv4 form; URL parsing has already
  // normalised decimal/octal/hex/short forms of URL hosts to it.
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) parsed = ipaddr.IPv4.parse(bare);
  else if (ipaddr.IPv6.isValid(bare) && bare.includes(':')) parsed = ipaddr.IPv6.parse(bare);
  else return undefined;

  if (parsed.kind() === 'ipv6') {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return withMetadata(classifyV4(v6.toIPv4Address()));
    const address = v6.toString();
    const range = v6.range();
    if (range === 'unicast') {
      const inGlobalUnicast = v6.match(ipaddr.IPv6.parse('2000::'), 3);
      const compatible = v6.parts.slice(0, 6).every((part) => part === 0);
      if (compatible) return { address, family: 6, range: 'ipv4Compatible', isPublic: false };
      return withMetadata({ address, family: 6, range: inGlobalUnicast ? 'unicast' : 'reserved', isPublic: inGlobalUnicast });
    }
    return withMetadata({ address, family: 6, range, isPublic: false });
  }
  return withMetadata(classifyV4(parsed as ipaddr.IPv4));
}

function classifyV4(v4: ipaddr.IPv4): AddressClass {
  const range = v4.range();
  return { address: v4.toString(), family: 4, range, isPublic: range === 'unicast' };
}

function withMetadata(found: AddressClass): AddressClass {
  return METADATA_ADDRESSES.has(found.address) ? { ...found, range: 'cloudMetadata', isPublic: false } : found;
}

/** True when the address lies in one of the CIDR ranges (`127.0.0.1/32`, `::1/128`, or a bare address). */
export function addressInRanges(address: string, ranges: readonly string[]): boolean {
  const parsed = ipaddr.process(address);
  return ranges.some((range) => {
    const [base, bits] = range.includes('/') ? ipaddr.parseCIDR(range) : [ipaddr.process(range), range.includes(':') ? 128 : 32];
    return base.kind() === parsed.kind() && parsed.match(base, bits);
  });
}

/** True when the string is a valid CIDR range or single address (used to validate configuration). */
export function isAddressRange(text: string): boolean {
  try {
    if (text.includes('/')) ipaddr.parseCIDR(text);
    else ipaddr.process(text);
    return true;
  } catch {
    return false;
  }
}
