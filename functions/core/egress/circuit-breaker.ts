import { CircuitOpen } from '../errors.ts';

export const BreakerState = { closed: 'closed', open: 'open', halfOpen: 'half-open' } as const;
export type BreakerState = (typeof BreakerState)[keyof typeof BreakerState];

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. @default 3 */
  failureThreshold?: number;
  /** How long an open circuit refuses before it lets one probe through. @default 30_000 */
  openMs?: number;
  clock?: () => number;
}

interface HostCircuit {
  state: BreakerState;
  failures: number;
  openedAt: number;
  probeInFlight: boolean;
}

/** What changed in a host's circuit, for the run's events. */
export interface BreakerTransition {
  host: string;
  from: BreakerState;
  to: BreakerState;
  failures: number;
}

/**
 * A circuit breaker per host. Closed: requests pass, consecutive failures are counted; at the
 * threshold it opens. Open: requests are refused with CircuitOpen until `openMs` has passed, then
 * it is half-open and lets exactly one probe through: a success closes it, a failure opens it again.
 * State is per process (per Lambda container), which is what a breaker protects: this caller.
 */
export class CircuitBreaker {
  readonly #circuits = new Map<string, HostCircuit>();
  readonly #threshold: number;
  readonly #openMs: number;
  readonly #clock: () => number;

  constructor(options: CircuitBreakerOptions = {}) {
    this.#threshold = options.failureThreshold ?? 3;
    this.#openMs = options.openMs ?? 30_000;
    this.#clock = options.clock ?? Date.now;
  }

  state(host: string): BreakerState {
    return this.#circuit(host).state;
  }

  /** Call before a request to the host; throws CircuitOpen when it must not be sent. */
  admit(host: string): BreakerTransition | undefined {
    const circuit = this.#circuit(host);
    if (circuit.state === BreakerState.open) {
      const waited = this.#clock() - circuit.openedAt;
      if (waited < this.#openMs) {
        throw new CircuitOpen(`the circuit for ${host} is open after ${circuit.failures} failure(s); next probe in ${this.#openMs - waited} ms`, {
          details: {
            host,
            state: circuit.state,
            failures: circuit.failures,
            retryInMs: this.#openMs - waited,
            retryAfterSeconds: Math.ceil((this.#openMs - waited) / 1000),
          },
        });
      }
      circuit.state = BreakerState.halfOpen;
      circuit.probeInFlight = true;
      return { host, from: BreakerState.open, to: BreakerState.halfOpen, failures: circuit.failures };
    }
    if (circuit.state === BreakerState.halfOpen) {
      if (circuit.probeInFlight) {
        throw new CircuitOpen(`the circuit for ${host} is half-open and its probe is in flight`, {
          details: { host, state: circuit.state, failures: circuit.failures },
        });
      }
      circuit.probeInFlight = true;
    }
    return undefined;
  }

  succeeded(host: string): BreakerTransition | undefined {
    const circuit = this.#circuit(host);
    const from = circuit.state;
    circuit.state = BreakerState.closed;
    circuit.failures = 0;
    circuit.probeInFlight = false;
    return from === BreakerState.closed ? undefined : { host, from, to: BreakerState.closed, failures: 0 };
  }

  /** The admitted request ended without telling anything about the host (refused before sending, a budget): frees the probe. */
  released(host: string): void {
    this.#circuit(host).probeInFlight = false;
  }

  failed(host: string): BreakerTransition | undefined {
    const circuit = this.#circuit(host);
    const from = circuit.state;
    circuit.failures += 1;
    circuit.probeInFlight = false;
    if (from === BreakerState.halfOpen || circuit.failures >= this.#threshold) {
      circuit.state = BreakerState.open;
      circuit.openedAt = this.#clock();
      return from === BreakerState.open ? undefined : { host, from, to: BreakerState.open, failures: circuit.failures };
    }
    return undefined;
  }

  #circuit(host: string): HostCircuit {
    let circuit = this.#circuits.get(host);
    if (!circuit) {
      circuit = { state: BreakerState.closed, failures: 0, openedAt: 0, probeInFlight: false };
      this.#circuits.set(host, circuit);
    }
    return circuit;
  }
}
