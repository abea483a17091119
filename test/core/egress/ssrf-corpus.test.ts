import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuardedHttpClient } from '../../../functions/adapters/guarded-http-client.ts';
import { checkEgress } from '../../../functions/core/egress/check-egress.ts';
import type { HostResolver } from '../../../functions/core/egress/check-egress.ts';
import { egressPolicyFor } from '../../../functions/core/egress/policy.ts';
import type { EgressPolicy } from '../../../functions/core/egress/policy.ts';
import { SsrfBlocked } from '../../../functions/core/errors.ts';

/** A loopback server that must never be reached: it counts every connection and request. */
let canary: http.Server;
let canaryPort: number;
let canaryConnections = 0;
/** The one server tests may reach, as origin.test, through an explicit allowlist entry. */
let origin: http.Server;
let originPort: number;

const listen = async (server: http.Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

beforeAll(async () => {
  canary = http.createServer((_request, response) => response.end('canary reached'));
  canary.on('connection', () => (canaryConnections += 1));
  canaryPort = await listen(canary);
  origin = http.createServer((request, response) => {
    const url = new URL(request.url!, 'http://origin.test');
    if (url.pathname === '/redirect') {
      response.writeHead(302, { location: url.searchParams.get('to')! }).end();
    } else if (url.pathname === '/loop') {
      response.writeHead(302, { location: '/loop' }).end();
    } else {
      response.writeHead(200, { 'content-type': 'text/plain' }).end(`hello from origin ${url.pathname}`);
    }
  });
  originPort = await listen(origin);
});
afterAll(async () => {
  canary?.closeAllConnections();
  origin?.closeAllConnections();
  await Promise.all([new Promise((r) => canary?.close(r)), new Promise((r) => origin?.close(r))]);
});

/** DNS for the tests: names mapped by hand; anything else does not exist (no real DNS query is made). */
const STUB_DNS: Record<string, string[]> = {
  'origin.test': ['127.0.0.1'],
  'rebind-loopback.test': ['127.0.0.1'],
  'loopback6.test': ['::1'],
  'private10.test': ['10.0.0.5'],
  'private172.test': ['172.16.4.2'],
  'private192.test': ['192.168.1.1'],
  'cgnat.test': ['100.64.1.1'],
  'metadata-alias.test': ['169.254.169.254'],
  'ec2-v6-metadata.test': ['fd00:ec2::254'],
  'ula.test': ['fd12:3456::1'],
  'linklocal6.test': ['fe80::1'],
  'mapped-loopback.test': ['::ffff:127.0.0.1'],
  'mixed.test': ['93.184.216.34', '127.0.0.1'],
  'multicast.test': ['239.1.1.1'],
  'zero.test': ['0.0.0.0'],
  'empty.test': [],
  'public.test': ['93.184.216.34'],
};
let resolverCalls: string[] = [];
const stubResolver: HostResolver = async (host) => {
  resolverCalls.push(host);
  const found = STUB_DNS[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found;
};

/** Any host on the test ports (so refusals come from the address rules, not the port rule); origin.test alone may be loopback. */
const policy = (): EgressPolicy =>
  egressPolicyFor(
    {
      test: {
        allowHttp: true,
        hosts: [
          { host: '*', ports: [80, 443, canaryPort] },
          { host: 'origin.test', ports: [originPort], allowAddresses: ['127.0.0.1/32'] },
        ],
      },
    },
    'test',
  );

const P = () => canaryPort;
/** The corpus: every way we know to spell "this machine", "the metadata service" or "the private network". */
const corpus = (): string[] => [
  // loopback in every IPv4 encoding
  `http://127.0.0.1:${P()}/`,
  `http://2130706433:${P()}/`,
  `http://0x7f000001:${P()}/`,
  `http://0177.0.0.1:${P()}/`,
  `http://0x7f.0.0.1:${P()}/`,
  `http://127.1:${P()}/`,
  `http://127.0.1:${P()}/`,
  `http://0177.1:${P()}/`,
  `http://0x7f.1:${P()}/`,
  `http://127.0.0.1.:${P()}/`,
  `http://00000177.0.0.1:${P()}/`,
  `http://017700000001:${P()}/`,
  `http://127.000.000.001:${P()}/`,
  `http://127.255.255.254:${P()}/`,
  `http://%31%32%37.0.0.1:${P()}/`,
  `http://127。0。0。1:${P()}/`,
  `http://①②⑦.0.0.1:${P()}/`,
  // loopback in IPv6 forms
  `http://[::1]:${P()}/`,
  `http://[0:0:0:0:0:0:0:1]:${P()}/`,
  `http://[::ffff:127.0.0.1]:${P()}/`,
  `http://[::ffff:7f00:1]:${P()}/`,
  `http://[0:0:0:0:0:ffff:127.0.0.1]:${P()}/`,
  `http://[::127.0.0.1]:${P()}/`,
  `http://[::]:${P()}/`,
  // names for this machine
  `http://localhost:${P()}/`,
  `http://localhost.:${P()}/`,
  `http://LOCALHOST:${P()}/`,
  `http://app.localhost:${P()}/`,
  `http://0:${P()}/`,
  `http://0.0.0.0:${P()}/`,
  // cloud metadata
  'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
  'http://2852039166/latest/meta-data/',
  'http://0xa9fea9fe/',
  'http://0251.0376.0251.0376/',
  'http://169.254.43518/',
  'http://[::ffff:169.254.169.254]/',
  'http://[fd00:ec2::254]/latest/meta-data/',
  'http://metadata.google.internal/computeMetadata/v1/',
  'http://metadata.google.internal./computeMetadata/v1/',
  'http://METADATA.GOOGLE.INTERNAL/',
  'http://metadata/',
  'http://instance-data/latest/',
  'http://100.100.100.200/latest/meta-data/',
  'http://169.254.170.2/v2/credentials/',
  // private, shared, link-local, multicast, reserved ranges
  'http://10.0.0.1/',
  'http://172.16.0.1/',
  'http://172.31.255.255/',
  'http://192.168.0.1/',
  'http://100.64.0.1/',
  'http://[fc00::1]/',
  'http://[fe80::1]/',
  'http://224.0.0.1/',
  'http://255.255.255.255/',
  'http://240.0.0.1/',
  'http://192.0.2.1/',
  'http://[2002:7f00:1::]/',
  'http://[64:ff9b::7f00:1]/',
  'http://[2001:db8::1]/',
  'http://kubernetes.default.svc/',
  'http://db.internal/',
  'http://printer.local/',
  // schemes other than http(s)
  'file:///etc/passwd',
  `gopher://127.0.0.1:${P()}/_GET%20/`,
  `ftp://127.0.0.1:${P()}/`,
  'data:text/plain,hello',
  'javascript:alert(1)',
  `dict://127.0.0.1:${P()}/info`,
  `ws://127.0.0.1:${P()}/`,
  'ldap://127.0.0.1/',
  'jar:http://127.0.0.1/x.jar!/',
  // credentials in URLs
  `http://user:secret@127.0.0.1:${P()}/`,
  `http://127.0.0.1:80@127.0.0.1:${P()}/`,
  `http://admin@public.test/`,
  // smuggling through white space and backslashes
  `http://127.0.0.1\\@public.test/`,
  `http://127.0.0.1:${P()}/\t`,
  ` http://127.0.0.1:${P()}/`,
  // names resolving to private addresses (stub DNS)
  `http://rebind-loopback.test:${P()}/`,
  `http://loopback6.test:${P()}/`,
  `http://private10.test/`,
  `http://private172.test/`,
  `http://private192.test/`,
  `http://cgnat.test/`,
  `http://metadata-alias.test/latest/meta-data/`,
  `http://ec2-v6-metadata.test/`,
  `http://ula.test/`,
  `http://linklocal6.test/`,
  `http://mapped-loopback.test:${P()}/`,
  `http://mixed.test:${P()}/`,
  `http://multicast.test/`,
  `http://zero.test:${P()}/`,
  `http://empty.test/`,
  `http://does-not-exist.test/`,
  // origin.test may be loopback only on its own port
  `http://origin.test:${P()}/`,
];

/** Redirects from the allowed origin to places the guard must refuse. */
const redirectTargets = (): string[] => [
  `http://127.0.0.1:${P()}/`,
  `http://2130706433:${P()}/`,
  `//127.0.0.1:${P()}/`,
  `http://[::ffff:127.0.0.1]:${P()}/`,
  `http://rebind-loopback.test:${P()}/`,
  `http://origin.test:${P()}/`,
  'http://169.254.169.254/latest/meta-data/',
  'http://metadata.google.internal/',
  'file:///etc/passwd',
  `gopher://127.0.0.1:${P()}/`,
  `http://user:pw@origin.test:${originPort}/`,
];

describe('the egress guard against a corpus of malicious URLs', () => {
  it('has at least 60 URLs in the corpus', () => {
    expect(corpus().length + redirectTargets().length).toBeGreaterThanOrEqual(60);
    expect(new Set(corpus()).size).toBe(corpus().length);
  });

  it('refuses every corpus URL when only checking, and says why', async () => {
    const allowedByMistake: string[] = [];
    for (const url of corpus()) {
      const decision = await checkEgress(url, policy(), stubResolver);
      if (decision.allowed) allowedByMistake.push(url);
      expect(decision.reason.length).toBeGreaterThan(0);
    }
    expect(allowedByMistake).toEqual([]);
    expect(canaryConnections).toBe(0);
  });

  it('refuses every corpus URL with SsrfBlocked when fetching, and the canary is never reached', async () => {
    const client = new GuardedHttpClient();
    const notBlocked: string[] = [];
    for (const url of corpus()) {
      const outcome = await client.get(url, { policy: policy(), resolve: stubResolver, maxBytes: 1024, timeoutMs: 5_000 }).then(
        () => 'fetched',
        (error: unknown) => (error instanceof SsrfBlocked ? 'blocked' : `other: ${(error as Error).message}`),
      );
      if (outcome !== 'blocked') notBlocked.push(`${url} → ${outcome}`);
    }
    expect(notBlocked).toEqual([]);
    expect(canaryConnections).toBe(0);
  });

  it('refuses every redirect from an allowed host to a refused target, hop by hop', async () => {
    const client = new GuardedHttpClient();
    const notBlocked: string[] = [];
    for (const target of redirectTargets()) {
      const url = `http://origin.test:${originPort}/redirect?to=${encodeURIComponent(target)}`;
      const outcome = await client.get(url, { policy: policy(), resolve: stubResolver, maxBytes: 1024, timeoutMs: 5_000 }).then(
        () => 'fetched',
        (error: unknown) =>
          error instanceof SsrfBlocked && error.field === 'redirect[1]' ? 'blocked' : `other: ${(error as Error).name} ${(error as Error).message}`,
      );
      if (outcome !== 'blocked') notBlocked.push(`${target} → ${outcome}`);
    }
    expect(notBlocked).toEqual([]);
    expect(canaryConnections).toBe(0);
  });

  it('names the rule that refused: scheme, credentials, host name, address, DNS, allowlist', async () => {
    const rule = async (url: string, p = policy()) => (await checkEgress(url, p, stubResolver)).rule;
    expect(await rule('file:///etc/passwd')).toBe('scheme');
    expect(await rule(`http://user:pw@127.0.0.1:${P()}/`)).toBe('credentials');
    expect(await rule('http://metadata.google.internal/')).toBe('host-name');
    expect(await rule(`http://2130706433:${P()}/`)).toBe('address');
    expect(await rule('http://does-not-exist.test/')).toBe('dns');
    expect(await rule(`http://origin.test:${P()}/`)).toBe('address');
    const httpsOnly = egressPolicyFor({ test: ['public.test'] }, 'test');
    expect(await rule('http://public.test/', httpsOnly)).toBe('scheme');
    expect(await rule('https://other.test/', httpsOnly)).toBe('not-allowlisted');
    expect(await rule('https://public.test:8443/', httpsOnly)).toBe('port');
    // An environment without an allowlist may reach nothing, not even a public host.
    expect(await rule('https://public.test/', egressPolicyFor({}, 'prod'))).toBe('not-allowlisted');
  });
});

describe('what the guard allows', () => {
  it('answers with the resolved addresses for an allowed public host, without connecting', async () => {
    const decision = await checkEgress('https://public.test/path?q=1', egressPolicyFor({ dev: ['public.test'] }, 'dev'), stubResolver);
    expect(decision).toMatchObject({ allowed: true, rule: 'allowed', host: 'public.test', port: 443, resolvedAddresses: ['93.184.216.34'] });
  });

  it('fetches the allowlisted loopback origin, resolving its name exactly once (no rebinding window)', async () => {
    resolverCalls = [];
    const client = new GuardedHttpClient();
    const response = await client.get(`http://origin.test:${originPort}/hello`, { policy: policy(), resolve: stubResolver, maxBytes: 1024, timeoutMs: 5_000 });
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('hello from origin /hello');
    expect(response.address).toBe('127.0.0.1');
    expect(resolverCalls).toEqual(['origin.test']);
  });

  it('connects to the address it checked even when a later lookup would answer otherwise', async () => {
    let calls = 0;
    // First answer: the allowed origin; any later answer: the canary's address family would be refused.
    const rebinding: HostResolver = async () => (calls++ === 0 ? ['127.0.0.1'] : ['10.0.0.1']);
    const client = new GuardedHttpClient();
    const response = await client.get(`http://origin.test:${originPort}/`, { policy: policy(), resolve: rebinding, maxBytes: 1024, timeoutMs: 5_000 });
    expect(response.status).toBe(200);
    expect(calls).toBe(1);
  });

  it('follows allowed redirects and refuses a redirect loop past the hop cap', async () => {
    const client = new GuardedHttpClient();
    const to = `http://origin.test:${originPort}/landed`;
    const response = await client.get(`http://origin.test:${originPort}/redirect?to=${encodeURIComponent(to)}`, {
      policy: policy(),
      resolve: stubResolver,
      maxBytes: 1024,
      timeoutMs: 5_000,
    });
    expect(response.body.toString()).toBe('hello from origin /landed');
    expect(response.hops.map((hop) => hop.status)).toEqual([302, 200]);
    await expect(
      client.get(`http://origin.test:${originPort}/loop`, { policy: policy(), resolve: stubResolver, maxBytes: 1024, timeoutMs: 5_000 }),
    ).rejects.toThrow(/too many redirects/);
  });
});

describe('the canary itself', () => {
  it('is reachable when an explicit allowlist entry names it, so its zero count above means something', async () => {
    const before = canaryConnections;
    const client = new GuardedHttpClient();
    const canaryPolicy = egressPolicyFor(
      { test: { allowHttp: true, hosts: [{ host: 'canary.test', ports: [canaryPort], allowAddresses: ['127.0.0.1'] }] } },
      'test',
    );
    const response = await client.get(`http://canary.test:${canaryPort}/`, {
      policy: canaryPolicy,
      resolve: async () => ['127.0.0.1'],
      maxBytes: 1024,
      timeoutMs: 5_000,
    });
    expect(response.body.toString()).toBe('canary reached');
    expect(canaryConnections).toBe(before + 1);
  });
});
