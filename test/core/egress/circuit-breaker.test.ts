import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../functions/core/egress/circuit-breaker.ts';
import { CircuitOpen } from '../../../functions/core/errors.ts';

describe('CircuitBreaker (per host)', () => {
  const setup = () => {
    let now = 1_000;
    const breaker = new CircuitBreaker({ failureThreshold: 3, openMs: 10_000, clock: () => now });
    return { breaker, advance: (ms: number) => (now += ms) };
  };

  it('opens after N consecutive failures and refuses with CircuitOpen', () => {
    const { breaker } = setup();
    for (let i = 0; i < 2; i += 1) {
      breaker.admit('a.test');
      expect(breaker.failed('a.test')).toBeUndefined();
    }
    breaker.admit('a.test');
    expect(breaker.failed('a.test')).toEqual({ host: 'a.test', from: 'closed', to: 'open', failures: 3 });
    expect(() => breaker.admit('a.test')).toThrow(CircuitOpen);
    // Other hosts are not affected.
    expect(() => breaker.admit('b.test')).not.toThrow();
  });

  it('a success resets the count of consecutive failures', () => {
    const { breaker } = setup();
    breaker.failed('a.test');
    breaker.failed('a.test');
    breaker.succeeded('a.test');
    breaker.failed('a.test');
    expect(breaker.state('a.test')).toBe('closed');
  });

  it('half-opens after openMs and lets exactly one probe through; its success closes the circuit', () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i += 1) breaker.failed('a.test');
    advance(9_999);
    expect(() => breaker.admit('a.test')).toThrow(/next probe in 1 ms/);
    advance(1);
    expect(breaker.admit('a.test')).toEqual({ host: 'a.test', from: 'open', to: 'half-open', failures: 3 });
    expect(() => breaker.admit('a.test')).toThrow(/probe is in flight/);
    expect(breaker.succeeded('a.test')).toEqual({ host: 'a.test', from: 'half-open', to: 'closed', failures: 0 });
    expect(() => breaker.admit('a.test')).not.toThrow();
  });

  it('a failed probe opens the circuit again for another openMs', () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i += 1) breaker.failed('a.test');
    advance(10_000);
    breaker.admit('a.test');
    expect(breaker.failed('a.test')).toMatchObject({ from: 'half-open', to: 'open' });
    expect(() => breaker.admit('a.test')).toThrow(CircuitOpen);
    advance(10_000);
    expect(breaker.admit('a.test')).toMatchObject({ to: 'half-open' });
  });

  it('a probe that ends without an answer from the host frees the slot without closing', () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i += 1) breaker.failed('a.test');
    advance(10_000);
    breaker.admit('a.test');
    breaker.released('a.test');
    expect(breaker.state('a.test')).toBe('half-open');
    expect(() => breaker.admit('a.test')).not.toThrow();
  });
});
