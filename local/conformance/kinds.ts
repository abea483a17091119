import { createHash } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { DynamoItemStore } from '../../functions/adapters/dynamo-item-store.ts';
import { S3ObjectStore } from '../../functions/adapters/s3-object-store.ts';
import { canonicalJson } from '../../functions/core/canonical-json.ts';
import { cloudwatchAlarmUri, dynamodbItemUri, dynamodbTableUri, lambdaAliasUri, s3ObjectUri } from '../../functions/core/actions/resources.ts';
import type { ParsedResource } from '../../functions/core/actions/resources.ts';
import type { ManagedResources } from '../../functions/core/config/managed-resources.ts';
import { recordCommands } from './recording.ts';
import { openAlarms, openLambda } from './lambda-kind.ts';
import { openSsm, parameterOf } from './ssm-kind.ts';
import { openUrls } from './url-kind.ts';
import type { CommandSink, OpenedKind, ResourceKind, RunningServices } from './types.ts';

/**
 * The resource kinds the kit can stand up, snapshot and perturb, keyed by kind (core/actions/resources.ts).
 * Adding a kind (lambda, ssm, cloudwatch-alarm) is one entry: its service, its read-only commands, how a
 * command's input names what it touched, and how to prepare, read and change one resource out of band.
 */
export const RESOURCE_KINDS: ReadonlyMap<string, ResourceKind> = new Map<string, ResourceKind>([
  [
    's3',
    {
      kind: 's3',
      service: 's3',
      readCommands: new Set([
        'GetObject',
        'HeadObject',
        'HeadBucket',
        'ListObjects',
        'ListObjectsV2',
        'ListObjectVersions',
        'ListBuckets',
        'GetBucketVersioning',
        'GetBucketLocation',
        'GetObjectTagging',
        'GetObjectAttributes',
      ]),
      resourceOf: (input) => {
        if (typeof input.Bucket !== 'string') return undefined;
        return typeof input.Key === 'string' ? s3ObjectUri(input.Bucket, input.Key) : `s3://${input.Bucket}/`;
      },
      covers: (declared, touched) => declared.bucket === touched.bucket && (declared.key === touched.key || (touched.key === '' && declared.key !== undefined)),
      manage: (resource) => ({ buckets: [resource.key ? { name: resource.bucket!, prefixes: [resource.key] } : resource.bucket!] }),
      open: openS3,
    },
  ],
  [
    'dynamodb',
    {
      kind: 'dynamodb',
      service: 'dynamodb',
      readCommands: new Set(['GetItem', 'BatchGetItem', 'TransactGetItems', 'Query', 'Scan', 'DescribeTable', 'ListTables', 'DescribeTimeToLive']),
      resourceOf: (input) => {
        if (typeof input.TableName !== 'string') return undefined;
        // A put names its item by the item itself: its key is `id`, as prepare creates every table.
        const item = input.Item as Record<string, unknown> | undefined;
        const key =
          (input.Key as Record<string, unknown> | undefined) ??
          (item && Object.hasOwn(item, KEY_ATTRIBUTE) ? { [KEY_ATTRIBUTE]: item[KEY_ATTRIBUTE] } : undefined);
        if (key && typeof key === 'object') return dynamodbItemUri(input.TableName, nativeKey(key));
        return dynamodbTableUri(input.TableName);
      },
      // A table covers its items; an item covers only itself.
      covers: (declared, touched) => declared.table === touched.table && (declared.id === declared.table || declared.id === touched.id),
      manage: (resource) => ({ tables: [resource.table!] }),
      open: openDynamoDb,
    },
  ],
  [
    'ssm',
    {
      kind: 'ssm',
      service: 'ssm',
      readCommands: new Set(['GetParameter', 'GetParameters', 'GetParameterHistory', 'GetParametersByPath', 'DescribeParameters']),
      // `Name` may carry a version or label selector (`/app/flag:3`); parameter names have no `:` of their own.
      resourceOf: (input) => (typeof input.Name === 'string' ? `ssm://${input.Name.replace(/:[^/]*$/, '')}` : undefined),
      covers: (declared, touched) => parameterOf(declared) === parameterOf(touched),
      // `parameters` is the managedResources key the SSM kind brings (with the deploy actions).
      manage: (resource) => ({ parameters: [parameterOf(resource)] }) as Partial<ManagedResources>,
      open: openSsm,
    },
  ],
  [
    'lambda',
    {
      kind: 'lambda',
      service: 'lambda',
      readCommands: new Set(['GetAlias', 'ListAliases', 'ListVersionsByFunction', 'GetFunction', 'GetFunctionConfiguration']),
      // An alias call names the function and the alias; a version listing names the function alone (`lambda://fn`).
      resourceOf: (input) => {
        if (typeof input.FunctionName !== 'string') return undefined;
        return typeof input.Name === 'string' ? lambdaAliasUri(input.FunctionName, input.Name) : `lambda://${input.FunctionName}`;
      },
      // An alias covers itself and the reads of its function's versions.
      covers: (declared, touched) =>
        declared.function === (touched.function ?? touched.uri.slice('lambda://'.length)) && (touched.alias === undefined || declared.alias === touched.alias),
      manage: (resource) => ({ functions: [resource.function!] }) as Partial<ManagedResources>,
      open: openLambda,
    },
  ],
  [
    'cloudwatch-alarm',
    {
      kind: 'cloudwatch-alarm',
      service: 'cloudwatch',
      readCommands: new Set(['DescribeAlarms', 'DescribeAlarmHistory', 'DescribeAlarmsForMetric']),
      resourceOf: (input) => {
        const names = input.AlarmNames ?? (typeof input.AlarmName === 'string' ? [input.AlarmName] : undefined);
        // A batch read names several alarms: the first stands for the call (each is checked against the declared ones by the gate).
        return Array.isArray(names) && typeof names[0] === 'string' ? cloudwatchAlarmUri(names[0]) : undefined;
      },
      covers: (declared, touched) => declared.alarm === touched.alarm,
      manage: (resource) => ({ alarms: [resource.alarm!] }) as Partial<ManagedResources>,
      open: openAlarms,
    },
  ],
  [
    'url',
    {
      kind: 'url',
      readCommands: new Set(['GET']),
      resourceOf: (input) => (typeof input.url === 'string' ? input.url : undefined),
      covers: (declared, touched) => declared.uri === touched.uri,
      // The egress guard and the license registry govern URLs (checked in http.fetch's plan), not managedResources.
      manage: () => undefined,
      open: openUrls,
    },
  ],
]);

