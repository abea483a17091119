import { apiErrorOf } from '../lib/run-facts.ts';
import type { ApiErrorView } from '../lib/run-facts.ts';

/** A refused or failed API call, with the code and correlation id the API gave. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly view: ApiErrorView;
  constructor(view: ApiErrorView) {
    super(`${view.code}: ${view.message}`);
    this.view = view;
  }
}

export type TokenSource = () => string | undefined;

/** Calls this origin's API with the signed-in person's token. */
export function apiClient(token: TokenSource, onUnauthenticated: () => void) {
  // biome-ignore lint/suspicious/noExplicitAny: callers name the answer's type; untyped calls read loosely
  return async function call<T = any>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const bearer = token();
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store' });
    } catch (error) {
      throw new ApiError({ status: 0, code: 'NetworkError', message: `the API could not be reached: ${(error as Error).message}` });
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      if (response.status === 401) onUnauthenticated();
      throw new ApiError(apiErrorOf(response.status, parsed, response.headers.get('x-correlation-id')));
    }
    return parsed as T;
  };
}

export type Api = ReturnType<typeof apiClient>;
