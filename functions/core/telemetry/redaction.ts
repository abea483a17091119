/**
 * Maestro's redaction rules, in one place. A rule names the keys it covers (matched case-insensitively
 * at any depth) and the sinks it applies to:
 * - `logs`: Powertools log lines (CloudWatch Logs; read by many, kept by retention);
 * - `export`: the JSON Lines audit export a SIEM ingests.
 * The audit trail itself (DynamoDB, access-controlled, hash-chained) keeps what was recorded: a
 * reason-for-access is evidence there, and redacting it would break the chain.
 */
export const RedactionSink = { logs: 'logs', export: 'export' } as const;
export type RedactionSink = (typeof RedactionSink)[keyof typeof RedactionSink];

export const REDACTION_RULES = [
  {
    name: 'secrets',
    keys: /^(.*(secret|password|passwd|token|credential|private[-_]?key|api[-_]?key|session[-_]?key).*|authorization|cookie|signature)$/i,
    sinks: ['logs', 'export'],
  },
  {
    name: 'reasons',
    keys: /^(reasonForAccess|reason)$/i,
    sinks: ['logs'],
  },
] as const satisfies readonly { name: string; keys: RegExp; sinks: readonly RedactionSink[] }[];

export const REDACTED = '[REDACTED]';

/** A copy of `value` with every member a rule covers for `sink` replaced by `[REDACTED]`. */
export function redact<T>(value: T, sink: RedactionSink): T {
  return redactWithFlag(value, sink).value;
}

/** Like {@link redact}, also saying whether anything was redacted. */
export function redactWithFlag<T>(value: T, sink: RedactionSink): { value: T; redacted: boolean } {
  const rules = REDACTION_RULES.filter((rule) => (rule.sinks as readonly string[]).includes(sink));
  let redacted = false;
  const walk = (member: unknown, depth: number): unknown => {
    if (depth > 32 || member === null || typeof member !== 'object') return member;
    if (Array.isArray(member)) return member.map((item) => walk(item, depth + 1));
    if (member instanceof Error) return member;
    // fromEntries defines own properties, so a member named `__proto__` stays a member.
    return Object.fromEntries(
      Object.entries(member).map(([key, inner]) => {
        if (inner !== undefined && rules.some((rule) => rule.keys.test(key))) {
          redacted = true;
          return [key, REDACTED];
        }
        return [key, walk(inner, depth + 1)];
      }),
    );
  };
  const result = walk(value, 0) as T;
  return { value: result, redacted };
}
