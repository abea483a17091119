import type { StateEventNotice } from './sfn/local-step-functions.ts';

const EXECUTION_END = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);
/** States inside the Apply map: shown through their run events, not as lines of their own. */
const QUIET_STATES = new Set(['ApplyTask']);

/**
 * Live progress for the console: each workflow state as it is entered, followed by the run events
 * that state recorded (read back through the HTTP API). Lines are printed strictly in order.
 */
export class RunProgress {
  readonly #apiUrl: string;
  readonly #print: (line: string) => void;
  readonly #afterSeq = new Map<string, number>();
  readonly #waiters = new Map<string, (status: string) => void>();
  #chain: Promise<void> = Promise.resolve();

  constructor(options: { apiUrl: string; print: (line: string) => void }) {
    this.#apiUrl = options.apiUrl;
    this.#print = options.print;
  }

  /** Pass to the local Step Functions endpoint's `onStateEvent`. */
  readonly onStateEvent = (event: StateEventNotice): void => {
    this.#chain = this.#chain.then(() => this.#show(event)).catch((error: unknown) => this.#print(`  (progress: ${(error as Error).message})`));
  };

  /** Resolves with the execution's end once it has been shown. */
  waitFor(runId: string): Promise<string> {
    return new Promise((resolve) => this.#waiters.set(runId, resolve));
  }

  async #show(event: StateEventNotice): Promise<void> {
    const runId = event.executionArn.split(':').at(-1) ?? '';
    if (event.type === 'ExecutionResumed') {
      this.#print(`  ↻ run ${runId}: carrying on after a restart`);
      return;
    }
    if (event.type.endsWith('StateEntered') && !QUIET_STATES.has(event.stateName)) this.#print(`  ▸ ${event.stateName}`);
    const ended = EXECUTION_END.has(event.type);
    if (event.type.endsWith('StateExited') || event.type.endsWith('Failed') || ended)
      await this.#printEventsUntil(runId, ended ? Number.POSITIVE_INFINITY : event.ts);
    if (EXECUTION_END.has(event.type)) {
      const status = event.type.replace('Execution', '').toUpperCase();
      this.#waiters.get(runId)?.(status);
      this.#waiters.delete(runId);
    }
  }

  /**
   * Prints the run's events recorded up to `until` (the time the state exited). The workflow has
   * moved on by the time they are read, so later ones wait for the state they belong to.
   */
  async #printEventsUntil(runId: string, until: number): Promise<void> {
    const afterSeq = this.#afterSeq.get(runId) ?? 0;
    const response = await fetch(`${this.#apiUrl}/runs/${runId}/events?afterSeq=${afterSeq}`, { headers: { authorization: 'Bearer dev-operator' } });
    if (!response.ok) return;
    const { events } = (await response.json()) as { events: { seq: number; ts: string; type: string; message: string; taskIndex?: number }[] };
    for (const event of events) {
      if (Date.parse(event.ts) > until) break;
      this.#afterSeq.set(runId, event.seq);
      const task = event.taskIndex === undefined ? '' : `task ${event.taskIndex}: `;
      this.#print(`      ${String(event.seq).padStart(3)} ${event.type.padEnd(21)} ${task}${event.message}`);
    }
  }
}
