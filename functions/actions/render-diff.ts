import { createTwoFilesPatch } from 'diff';

/** Diffs larger than this are cut: a plan is stored in one DynamoDB item (400 KB). */
const MAX_DIFF_CHARS = 32_768;

/** A unified diff of a resource before and after, for people reviewing a plan. */
export function renderDiff(resource: string, before: string | undefined, after: string | undefined): string {
  const patch = createTwoFilesPatch(
    before === undefined ? '/dev/null' : `a/${resource}`,
    after === undefined ? '/dev/null' : `b/${resource}`,
    before ?? '',
    after ?? '',
    undefined,
    undefined,
    { context: 3 },
  );
  // Drop the "Index:"/"====" preamble: reviewers want the hunks.
  const body = patch
    .split('\n')
    .filter((line) => !line.startsWith('===='))
    .join('\n');
  return body.length > MAX_DIFF_CHARS ? `${body.slice(0, MAX_DIFF_CHARS)}\n… diff truncated at ${MAX_DIFF_CHARS} characters` : body;
}

/** Text of a body when it is printable UTF-8, else a placeholder naming its size and digest. */
export function describeBody(body: Buffer, sha256: string): string {
  const text = body.toString('utf8');
  const printable = !text.includes('\uFFFD') && !/[\u0000-\u0008\u000E-\u001F]/.test(text);
  return printable ? text : `<binary, ${body.length} bytes, sha256 ${sha256}>\n`;
}

export function stableJson(value: unknown): string {
  return `${JSON.stringify(value, [...flattenKeys(value)].sort(), 2)}\n`;
}

/** Every key at any depth (a Set: a key named `__proto__` is a key like any other). */
function flattenKeys(value: unknown, keys = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const member of value) flattenKeys(member, keys);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, member] of Object.entries(value)) {
      keys.add(key);
      flattenKeys(member, keys);
    }
  }
  return keys;
}
