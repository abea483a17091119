import { randomBytes } from 'node:crypto';
import { MAX_TIMER_SECONDS } from './prepared-state-machine.ts';
import { SfnApiError, stateError } from './sfn-errors.ts';

export interface TaskTokenWaitOptions {
  executionArn: string;
  stateName: string;
  timeoutSeconds?: number;
  heartbeatSeconds?: number;
}

export interface TaskTokenWait {
  token: string;
  /** Settles with the parsed SendTaskSuccess output, or rejects with the failure, timeout or cancellation. */
  result: Promise<unknown>;
}

interface PendingWait {
  executionArn: string;
  heartbeatSeconds?: number;
  resolve: (output: unknown) => void;
  reject: (error: Error) => void;
  timeoutTimer?: NodeJS.Timeout;
  heartbeatTimer?: NodeJS.Timeout;
}

type FinishedReason = 'completed' | 'timedOut';

// Enough to answer "used" vs "unknown" for recent tokens without growing for ever.
const FINISHED_TOKENS_KEPT = 10_000;

/**
 * The task tokens of `.waitForTaskToken` states that are waiting for SendTaskSuccess / Failure /
 * Heartbeat. A token is settled at most once: the first call removes it synchronously, so a
 * duplicate SendTaskSuccess is refused and can never resume the state twice. Tokens live in memory
 * only: after a restart the interrupted state is re-entered with a new token.
 */
export class TaskTokens {
  #pending = new Map<string, PendingWait>();
  #finished = new Map<string, FinishedReason>();

  /** Registers a new token; do this before invoking the lambda, which may answer before it returns. */
  create(options: TaskTokenWaitOptions): TaskTokenWait {
    const token = randomBytes(48).toString('base64url');
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    // A wait may be rejected before anyone awaits it (e.g. its lambda is missing): never an unhandled rejection.
    promise.catch(() => undefined);
    const wait: PendingWait = { executionArn: options.executionArn, heartbeatSeconds: options.heartbeatSeconds, resolve, reject };
    this.#pending.set(token, wait);
    if (options.timeoutSeconds !== undefined) {
      wait.timeoutTimer = setTimeout(
        () => this.#timeOut(token, 'States.Timeout', `Task ${options.stateName} timed out after ${options.timeoutSeconds} s`),
        seconds(options.timeoutSeconds),
      );
    }
    this.#armHeartbeat(token, wait);
    return { token, result: promise };
  }

  succeed(token: string, output: unknown): void {
    this.#take(token).resolve(output);
  }

  fail(token: string, error: string, cause: string): void {
    this.#take(token).reject(stateError(error, cause));
  }

  heartbeat(token: string): void {
    const wait = this.#pending.get(token);
    if (!wait) throw this.#unknown(token);
    this.#armHeartbeat(token, wait);
  }

  /** Throws the API error SendTask* must answer for a token that is not waiting, or does nothing. */
  assertPending(token: string): void {
    if (!this.#pending.has(token)) throw this.#unknown(token);
  }

  /** Ends a wait from inside the endpoint (its lambda failed, or the state was abandoned). */
  reject(token: string, error: Error): void {
    if (this.#pending.has(token)) this.#take(token).reject(error);
  }

  /** Cancels every wait of an execution (stopped, ended, or detached at shutdown); their tokens become unknown. */
  cancelExecution(executionArn: string, error: Error): void {
    for (const [token, wait] of this.#pending) {
      if (wait.executionArn === executionArn) this.#take(token).reject(error);
    }
  }

  cancelAll(error: Error): void {
    for (const token of [...this.#pending.keys()]) this.#take(token).reject(error);
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  #armHeartbeat(token: string, wait: PendingWait): void {
    if (wait.heartbeatSeconds === undefined) return;
    clearTimeout(wait.heartbeatTimer);
    const heartbeatSeconds = wait.heartbeatSeconds;
    wait.heartbeatTimer = setTimeout(
      () => this.#timeOut(token, 'States.HeartbeatTimeout', `No heartbeat for ${heartbeatSeconds} s`),
      seconds(heartbeatSeconds),
    );
  }

  #timeOut(token: string, error: string, cause: string): void {
    if (!this.#pending.has(token)) return;
    this.#take(token, 'timedOut').reject(stateError(error, cause));
  }

  #take(token: string, reason: FinishedReason = 'completed'): PendingWait {
    const wait = this.#pending.get(token);
    if (!wait) throw this.#unknown(token);
    this.#pending.delete(token);
    clearTimeout(wait.timeoutTimer);
    clearTimeout(wait.heartbeatTimer);
    this.#finished.set(token, reason);
    if (this.#finished.size > FINISHED_TOKENS_KEPT) {
      this.#finished.delete(this.#finished.keys().next().value as string);
    }
    return wait;
  }

  #unknown(token: string): SfnApiError {
    if (this.#finished.get(token) === 'timedOut') return new SfnApiError('TaskTimedOut', 'Task Timed Out');
    return new SfnApiError('TaskDoesNotExist', 'Task does not exist anymore');
  }
}

function seconds(value: number): number {
  return Math.min(value, MAX_TIMER_SECONDS) * 1000;
}
