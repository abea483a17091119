import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The S3 operation a path-style request names (`GET /bucket/key` → GetObject), with the bucket and key. */
export interface ProxiedS3Call {
  command: string;
  bucket?: string;
  key?: string;
}

/** The operation of a path-style S3 REST request, named as the SDK names its command (without `Command`). */
export function s3CallOf(method: string, url: string, headers: Record<string, string | string[] | undefined>): ProxiedS3Call {
  const parsed = new URL(url, 'http://s3.local');
  const [bucketPart, ...keyParts] = parsed.pathname.slice(1).split('/');
  const bucket = bucketPart ? decodeURIComponent(bucketPart) : undefined;
  const key = keyParts.length > 0 && keyParts.join('/') !== '' ? decodeURIComponent(keyParts.join('/')) : undefined;
  const has = (name: string) => parsed.searchParams.has(name);
  const on = key === undefined ? 'bucket' : 'object';
  const named = (command: string): ProxiedS3Call => ({ command, bucket, key });
  switch (method) {
    case 'HEAD':
      return named(on === 'object' ? 'HeadObject' : 'HeadBucket');
    case 'GET':
      if (on === 'object') return named(has('tagging') ? 'GetObjectTagging' : has('attributes') ? 'GetObjectAttributes' : 'GetObject');
      if (!bucket) return named('ListBuckets');
      if (has('versions')) return named('ListObjectVersions');
      if (has('versioning')) return named('GetBucketVersioning');
      if (has('location')) return named('GetBucketLocation');
      return named(parsed.searchParams.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects');
    case 'PUT':
      if (on === 'object') return named(headers['x-amz-copy-source'] ? 'CopyObject' : has('tagging') ? 'PutObjectTagging' : 'PutObject');
      return named(has('versioning') ? 'PutBucketVersioning' : 'CreateBucket');
    case 'DELETE':
      return named(on === 'object' ? 'DeleteObject' : 'DeleteBucket');
    case 'POST':
      return named(has('delete') ? 'DeleteObjects' : 'PostObject');
    default:
      return named(`${method} (unknown S3 operation)`);
  }
}

export interface RecordingProxy {
  url: string;
  stop(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of the S3 stand-in that reports each request's operation before
 * forwarding it unchanged (and marks it refused when the answer is an error): what the kit gives remote actions' commands as their S3 endpoint, so the
 * calls they make in their own process are recorded like the in-process actions' SDK commands.
 */
export async function startS3RecordingProxy(target: string, record: (call: ProxiedS3Call) => { refused?: boolean } | undefined): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const server = createServer((incoming, outgoing) => {
    const recorded = record(s3CallOf(incoming.method ?? 'GET', incoming.url ?? '/', incoming.headers));
    const forwarded = request(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        if (recorded && (answer.statusCode ?? 502) >= 400) recorded.refused = true;
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', (error) => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end(error.message);
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