const clientOptions = (services: RunningServices, endpoint: string) => ({ endpoint, region: services.region, credentials: { ...services.credentials } });

function openS3(services: RunningServices, record: CommandSink): OpenedKind {
  const endpoint = services.endpoints.s3!;
  const options = { ...clientOptions(services, endpoint), forcePathStyle: true };
  const recorded = recordCommands(new S3Client(options), 's3', record);
  const s3 = new S3Client(options);
  const objects = new S3ObjectStore(recorded);
  const versionsOf = async (bucket: string, key: string) => {
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
    return [
      ...(listed.Versions ?? []).map((version) => ({ key: version.Key, versionId: version.VersionId, marker: false })),
      ...(listed.DeleteMarkers ?? []).map((marker) => ({ key: marker.Key, versionId: marker.VersionId, marker: true })),
    ].filter((version) => version.key === key);
  };
  return {
    context: () => ({ objects }),
    async prepare(resource) {
      const bucket = resource.bucket!;
      const exists = await s3.send(new HeadBucketCommand({ Bucket: bucket })).then(
        () => true,
        () => false,
      );
      if (!exists) await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      // Every version and delete marker of the bucket, so each check starts from an empty bucket.
      for (;;) {
        const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
        const all = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])];
        if (all.length === 0) break;
        for (const version of all) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: version.Key, VersionId: version.VersionId }));
      }
    },
    async snapshot(resource) {
      const bucket = resource.bucket!;
      const key = resource.key!;
      const history = await versionsOf(bucket, key);
      const current = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })).catch((error: Error) => {
        if (error.name === 'NoSuchKey' || error.name === 'NotFound') return undefined;
        throw error;
      });
      const state = current
        ? {
            sha256: createHash('sha256')
              .update(await current.Body!.transformToByteArray())
              .digest('hex'),
            contentType: current.ContentType,
            metadata: current.Metadata ?? {},
          }
        : null;
      return { state, history };
    },
    async perturb(resource, nonce) {
      await s3.send(
        new PutObjectCommand({
          Bucket: resource.bucket!,
          Key: resource.key!,
          Body: `changed out of band by the conformance kit (${nonce})\n`,
          Metadata: { 'conformance-perturbed': nonce },
        }),
      );
      return true;
    },
    destroy() {
      recorded.destroy();
      s3.destroy();
    },
  };
}

