import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RemoteActionReply, RemoteActionRequest, RemotePhase } from '../../functions/core/actions/remote-protocol.ts';

/** docs/remote-actions.md's JSON examples are what the protocol's schemas accept, block by block. */
const page = readFileSync(join(import.meta.dirname, '../../docs/remote-actions.md'), 'utf8');
const blocks = [...page.matchAll(/^```json (request|reply:(\w+))\n([\s\S]*?)^```$/gm)].map(([, tag, phase, text]) => ({ tag, phase, text }));

describe('docs/remote-actions.md', () => {
  it('shows a request and a reply for every phase', () => {
    expect(blocks.filter((block) => block.tag === 'request')).toHaveLength(1);
    expect(new Set(blocks.flatMap((block) => (block.phase ? [block.phase] : [])))).toEqual(new Set(['plan', 'apply', 'verify']));
  });

  for (const [index, block] of blocks.entries()) {
    it(`example ${index + 1} (${block.tag}) matches the schema`, () => {
      const value = JSON.parse(block.text);
      if (block.tag === 'request') {
        expect(RemoteActionRequest.parse(value)).toEqual(value);
      } else {
        const phase = RemotePhase.parse(block.phase);
        expect(RemoteActionReply[phase].parse(value)).toEqual(value);
      }
    });
  }
});
