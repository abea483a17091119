import { describe, expect, it } from 'vitest';
import { matchesEventPattern, validateEventPattern } from '../../functions/core/triggers/event-pattern.ts';
import { latestFireTime, nextFireTime, parseScheduleExpression } from '../../functions/core/triggers/schedule-expression.ts';
import { verifyWebhook, webhookSignature } from '../../functions/core/triggers/webhook-signature.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const next = (expression: string, after: string) => iso(nextFireTime(parseScheduleExpression(expression), at(after)));

describe('schedule expressions (UTC, EventBridge Scheduler dialect)', () => {
  it('computes cron() next times: every minute, fixed times, ranges, steps, names, day of week, year', () => {
    expect(next('cron(* * * * ? *)', '2026-12-02T03:04:05Z')).toBe('2026-12-02T03:05:00.000Z');
    expect(next('cron(0 3 * * ? *)', '2026-12-02T03:00:00Z')).toBe('2026-12-03T03:00:00.000Z');
    expect(next('cron(0/15 9-17 * * ? *)', '2026-12-02T17:50:00Z')).toBe('2026-12-03T09:00:00.000Z');
    expect(next('cron(30 8 ? * MON-FRI *)', '2026-12-04T09:00:00Z')).toBe('2026-12-07T08:30:00.000Z'); // Friday → Monday
    expect(next('cron(0 0 1 JAN ? *)', '2026-12-02T00:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(next('cron(0 12 29 2 ? *)', '2026-03-01T00:00:00Z')).toBe('2028-02-29T12:00:00.000Z');
    expect(next('cron(0 0 1 1 ? 2025)', '2026-01-01T00:00:00Z')).toBeUndefined();
    expect(next('cron(15,45 * * * ? *)', '2026-12-02T03:15:00Z')).toBe('2026-12-02T03:45:00.000Z');
    expect(next('cron(0 6 ? * 1 *)', '2026-12-02T00:00:00Z')).toBe('2026-12-06T06:00:00.000Z'); // 1 = Sunday
  });

  it('computes rate() from its anchor and at() once', () => {
    const anchor = at('2026-12-02T03:00:30Z');
    expect(iso(nextFireTime(parseScheduleExpression('rate(5 minutes)'), at('2026-12-02T03:07:00Z'), anchor))).toBe('2026-12-02T03:10:30.000Z');
    expect(next('at(2026-12-24T18:00:00)', '2026-12-02T00:00:00Z')).toBe('2026-12-24T18:00:00.000Z');
    expect(next('at(2026-12-24T18:00:00)', '2026-12-24T18:00:00Z')).toBeUndefined();
  });

  it('finds the latest due time within a window (what a restarted scheduler fires once)', () => {
    const every = parseScheduleExpression('cron(* * * * ? *)');
    expect(iso(latestFireTime(every, at('2026-12-02T03:04:05Z'), at('2026-12-02T02:59:05Z')))).toBe('2026-12-02T03:04:00.000Z');
    expect(latestFireTime(parseScheduleExpression('cron(0 3 * * ? *)'), at('2026-12-02T04:00:00Z'), at('2026-12-02T03:55:00Z'))).toBeUndefined();
  });

  it('refuses bad expressions naming what is wrong', () => {
    expect(() => parseScheduleExpression('cron(* * * * * *)')).toThrow(/exactly one of day-of-month and day-of-week must be \?/);
    expect(() => parseScheduleExpression('cron(61 * * * ? *)')).toThrow(/minutes: 61 is outside 0-59/);
    expect(() => parseScheduleExpression('cron(0 0 L * ? *)')).toThrow(/not supported/);
    expect(() => parseScheduleExpression('cron(0 0 * *)')).toThrow(/6 fields/);
    expect(() => parseScheduleExpression('rate(0 minutes)')).toThrow(/positive/);
    expect(() => parseScheduleExpression('every day')).toThrow(/must be rate/);
  });
});

describe('event patterns', () => {
  const alarm = {
    id: 'e1',
    source: 'aws.cloudwatch',
    'detail-type': 'CloudWatch Alarm State Change',
    detail: { state: { value: 'ALARM' }, alarmName: 'api-errors', count: 7, tags: ['a', 'b'] },
  };

  it('matches values, prefixes, anything-but, exists, numeric ranges and lists in the event', () => {
    expect(matchesEventPattern(validateEventPattern({ source: ['aws.cloudwatch'], detail: { state: { value: ['ALARM'] } } }), alarm)).toBe(true);
    expect(matchesEventPattern({ detail: { alarmName: [{ prefix: 'api-' }] } }, alarm)).toBe(true);
    expect(matchesEventPattern({ detail: { state: { value: [{ 'anything-but': 'OK' }] } } }, alarm)).toBe(true);
    expect(matchesEventPattern({ detail: { state: { value: [{ 'anything-but': ['ALARM'] }] } } }, alarm)).toBe(false);
    expect(matchesEventPattern({ detail: { missing: [{ exists: false }] } }, alarm)).toBe(true);
    expect(matchesEventPattern({ detail: { count: [{ numeric: ['>', 5, '<=', 7] }] } }, alarm)).toBe(true);
    expect(matchesEventPattern({ detail: { tags: ['b'] } }, alarm)).toBe(true);
    expect(matchesEventPattern({ source: ['aws.codepipeline'] }, alarm)).toBe(false);
    expect(matchesEventPattern({ detail: { nested: { value: ['x'] } } }, alarm)).toBe(false);
    // Inherited names are not fields of the event.
    expect(matchesEventPattern({ constructor: [{ exists: true }] }, alarm)).toBe(false);
  });

  it('refuses malformed patterns naming the field', () => {
    expect(() => validateEventPattern({ source: [] })).toThrow(expect.objectContaining({ field: 'pattern.source' }));
    expect(() => validateEventPattern({ detail: { x: [{ regex: '.*' }] } })).toThrow(expect.objectContaining({ field: 'pattern.detail.x[0]' }));
    expect(() => validateEventPattern({ detail: { x: [{ numeric: ['~', 1] }] } })).toThrow(/operator/);
  });
});

describe('webhook signatures', () => {
  const secret = 'a-shared-secret';
  const now = new Date('2026-12-02T03:00:00Z');
  const body = (timestamp: unknown) => Buffer.from(JSON.stringify({ ref: 'refs/heads/main', timestamp }));
  const check = (raw: Buffer, signature: string | undefined) =>
    verifyWebhook({ secret, rawBody: raw, signature, timestampField: 'timestamp', toleranceSeconds: 300, now });

  it('accepts a body signed with the secret whose timestamp is within the window (seconds or ISO)', () => {
    const raw = body(Math.floor(now.getTime() / 1000) - 60);
    expect(check(raw, webhookSignature(secret, raw)).body).toMatchObject({ ref: 'refs/heads/main' });
    const isoRaw = body('2026-12-02T03:02:00Z');
    expect(check(isoRaw, webhookSignature(secret, isoRaw)).timestamp).toBe(Date.parse('2026-12-02T03:02:00Z'));
  });

  it('refuses a missing, wrong or other-length signature, an altered body, an old or missing timestamp (401 WebhookRefused)', () => {
    const raw = body(Math.floor(now.getTime() / 1000));
    const refused = (fn: () => unknown, field: string) => expect(fn).toThrow(expect.objectContaining({ name: 'WebhookRefused', status: 401, field }));
    refused(() => check(raw, undefined), 'X-Hub-Signature-256');
    refused(() => check(raw, webhookSignature('another-secret', raw)), 'X-Hub-Signature-256');
    refused(() => check(raw, 'sha256=00'), 'X-Hub-Signature-256');
    refused(() => check(Buffer.concat([raw, Buffer.from(' ')]), webhookSignature(secret, raw)), 'X-Hub-Signature-256');
    const old = body(Math.floor(now.getTime() / 1000) - 301);
    refused(() => check(old, webhookSignature(secret, old)), 'body.timestamp');
    const none = Buffer.from('{"ref":"x"}');
    refused(() => check(none, webhookSignature(secret, none)), 'body.timestamp');
  });
});
