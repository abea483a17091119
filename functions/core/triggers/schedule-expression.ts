import { ValidationFailed } from '../errors.ts';

/**
 * EventBridge Scheduler's expressions, in UTC: `rate(5 minutes)`, `cron(minutes hours day-of-month
 * month day-of-week year)` and `at(2026-12-24T18:00:00)`. Parsed here (no library: the grammar is
 * small and a well-kept library for exactly this dialect does not exist), so the embedded stack's
 * scheduler fires at the same times as AWS.
 */
export type ScheduleExpression = { kind: 'rate'; periodMs: number } | { kind: 'cron'; fields: CronFields } | { kind: 'at'; at: number };

interface CronFields {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  /** Empty: `?` (day-of-week decides). */
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 1 (SUN) to 7 (SAT), as EventBridge numbers them; empty: `?`. */
  daysOfWeek: ReadonlySet<number>;
  /** Empty: every year. */
  years: ReadonlySet<number>;
}

const RATE_UNITS: ReadonlyMap<string, number> = new Map([
  ['minute', 60_000],
  ['minutes', 60_000],
  ['hour', 3_600_000],
  ['hours', 3_600_000],
  ['day', 86_400_000],
  ['days', 86_400_000],
]);
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function fail(expression: string, why: string, field: string): never {
  throw new ValidationFailed(`${expression}: ${why}`, { field });
}

/** One cron field: `*`, `n`, `a-b`, `*\/s`, `a-b/s`, `a/s`, lists of those; names for months and weekdays. */
function parseField(text: string, range: [number, number], names: readonly string[] | undefined, what: string, expression: string, field: string): Set<number> {
  const values = new Set<number>();
  const number = (token: string): number => {
    const named = names?.indexOf(token.toUpperCase()) ?? -1;
    if (named >= 0) return named + range[0];
    if (!/^\d+$/.test(token)) fail(expression, `${what}: "${token}" is not a number${names ? ' or a name' : ''} (L, W and # are not supported)`, field);
    const value = Number(token);
    if (value < range[0] || value > range[1]) fail(expression, `${what}: ${value} is outside ${range[0]}-${range[1]}`, field);
    return value;
  };
  for (const part of text.split(',')) {
    const [base, stepText, extra] = part.split('/');
    if (extra !== undefined || base === '') fail(expression, `${what}: "${part}" is malformed`, field);
    const step = stepText === undefined ? 1 : number(stepText);
    if (step < 1) fail(expression, `${what}: the step must be at least 1`, field);
    let [from, to] = range;
    if (base !== '*') {
      const bounds = base.split('-');
      if (bounds.length > 2) fail(expression, `${what}: "${base}" is malformed`, field);
      from = number(bounds[0]);
      to = bounds.length === 2 ? number(bounds[1]) : stepText === undefined ? from : range[1];
      if (to < from) fail(expression, `${what}: the range ${base} runs backwards`, field);
    }
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return values;
}

/** Parses a schedule expression; a bad one is refused naming `field` and what is wrong. */
export function parseScheduleExpression(expression: string, field = 'schedule'): ScheduleExpression {
  const text = expression.trim();
  const rate = /^rate\((\d+) ([a-z]+)\)$/.exec(text);
  if (rate) {
    const unit = RATE_UNITS.get(rate[2]);
    const n = Number(rate[1]);
    if (!unit || n < 1) fail(text, 'rate() takes a positive number of minutes, hours or days', field);
    return { kind: 'rate', periodMs: n * unit };
  }
  const at = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(text);
  if (at) {
    const time = Date.parse(`${at[1]}Z`);
    if (Number.isNaN(time)) fail(text, 'at() takes a date-time yyyy-mm-ddThh:mm:ss (UTC)', field);
    return { kind: 'at', at: time };
  }
  const cron = /^cron\(([^)]*)\)$/.exec(text);
  if (!cron) fail(text, 'must be rate(n unit), cron(minutes hours day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)', field);
  const parts = cron[1].trim().split(/\s+/);
  if (parts.length !== 6) fail(text, `cron() takes 6 fields (minutes hours day-of-month month day-of-week year), not ${parts.length}`, field);
  const [minutes, hours, dom, month, dow, year] = parts;
  if ((dom === '?') === (dow === '?')) fail(text, 'exactly one of day-of-month and day-of-week must be ?', field);
  return {
    kind: 'cron',
    fields: {
      minutes: parseField(minutes, [0, 59], undefined, 'minutes', text, field),
      hours: parseField(hours, [0, 23], undefined, 'hours', text, field),
      daysOfMonth: dom === '?' ? new Set() : parseField(dom, [1, 31], undefined, 'day-of-month', text, field),
      months: parseField(month, [1, 12], MONTHS, 'month', text, field),
      daysOfWeek: dow === '?' ? new Set() : parseField(dow, [1, 7], WEEKDAYS, 'day-of-week', text, field),
      years: year === '*' ? new Set() : parseField(year, [1970, 2199], undefined, 'year', text, field),
    },
  };
}

const MINUTE = 60_000;
const DAY = 86_400_000;
/** How far ahead a cron expression is searched for its next time (a `year` field can name a far year). */
const SEARCH_DAYS = 366 * 200;

function dayMatches(fields: CronFields, day: Date): boolean {
  if (fields.years.size > 0 && !fields.years.has(day.getUTCFullYear())) return false;
  if (!fields.months.has(day.getUTCMonth() + 1)) return false;
  if (fields.daysOfMonth.size > 0) return fields.daysOfMonth.has(day.getUTCDate());
  return fields.daysOfWeek.has(day.getUTCDay() + 1);
}

/**
 * The first time the schedule fires strictly after `after` (ms since the epoch), or undefined when it
 * never fires again. A `rate()` counts its periods from `anchor` (when the trigger was created).
 */
export function nextFireTime(schedule: ScheduleExpression, after: number, anchor = 0): number | undefined {
  if (schedule.kind === 'at') return schedule.at > after ? schedule.at : undefined;
  if (schedule.kind === 'rate') {
    if (after < anchor) return anchor;
    return anchor + (Math.floor((after - anchor) / schedule.periodMs) + 1) * schedule.periodMs;
  }
  const { fields } = schedule;
  const start = Math.floor(after / MINUTE) * MINUTE + MINUTE;
  let dayStart = Math.floor(start / DAY) * DAY;
  for (let searched = 0; searched < SEARCH_DAYS; searched += 1, dayStart += DAY) {
    if (!dayMatches(fields, new Date(dayStart))) continue;
    for (const hour of [...fields.hours].sort((a, b) => a - b)) {
      for (const minute of [...fields.minutes].sort((a, b) => a - b)) {
        const time = dayStart + hour * 3_600_000 + minute * MINUTE;
        if (time >= start) return time;
      }
    }
  }
  return undefined;
}

/** The last time the schedule fired at or before `now`, not earlier than `notBefore`; undefined if none. */
export function latestFireTime(schedule: ScheduleExpression, now: number, notBefore: number, anchor = 0): number | undefined {
  let latest: number | undefined;
  let cursor = notBefore - 1;
  for (let guard = 0; guard < 100_000; guard += 1) {
    const next = nextFireTime(schedule, cursor, anchor);
    if (next === undefined || next > now) return latest;
    latest = next;
    cursor = next;
  }
  return latest;
}
