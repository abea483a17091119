/**
 * Host names refused whatever they resolve to: instance-metadata services of the big clouds and names
 * that always mean "this machine" or "this cluster". Compared after lower-casing and dropping trailing dots.
 */
const EXACT: ReadonlySet<string> = new Set([
  'localhost',
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.com',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.ec2.internal',
  'metadata.packet.net',
  'metadata.platformequinix.com',
  'kubernetes.default',
  'kubernetes.default.svc',
]);

const SUFFIXES = ['.localhost', '.local', '.internal', '.localdomain', '.home.arpa', '.svc.cluster.local', '.in-addr.arpa', '.ip6.arpa'] as const;

/** Why the name is refused (`metadata-host`, `local-name`), or undefined when it may be resolved. */
export function blockedHostName(host: string): string | undefined {
  if (EXACT.has(host)) return host.startsWith('metadata') || host.startsWith('instance-data') ? 'cloud metadata host' : 'local host name';
  const suffix = SUFFIXES.find((candidate) => host.endsWith(candidate));
  if (suffix) return `local host name (*${suffix})`;
  return undefined;
}
