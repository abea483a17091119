import { errorLine } from '../lib/run-facts.ts';
import { ApiError } from './api-client.ts';
import type { Api } from './api-client.ts';
import type { Session } from './auth.ts';
import { h } from './dom.ts';
import type { Child } from './dom.ts';

/** What every page gets: the API, who is signed in, its container, and a way to refresh on a timer. */
export interface PageContext {
  api: Api;
  session: Session;
  root: HTMLElement;
  /** Calls `tick` now and every `ms` until the page is left; a failing tick shows its error and keeps polling. */
  live(tick: () => Promise<void>, ms?: number): void;
  go(hash: string): void;
}

/** An error as text: code, message and correlation id (never swallowed). */
export function errorBox(error: unknown): HTMLElement {
  const line = error instanceof ApiError ? errorLine(error.view) : `ConsoleError: ${error instanceof Error ? error.message : String(error)}`;
  return h('p', { class: 'error', role: 'alert' }, line);
}

/** A region that shows the outcome of an action (an error, or a confirmation). */
export function statusRegion(): HTMLElement {
  return h('div', { class: 'outcome', 'aria-live': 'polite' });
}

export function field(label: string, id: string, control: HTMLElement): HTMLElement {
  control.id = id;
  return h('p', { class: 'field' }, h('label', { for: id }, label), control);
}

export function badge(status: string): HTMLElement {
  return h('span', { class: `badge status-${status.toLowerCase().replace(/[^a-z_]/g, '')}` }, status);
}

export function time(iso: string | undefined): Child {
  if (!iso) return '—';
  return h('time', { datetime: iso }, iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
}

/** Runs an action from a button: disables it meanwhile, shows the error (or `done`) in `region`. */
export async function act(button: HTMLButtonElement, region: HTMLElement, action: () => Promise<string | undefined>): Promise<void> {
  button.disabled = true;
  region.replaceChildren();
  try {
    const done = await action();
    if (done) region.append(h('p', { class: 'done' }, done));
  } catch (error) {
    region.append(errorBox(error));
  } finally {
    button.disabled = false;
  }
}
