import type { GlobalOptions } from './client.ts';

const GOOD = new Set(['SUCCEEDED', 'PLANNED', 'APPROVED', 'allow', 'ok', 'COMPLETED', 'VERIFIED', 'APPLIED']);
const BAD = new Set(['FAILED', 'ROLLED_BACK', 'REJECTED', 'EXPIRED', 'CANCELLED', 'DENIED', 'deny', 'ROLLING_BACK', 'BROKEN']);

/** Where results (stdout) and progress (stderr) go; colour only on a terminal, and never with NO_COLOR. */
export class Output {
  readonly json: boolean;
  readonly #color: boolean;
  readonly #errColor: boolean;

  constructor(options: Pick<GlobalOptions, 'output' | 'color'>, env: NodeJS.ProcessEnv = process.env) {
    this.json = options.output === 'json';
    const allowed = options.color && env.NO_COLOR === undefined && env.TERM !== 'dumb';
    this.#color = allowed && Boolean(process.stdout.isTTY);
    this.#errColor = allowed && Boolean(process.stderr.isTTY);
  }

  /** The result: `value` as JSON with --output json, else the lines. */
  result(value: unknown, lines: () => string[]): void {
    if (this.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    else for (const line of lines()) process.stdout.write(`${line}\n`);
  }

  /** Raw text to stdout (an export, a page). */
  raw(text: string): void {
    process.stdout.write(text);
  }

  /** One line of progress, on stderr. */
  progress(line: string): void {
    process.stderr.write(`${line}\n`);
  }

  /** A status word, green when it went well and red when not (on a terminal). */
  status(word: string, stream: 'out' | 'err' = 'out'): string {
    if (!(stream === 'out' ? this.#color : this.#errColor)) return word;
    if (GOOD.has(word)) return `\x1b[32m${word}\x1b[39m`;
    if (BAD.has(word)) return `\x1b[31m${word}\x1b[39m`;
    return `\x1b[33m${word}\x1b[39m`;
  }
}

/** Columns padded to their widest cell; the header row first. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  if (rows.length === 0) return [];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => visibleLength(row[column] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column] - visibleLength(cell))))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

const visibleLength = (text: string) => text.replace(/\x1b\[\d+m/g, '').length;

/** `key  value` lines for one record, skipping empty values. */
export function fields(entries: readonly [string, unknown][]): string[] {
  const present = entries.filter(([, value]) => value !== undefined && value !== null && value !== '');
  const width = Math.max(...present.map(([key]) => key.length));
  return present.map(([key, value]) => `${key.padEnd(width)}  ${typeof value === 'string' ? value : JSON.stringify(value)}`);
}
