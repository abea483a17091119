import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as errors from '../../functions/core/errors.ts';

/**
 * Writes docs/errors.md from the code: every error class of functions/core/errors.ts (read by importing it and
 * building one of each, so `name`, `status` and `category` are what the running code has, however the class sets
 * them), its one-line doc comment, and the workflow states whose Retry or Catch names it in statemachines/*.asl.json.
 * `npm run docs:errors` regenerates the page; test/structure/errors-doc.test.ts fails when it is stale.
 */
const root = new URL('../../', import.meta.url);
export const ERRORS_DOC = fileURLToPath(new URL('docs/errors.md', root));

interface ErrorRow {
  readonly code: string;
  readonly status: number;
  readonly category: string;
  readonly exposed: boolean;
  readonly meaning: string;
}

/** The `/** … *\/` comment right above `export class Name`, on one line; '' when there is none. */
function docComment(source: string, className: string): string {
  const at = source.search(new RegExp(`^export class ${className}\\b`, 'm'));
  const before = source.slice(0, at).trimEnd();
  if (at < 0 || !before.endsWith('*/')) return '';
  const start = before.lastIndexOf('/**');
  return before
    .slice(start + 3, -2)
    .split('\n')
    .map((line) => line.replace(/^\s*\*?\s?/, '').trim())
    .filter(Boolean)
    .join(' ');
}

/** The exposure rule of errors.ts when it has one (`isExposed`), else the documented default: exposed below 500. */
function exposed(error: errors.MaestroError): boolean {
  const rule = (errors as unknown as Record<string, unknown>).isExposed;
  return typeof rule === 'function' ? Boolean(rule(error)) : error.status < 500;
}

/** Each exported subclass of MaestroError, built with a placeholder message, in the file's order. */
export function errorRows(): ErrorRow[] {
  const source = readFileSync(new URL('functions/core/errors.ts', root), 'utf8');
  const rows: (ErrorRow & { readonly at: number })[] = [];
  for (const [exportName, value] of Object.entries(errors)) {
    if (typeof value !== 'function' || !(value.prototype instanceof errors.MaestroError)) continue;
    const error = new (value as new (message: string) => errors.MaestroError)('placeholder');
    const at = source.search(new RegExp(`^export class ${exportName}\\b`, 'm'));
    rows.push({ code: error.name, status: error.status, category: error.category, exposed: exposed(error), meaning: docComment(source, exportName), at });
  }
  // In the file's order; the row keeps only what the page shows.
  return rows.sort((a, b) => a.at - b.at || a.code.localeCompare(b.code)).map(({ at: _at, ...row }) => row);
}

interface Handling {
  /** `workflow: State` for each Retry that names the error. */
  readonly retried: Map<string, string[]>;
  /** `workflow: State → Next` for each Catch that names the error. */
  readonly caught: Map<string, string[]>;
}

interface AslState {
  readonly Retry?: readonly { readonly ErrorEquals: readonly string[]; readonly MaxAttempts?: number }[];
  readonly Catch?: readonly { readonly ErrorEquals: readonly string[]; readonly Next: string }[];
  readonly Iterator?: { readonly States: Record<string, AslState> };
  readonly ItemProcessor?: { readonly States: Record<string, AslState> };
  readonly Branches?: readonly { readonly States: Record<string, AslState> }[];
}

/** Every Retry and Catch of every workflow, keyed by the error name it matches (`States.ALL` included). */
export function workflowHandling(): Handling {
  const handling: Handling = { retried: new Map(), caught: new Map() };
  const add = (map: Map<string, string[]>, name: string, where: string) => map.set(name, [...(map.get(name) ?? []), where]);
  const folder = new URL('statemachines/', root);
  for (const file of readdirSync(folder)
    .filter((f) => f.endsWith('.asl.json'))
    .sort()) {
    const workflow = file.replace(/\.asl\.json$/, '');
    const walk = (states: Record<string, AslState>) => {
      for (const [name, state] of Object.entries(states)) {
        for (const retry of state.Retry ?? []) for (const error of retry.ErrorEquals) add(handling.retried, error, `${workflow}: ${name}`);
        for (const c of state.Catch ?? []) for (const error of c.ErrorEquals) add(handling.caught, error, `${workflow}: ${name} → ${c.Next}`);
        if (state.Iterator) walk(state.Iterator.States);
        if (state.ItemProcessor) walk(state.ItemProcessor.States);
        for (const branch of state.Branches ?? []) walk(branch.States);
      }
    };
    walk((JSON.parse(readFileSync(new URL(file, folder), 'utf8')) as { States: Record<string, AslState> }).States);
  }
  return handling;
}

const cell = (text: string) => text.replaceAll('|', '\\|');
/** `run: Admit, Plan; dr-backup: Quiesce`: the places, grouped by workflow in first-seen order. */
function list(items: readonly string[] | undefined): string {
  const byWorkflow = new Map<string, string[]>();
  for (const item of items ?? []) {
    const [workflow, state] = item.split(': ');
    byWorkflow.set(workflow, [...(byWorkflow.get(workflow) ?? []), state]);
  }
  return [...byWorkflow].map(([workflow, states]) => `${workflow}: ${states.join(', ')}`).join('; ');
}

/** One row per distinct handling: names matched in exactly the same places share a row. */
function otherNames(retried: Map<string, string[]>, caught: Map<string, string[]>, codes: ReadonlySet<string>): string[] {
  const rows = new Map<string, string[]>();
  for (const name of [...new Set([...retried.keys(), ...caught.keys()])].filter((n) => !codes.has(n)).sort()) {
    const row = `${cell(list(retried.get(name)))} | ${cell(list(caught.get(name)))} |`;
    rows.set(row, [...(rows.get(row) ?? []), `\`${name}\``]);
  }
  return [...rows].map(([row, names]) => `| ${names.join(', ')} | ${row}`);
}

export function renderErrorsDoc(): string {
  const rows = errorRows();
  const { retried, caught } = workflowHandling();
  const codes = new Set(rows.map((row) => row.code));
  const lines = [
    '# Errors',
    '',
    '<!-- Generated by `npm run docs:errors` from functions/core/errors.ts and statemachines/*.asl.json; do not edit by hand. -->',
    '',
    "Every failure is one of the classes below. The class's `name` is an API: it is the `code` of the API's error body",
    '(`{error: {code, message, field?, correlationId}}`), the `name` Step Functions matches in `Retry` and `Catch`, and the',
    'error recorded in the audit trail. The category decides the metric a failure is counted in',
    '([observability](observability-and-audit.md#error-categories)). *Exposed* errors carry their message to the caller;',
    'any other becomes a bare 500 with the correlation id.',
    '',
    `${rows.length} errors. A workflow state not listed for an error still ends up in its \`States.ALL\` catch (below).`,
    '',
    '| code | HTTP | category | exposed | retried by (workflow: state) | caught by name (workflow: state → next) | meaning |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| \`${row.code}\` | ${row.status} | ${row.category} | ${row.exposed ? 'yes' : 'no'} | ${cell(list(retried.get(row.code)))} | ${cell(list(caught.get(row.code)))} | ${cell(row.meaning)} |`,
    ),
    '',
    '## Catch-all and service errors',
    '',
    'Names the workflows match that are not Maestro errors: `States.ALL` (anything) and the Lambda service errors',
    '(the invocation itself failed), retried with the same backoff as `TransientError`.',
    '',
    '| name | retried by | caught by |',
    '|---|---|---|',
    ...otherNames(retried, caught, codes),
    '',
  ];
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(ERRORS_DOC, renderErrorsDoc());
  console.log(`wrote ${ERRORS_DOC}`);
}
