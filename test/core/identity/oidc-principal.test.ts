import { describe, expect, it } from 'vitest';
import { oidcPrincipal } from '../../../functions/core/identity/oidc-principal.ts';

const settings = {
  groupsClaim: 'cognito:groups',
  groupRoles: { operators: 'operator' as const },
  agentClients: ['agent-client'],
  agentRoles: ['operator' as const],
};
const token = (fields: Partial<Parameters<typeof oidcPrincipal>[0]>) => ({ issuer: 'https://issuer.example', subject: 'someone', groups: [], ...fields });

describe('oidcPrincipal', () => {
  it('gives a listed agent client whose token carries no groups (Cognito client credentials) the agent roles, as an agent', () => {
    const principal = oidcPrincipal(token({ subject: 'agent-client', clientId: 'agent-client' }), settings);
    expect(principal).toMatchObject({ id: 'agent-client', kind: 'agent', roles: ['operator'], onBehalfOf: 'agent-client' });
  });

  it('refuses a machine client that is not a listed agent and maps no group (403 naming groupRoles)', () => {
    expect(() => oidcPrincipal(token({ subject: 'other-client', clientId: 'other-client' }), settings)).toThrow(/no Maestro role/);
  });

  it('refuses a person with no mapped group even when agentRoles is set', () => {
    expect(() => oidcPrincipal(token({ subject: 'person', clientId: 'agent-client', groups: ['guests'] }), settings)).toThrow(/guests/);
  });

  it('maps a person by group, as a user', () => {
    expect(oidcPrincipal(token({ subject: 'person', groups: ['operators'] }), settings)).toMatchObject({ kind: 'user', roles: ['operator'] });
  });
});
