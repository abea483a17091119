import { canonicalJson } from '../canonical-json.ts';

/**
 * The resources an action reads and changes, named by URI in one scheme for every kind:
 *
 * | kind         | URI                                      | id (what Cedar sees as `resource.id`) |
 * |--------------|------------------------------------------|---------------------------------------|
 * | `s3`         | `s3://<bucket>/<key>`                    | `<bucket>/<key>`                      |
 * | `dynamodb`   | `dynamodb://<table>` (the table)         | `<table>`                             |
 * |              | `dynamodb://<table>/<canonical key JSON>`| `<table>/<canonical key JSON>`        |
 * | `url`        | `https://…` or `http://…`                | the URL                               |
 * | `dr-restore` | `dr-restore://<job id>`                  | `<job id>`                            |
 * | `lambda`     | `lambda://<function>:<alias>`            | `<function>:<alias>`                  |
 * | `ssm`        | `ssm://<parameter name>` (`ssm:///a/b`)  | `<parameter name>`                    |
 * | `cloudwatch-alarm` | `cloudwatch-alarm://<alarm name>`  | `<alarm name>`                        |
 * | `none`       | `noop://`                                | `''`                                  |
 *
 * A later kind takes its scheme as its kind (`ssm://<name>` is kind `ssm`). Actions compute their
 * resources from their params alone, with no I/O: where only I/O could tell (a DynamoDB item's key
 * needs the table's key schema), they name the enclosing resource (the table).
 */
export const ResourceAccess = { read: 'read', write: 'write' } as const;
export type ResourceAccess = (typeof ResourceAccess)[keyof typeof ResourceAccess];

/** One resource an action touches, and how. */
export interface ResourceRef {
  readonly uri: string;
  readonly access: ResourceAccess;
}

/** A resource URI taken apart: its kind, its id within the kind, and the parts policy may name. */
export interface ParsedResource {
  uri: string;
  kind: string;
  id: string;
  bucket?: string;
  key?: string;
  table?: string;
  /** lambda: the function and its alias. */
  function?: string;
  alias?: string;
  /** ssm: the parameter's name. */
  parameter?: string;
  /** cloudwatch-alarm: the alarm's name. */
  alarm?: string;
}

export const s3ObjectUri = (bucket: string, key: string) => `s3://${bucket}/${key}`;
export const dynamodbTableUri = (table: string) => `dynamodb://${table}`;
export const dynamodbItemUri = (table: string, key: Record<string, unknown>) => `dynamodb://${table}/${canonicalJson(key)}`;

export const lambdaAliasUri = (functionName: string, alias: string) => `lambda://${functionName}:${alias}`;
export const ssmParameterUri = (name: string) => `ssm://${name}`;
export const cloudwatchAlarmUri = (name: string) => `cloudwatch-alarm://${name}`;

export function parseResource(uri: string): ParsedResource {
  const s3 = /^s3:\/\/([^/]+)\/(.*)$/s.exec(uri);
  if (s3) return { uri, kind: 's3', id: `${s3[1]}/${s3[2]}`, bucket: s3[1], key: s3[2] };
  const dynamodb = /^dynamodb:\/\/([^/]+)(?:\/(.*))?$/s.exec(uri);
  if (dynamodb) return { uri, kind: 'dynamodb', id: dynamodb[2] === undefined ? dynamodb[1] : `${dynamodb[1]}/${dynamodb[2]}`, table: dynamodb[1] };
  const lambda = /^lambda:\/\/([^:/]+):([^:/]+)$/s.exec(uri);
  if (lambda) return { uri, kind: 'lambda', id: `${lambda[1]}:${lambda[2]}`, function: lambda[1], alias: lambda[2] };
  const ssm = /^ssm:\/\/(.+)$/s.exec(uri);
  if (ssm) return { uri, kind: 'ssm', id: ssm[1], parameter: ssm[1] };
  const alarm = /^cloudwatch-alarm:\/\/(.+)$/s.exec(uri);
  if (alarm) return { uri, kind: 'cloudwatch-alarm', id: alarm[1], alarm: alarm[1] };
  if (/^https?:\/\//i.test(uri)) return { uri, kind: 'url', id: uri };
  if (uri === 'noop://') return { uri, kind: 'none', id: '' };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/s.exec(uri);
  // Not in the scheme at all: a kind no gate knows, so the managed-resources gate refuses it.
  if (!scheme) return { uri, kind: 'invalid', id: uri };
  return { uri, kind: scheme[1], id: scheme[2] };
}