function openDynamoDb(services: RunningServices, record: CommandSink): OpenedKind {
  const endpoint = services.endpoints.dynamodb!;
  const translate = { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } };
  const recordedRaw = recordCommands(new DynamoDBClient(clientOptions(services, endpoint)), 'dynamodb', record);
  const raw = new DynamoDBClient(clientOptions(services, endpoint));
  const docs = DynamoDBDocumentClient.from(raw, translate);
  const items = new DynamoItemStore(DynamoDBDocumentClient.from(recordedRaw, translate));
  const read = async (resource: ParsedResource) => {
    const table = resource.table!;
    if (resource.id !== table) {
      const key = JSON.parse(resource.id.slice(table.length + 1)) as Record<string, unknown>;
      const found = await docs.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
      return found.Item ? [canonicalJson(found.Item)] : [];
    }
    const scanned = await docs.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
    return (scanned.Items ?? []).map((item) => canonicalJson(item)).sort();
  };
  return {
    context: () => ({ items }),
    async prepare(resource) {
      const table = resource.table!;
      await raw.send(new DeleteTableCommand({ TableName: table })).catch((error: Error) => {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      });
      // The shape of the embedded stack's `maestro-demo` table (local/dynamodb/tables.ts): keyed by `id`.
      await raw.send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: KEY_ATTRIBUTE, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: KEY_ATTRIBUTE, KeyType: 'HASH' }],
        }),
      );
      await waitUntilTableExists({ client: raw, maxWaitTime: 30 }, { TableName: table });
      await raw.send(new DescribeTableCommand({ TableName: table }));
    },
    async snapshot(resource) {
      const state = await read(resource);
      return { state, history: state };
    },
    async perturb(resource, nonce) {
      const table = resource.table!;
      if (resource.id === table) return false;
      const key = JSON.parse(resource.id.slice(table.length + 1)) as Record<string, unknown>;
      await docs.send(new PutCommand({ TableName: table, Item: { ...key, conformancePerturbed: nonce } }));
      return true;
    },
    destroy() {
      recordedRaw.destroy();
      raw.destroy();
    },
  };
}

/** The key attribute of every table the kit prepares (the embedded stack's `maestro-demo` shape). */
const KEY_ATTRIBUTE = 'id';

const ATTRIBUTE_TYPES = new Set(['S', 'N', 'B', 'BOOL', 'NULL', 'M', 'L', 'SS', 'NS', 'BS']);

/** A key as the caller wrote it: a raw client's `{id: {S: 'x'}}` becomes `{id: 'x'}`; a document client's is already native. */
function nativeKey(key: Record<string, unknown>): Record<string, unknown> {
  const marshalled = Object.values(key).every(
    (value) => typeof value === 'object' && value !== null && Object.keys(value).length === 1 && ATTRIBUTE_TYPES.has(Object.keys(value)[0]),
  );
  // biome-ignore lint/suspicious/noExplicitAny: unmarshall takes the SDK's AttributeValue map
  return marshalled ? unmarshall(key as any) : key;
}
