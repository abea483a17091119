/**
 * `npm run egress:check -- <url> [--environment dev]`: the egress guard's decision for a URL, exactly
 * as http.fetch would get it (same allowlists, static hosts and resolver from MAESTRO_EGRESS_*), without
 * opening a connection. Prints JSON; exits 0 when allowed, 2 when refused, 1 on bad input.
 */
import { Command } from 'commander';
import { z } from 'zod';
import { systemResolver } from '../../functions/adapters/dns-resolver.ts';
import { checkEgress } from '../../functions/core/egress/check-egress.ts';
import { LicenseRegistry, LicenseSources } from '../../functions/core/egress/license-registry.ts';
import { EgressAllowlists, egressPolicyFor } from '../../functions/core/egress/policy.ts';
import { StaticHosts, jsonVariable } from '../../functions/core/egress/settings.ts';

const EgressEnvironment = z.object({
  MAESTRO_EGRESS_ALLOWLIST: jsonVariable(EgressAllowlists, '{}'),
  MAESTRO_EGRESS_STATIC_HOSTS: jsonVariable(StaticHosts, '{}'),
  MAESTRO_EGRESS_SOURCES: jsonVariable(LicenseSources, '[]'),
});

const program = new Command()
  .name('egress-check')
  .description('Decide whether http.fetch may reach a URL, without connecting')
  .argument('<url>', 'the URL to check')
  .option('-e, --environment <name>', 'the environment whose allowlist applies', 'dev')
  .action(async (url: string, options: { environment: string }) => {
    const parsed = EgressEnvironment.safeParse(process.env);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      console.error(`invalid configuration: ${issue.path.join('.')}: ${issue.message}`);
      process.exitCode = 1;
      return;
    }
    const env = parsed.data;
    const decision = await checkEgress(
      url,
      egressPolicyFor(env.MAESTRO_EGRESS_ALLOWLIST, options.environment),
      systemResolver(env.MAESTRO_EGRESS_STATIC_HOSTS),
    );
    const source = decision.url ? new LicenseRegistry(env.MAESTRO_EGRESS_SOURCES).sourceOf(decision.url) : undefined;
    const answer = {
      allowed: decision.allowed,
      reason: decision.reason,
      rule: decision.rule,
      resolvedAddresses: decision.resolvedAddresses,
      environment: options.environment,
      license: source ? { source: source.id, license: source.license, automatedAccess: source.automatedAccess } : { source: null },
    };
    console.log(JSON.stringify(answer, null, 2));
    process.exitCode = decision.allowed ? 0 : 2;
  });

await program.parseAsync();
