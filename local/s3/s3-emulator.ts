import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBucket, deleteBucket, getBucketLocation, getBucketVersioning, headBucket, listBuckets, putBucketVersioning } from './bucket-operations.ts';
import { S3Error, S3Errors } from './errors.ts';
import { header, sendError, type OperationHandler, type S3Request } from './http.ts';
import { listObjects, listObjectsV2, listObjectVersions } from './list-operations.ts';
import { abortMultipartUpload, completeMultipartUpload, createMultipartUpload, listParts, uploadPart } from './multipart-operations.ts';
import { copyObject, deleteObject, deleteObjects, getObject, headObject, putObject } from './object-operations.ts';
import { ObjectStore } from './object-store.ts';
import { operationName } from './routing.ts';

export interface S3EmulatorOptions {
  /** Where buckets, objects, versions and uploads live; reused across restarts. */
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port chosen by the OS. */
  port?: number;
  /**
   * Objects (`bucket/key`) whose PutObject is stored but never answered: a crash test's way to stop a
   * process between a write that landed and the caller learning of it, whatever the machine's load.
   */
  unansweredWrites?: readonly string[];
}

export interface RunningS3Emulator {
  /** Endpoint for an S3Client with `forcePathStyle: true`, e.g. http://127.0.0.1:43121 */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** The operations served; anything else is answered 501 NotImplemented with its name. */
const OPERATIONS: Record<string, OperationHandler> = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  GetBucketLocation: getBucketLocation,
  GetBucketVersioning: getBucketVersioning,
  PutBucketVersioning: putBucketVersioning,
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
  ListObjectVersions: listObjectVersions,
  PutObject: putObject,
  GetObject: getObject,
  HeadObject: headObject,
  DeleteObject: deleteObject,
  DeleteObjects: deleteObjects,
  CopyObject: copyObject,
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
};

/** Splits a path-style URL into bucket, key and query; a malformed percent-encoding is InvalidURI. */
function parseTarget(rawUrl: string): { bucket: string; key: string; query: URLSearchParams; resource: string } {
  const questionMark = rawUrl.indexOf('?');
  const path = questionMark === -1 ? rawUrl : rawUrl.slice(0, questionMark);
  const query = new URLSearchParams(questionMark === -1 ? '' : rawUrl.slice(questionMark + 1));
  if (!path.startsWith('/')) throw S3Errors.invalidUri();
  const rest = path.slice(1);
  const slash = rest.indexOf('/');
  const rawBucket = slash === -1 ? rest : rest.slice(0, slash);
  const rawKey = slash === -1 ? '' : rest.slice(slash + 1);
  try {
    const bucket = decodeURIComponent(rawBucket);
    const key = decodeURIComponent(rawKey);
    return { bucket, key, query, resource: key === '' ? `/${bucket}` : `/${bucket}/${key}` };
  } catch {
    throw S3Errors.invalidUri();
  }
}

async function handle(unanswered: ReadonlySet<string>, store: ObjectStore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  res.setHeader('x-amz-request-id', requestId);
  res.setHeader('x-amz-id-2', requestId);
  res.setHeader('server', 'MaestroLocalS3');
  // Errors on the request stream (client resets) are handled where the body is read; never let one escape.
  req.on('error', () => {});

  let resource = req.url ?? '/';
  try {
    const target = parseTarget(req.url ?? '/');
    resource = target.resource;
    const method = req.method ?? 'GET';
    const operation = operationName(method, target.bucket, target.key, target.query, header(req, 'x-amz-copy-source') !== undefined);
    if (!Object.hasOwn(OPERATIONS, operation)) throw S3Errors.notImplemented(operation);
    const handler = OPERATIONS[operation];
    const request: S3Request = { req, res, store, method, ...target, requestId, unanswered };
    await handler(request);
  } catch (error) {
    if (error instanceof S3Error) {
      sendError({ req, res, requestId }, error, resource);
    } else {
      console.error(`[s3-emulator] ${req.method} ${req.url} failed:`, error);
      sendError({ req, res, requestId }, S3Errors.internal(), resource);
    }
  }
}

/** Starts an S3-compatible endpoint (path-style, signatures not checked) backed by `dataDir`. */
export async function startS3Emulator(options: S3EmulatorOptions): Promise<RunningS3Emulator> {
  const store = await ObjectStore.open(options.dataDir);
  const unanswered = new Set(options.unansweredWrites ?? []);
  const server = createServer((req, res) => {
    handle(unanswered, store, req, res).catch(() => res.destroy());
  });
  // Garbage on the socket is answered 400 by Node itself; make sure it is never an uncaught error.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets held by SDK clients would otherwise keep close() waiting.
        server.closeAllConnections();
      }),
  };
}
