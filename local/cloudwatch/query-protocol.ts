// The AWS query protocol as CloudWatch speaks it (API version 2010-08-01):
// form-encoded Action=...&Version=... with lists as Name.member.N, answered in
// XML. Members come in as strings, so the numeric and boolean ones are typed
// here by name before the operation validates them as for JSON.

import { randomUUID } from 'node:crypto';
import { CloudWatchError } from './cloudwatch-errors.ts';

export const API_VERSION = '2010-08-01';
export const XML_NAMESPACE = 'http://monitoring.amazonaws.com/doc/2010-08-01/';

const NUMERIC_MEMBERS = new Set(['Period', 'EvaluationPeriods', 'DatapointsToAlarm', 'Threshold', 'MaxRecords']);
const BOOLEAN_MEMBERS = new Set(['ActionsEnabled', 'ReturnData']);
// Deeper than any CloudWatch input (Metrics.member.N.MetricStat.Metric.Dimensions.member.N.Name).
const MAX_DEPTH = 12;

export interface QueryRequest {
  action: string;
  input: Record<string, unknown>;
}

export function parseQueryRequest(form: URLSearchParams): QueryRequest {
  const action = form.get('Action');
  if (!action) throw new CloudWatchError('MissingRequiredParameterException', 'The request must contain the parameter Action.');
  const version = form.get('Version');
  if (version !== null && version !== API_VERSION) {
    throw new CloudWatchError('InvalidParameterValueException', `Version ${version} is not supported; this endpoint speaks ${API_VERSION}.`);
  }
  const input: Record<string, unknown> = {};
  for (const [key, value] of form) {
    if (key === 'Action' || key === 'Version') continue;
    assign(input, key.split('.'), value);
  }
  return { action, input: listsToArrays(input) as Record<string, unknown> };
}

// Builds the tree with "member" levels kept as maps keyed by position; listsToArrays flattens them.
function assign(root: Record<string, unknown>, path: string[], value: string): void {
  if (path.length > MAX_DEPTH || path.some((segment) => segment === '' || segment === '__proto__')) {
    throw new CloudWatchError('InvalidParameterValueException', `Parameter ${path.join('.')} is not a valid member path.`);
  }
  let node: Record<string, unknown> = root;
  for (const [index, segment] of path.entries()) {
    const last = index === path.length - 1;
    if (last) {
      node[segment] = typed(path.filter((part) => part !== 'member' && !/^\d+$/.test(part)).at(-1)!, value);
      return;
    }
    const child = Object.hasOwn(node, segment) ? node[segment] : undefined;
    if (child !== undefined && (typeof child !== 'object' || child === null)) {
      throw new CloudWatchError('InvalidParameterValueException', `Parameter ${path.join('.')} conflicts with another member.`);
    }
    const next = (child as Record<string, unknown> | undefined) ?? Object.create(null);
    node[segment] = next;
    node = next;
  }
}

function typed(member: string, value: string): unknown {
  if (NUMERIC_MEMBERS.has(member)) {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number)) {
      throw new CloudWatchError('InvalidParameterValueException', `Value ${value} for parameter ${member} is not a number.`);
    }
    return number;
  }
  if (BOOLEAN_MEMBERS.has(member)) {
    if (value !== 'true' && value !== 'false')
      throw new CloudWatchError('InvalidParameterValueException', `Value ${value} for parameter ${member} must be true or false.`);
    return value === 'true';
  }
  return value;
}

function listsToArrays(node: unknown): unknown {
  if (typeof node !== 'object' || node === null) return node;
  const record = node as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && keys[0] === 'member') {
    const members = record.member as Record<string, unknown>;
    const positions = Object.keys(members);
    if (positions.some((position) => !/^[1-9]\d{0,3}$/.test(position))) {
      throw new CloudWatchError('InvalidParameterValueException', 'List members are numbered from 1: Name.member.1, Name.member.2, ...');
    }
    return positions
      .map(Number)
      .sort((a, b) => a - b)
      .map((position) => listsToArrays(members[String(position)]));
  }
  const converted: Record<string, unknown> = {};
  for (const key of keys) converted[key] = listsToArrays(record[key]);
  return converted;
}

export function xmlResponse(action: string, output: object): string {
  const result = Object.keys(output).length > 0 ? `<${action}Result>${xmlMembers(output)}</${action}Result>` : '';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${XML_NAMESPACE}">${result}<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
}

export function xmlErrorResponse(type: 'Sender' | 'Receiver', code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${XML_NAMESPACE}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

function xmlMembers(value: object): string {
  return Object.entries(value)
    .filter(([, member]) => member !== undefined)
    .map(([name, member]) => `<${name}>${xmlValue(member)}</${name}>`)
    .join('');
}

function xmlValue(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((member) => `<member>${xmlValue(member)}</member>`).join('');
  if (typeof value === 'object' && value !== null) return xmlMembers(value);
  return escapeXml(String(value));
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
