import { describe, expect, it } from 'vitest';
import { SourceLimiter } from '../../../functions/core/approvals/source-limiter.ts';
import { canonicalBase64url } from '../../../functions/core/approvals/links.ts';

describe('SourceLimiter', () => {
  it('lets a burst through per source, then refills at its rate and reports what it suppressed', () => {
    const limiter = new SourceLimiter({ burst: 3, perMinute: 6 });
    const at = 1_000_000;
    expect([1, 2, 3, 4, 5].map(() => limiter.take('10.0.0.1', at).allowed)).toEqual([true, true, true, false, false]);
    expect(limiter.take('10.0.0.2', at).allowed).toBe(true); // another source has its own bucket
    expect(limiter.take('10.0.0.1', at + 5_000).allowed).toBe(false); // 0.5 token
    expect(limiter.take('10.0.0.1', at + 10_000)).toEqual({ allowed: true, suppressed: 3 });
  });

  it('keeps a bounded number of sources, forgetting the least recently used', () => {
    const limiter = new SourceLimiter({ burst: 1, maxSources: 100 });
    for (let i = 0; i < 10_000; i += 1) limiter.take(`src-${i}`, 0);
    expect(limiter.size).toBe(100);
  });
});

describe('canonicalBase64url', () => {
  it('accepts only the one spelling of some bytes', () => {
    const bytes = Buffer.from([0xff, 0x00, 0x10]);
    expect(canonicalBase64url(bytes.toString('base64url'))?.equals(bytes)).toBe(true);
    expect(canonicalBase64url('_w')).toBeDefined(); // 0xff
    expect(canonicalBase64url('_x')).toBeUndefined(); // the same byte, other unused bits
    expect(canonicalBase64url('_w==')).toBeUndefined(); // padded
  });
});
