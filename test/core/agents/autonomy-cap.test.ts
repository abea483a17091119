import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { agentAutonomyCap, capAutonomy } from '../../../functions/core/agents/autonomy-cap.ts';
import { resolveGuardrails } from '../../../functions/core/config/guardrails.ts';

const shipped = parseYaml(readFileSync(join(resolve(import.meta.dirname, '../../..'), 'maestro.config.yaml'), 'utf8'));

describe("agents' own autonomy ceilings (maestro.config.yaml agents)", () => {
  const guardrails = resolveGuardrails(
    shipped,
    { 'MAESTRO_CONFIG__agents__dev-agent__autonomy__prod': '0', 'MAESTRO_CONFIG__agents__dev-agent__autonomy__dev': '1' },
    parseYaml,
  );

  it('caps an agent in the environments it lists, and nowhere else; people and machines are not agents', () => {
    expect(agentAutonomyCap(guardrails, { id: 'dev-agent', kind: 'agent' }, 'dev')).toEqual({ ceiling: 1, source: 'agents.dev-agent.autonomy.dev' });
    expect(agentAutonomyCap(guardrails, { id: 'maestro-agent', kind: 'agent' }, 'dev')).toEqual({ ceiling: 2, source: 'agents.maestro-agent.autonomy.dev' });
    expect(agentAutonomyCap(guardrails, { id: 'maestro-agent', kind: 'agent' }, 'prod')).toBeUndefined();
    expect(agentAutonomyCap(guardrails, { id: 'dev-agent', kind: 'user' }, 'dev')).toBeUndefined();
    // A caller's id never finds an inherited property.
    expect(agentAutonomyCap(guardrails, { id: 'constructor', kind: 'agent' }, 'dev')).toBeUndefined();
    expect(agentAutonomyCap(guardrails, { id: 'dev-agent', kind: 'agent' }, 'toString')).toBeUndefined();
  });

  it('takes the lowest of the autonomy and every cap, naming the cap that lowered it', () => {
    const agent = { ceiling: 1, source: 'agents.a.autonomy.dev' };
    const trigger = { ceiling: 2, source: 'triggers.t' };
    expect(capAutonomy(3, [agent, trigger])).toEqual({ autonomy: 1, cappedBy: agent });
    expect(capAutonomy(3, [trigger, undefined])).toEqual({ autonomy: 2, cappedBy: trigger });
    expect(capAutonomy(1, [agent, trigger])).toEqual({ autonomy: 1 }); // the environment (or the request) was already lower
    expect(capAutonomy(0, [])).toEqual({ autonomy: 0 });
  });

  it('refuses a ceiling for an environment that does not exist, or out of range, naming the key', () => {
    expect(() => resolveGuardrails(shipped, { 'MAESTRO_CONFIG__agents__dev-agent__autonomy__staging': '1' }, parseYaml)).toThrow(
      /agents\.dev-agent\.autonomy\.staging/,
    );
    expect(() => resolveGuardrails(shipped, { 'MAESTRO_CONFIG__agents__dev-agent__autonomy__dev': '4' }, parseYaml)).toThrow(
      /agents\.dev-agent\.autonomy\.dev/,
    );
  });
});
