import { builtOnce } from './built-once.ts';
import * as errors from './errors.ts';
import { MaestroError } from './errors.ts';

/** How one error code reaches an HTTP caller. */
export interface HttpErrorRule {
  readonly status: number;
  /** Whether the caller sees the code, message and field; otherwise a generic 500 with the correlation id. */
  readonly exposed: boolean;
}

/** Server-side failures the caller can act on (retry later): exposed although their status is 5xx. */
const EXPOSED_SERVER_ERRORS: ReadonlySet<string> = new Set(['TransientError', 'WorkflowUnavailable', 'CircuitOpen']);

type ErrorClass = new (message: string) => MaestroError;
const isErrorClass = (value: unknown): value is ErrorClass => typeof value === 'function' && value.prototype instanceof MaestroError;

const buildHttpErrors = (): ReadonlyMap<string, HttpErrorRule> =>
  new Map(
    (Object.values(errors) as unknown[])
      .filter(isErrorClass)
      .map((ErrorType) => {
        const sample = new ErrorType('');
        return [sample.code, { status: sample.status, exposed: sample.status < 500 || EXPOSED_SERVER_ERRORS.has(sample.code) }] as const;
      })
      .sort(([a], [b]) => a.localeCompare(b)),
  );

/**
 * Every Maestro error code with its HTTP status and whether it is exposed, derived from the classes in
 * errors.ts (the status lives on each class): exposed below 500, and the few listed above. Built on
 * first use (it constructs one error of each class), not when a bundle is imported.
 */
export const httpErrors = /* @__PURE__ */ builtOnce(buildHttpErrors);

/** The rule for an error: its code's row, else (an error of no known code) by its status; anything not a MaestroError is an unexposed 500. */
export function httpRuleOf(error: unknown): HttpErrorRule & { code: string } {
  if (!(error instanceof MaestroError)) return { code: 'InternalError', status: 500, exposed: false };
  const rule = httpErrors().get(error.code) ?? { status: error.status, exposed: error.status < 500 };
  return { code: error.code, ...rule };
}
