/**
 * `npm run policy:test -- --principal alice --roles operator --action apply --resource s3://maestro-demo/protected/a.txt ...`
 * evaluates one request against the Cedar policies in policies/ (or MAESTRO_POLICY_DIR), for policy authors.
 */
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { policyResource } from '../../functions/core/safety/gates.ts';
import { loadPolicyEngine } from '../../functions/handlers/shared/deps.ts';

const integer = (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 3) throw new InvalidArgumentError('must be 0, 1, 2 or 3');
  return parsed;
};

const program = new Command('policy:test')
  .description('Evaluate one request against the Cedar policies and print the decision')
  .requiredOption('--principal <id>', 'who asks (a principal id)')
  .option('--roles <list>', 'comma-separated roles', 'operator')
  .option('--action <gate>', 'plan or apply', 'apply')
  .requiredOption('--resource <uri>', 'the resource, e.g. s3://bucket/key or dynamodb://table/{...}')
  .option('--access <mode>', 'read or write (what the action does to the resource)', 'write')
  .option('--catalog-action <name>', 'the catalog action', 's3.put-object')
  .option('--category <category>', 'READ, WRITE, DEPLOY or ROLLBACK', 'WRITE')
  .option('--mode <mode>', 'PLAN or APPLY', 'APPLY')
  .option('--environment <name>', 'environment', 'dev')
  .option('--autonomy <level>', 'effective autonomy, 0-3', integer, 3)
  .option('--reason <text>', 'reason-for-access', '')
  .option('--kill-switch', 'the kill switch is engaged', false)
  .option('--approved', 'a human approved the plan', false)
  .option('--input-flagged', "screening flagged the run's inputs", false)
  .option('--policies <dir>', 'policy directory', process.env.MAESTRO_POLICY_DIR ?? resolve(import.meta.dirname, '../../policies'))
  .action((options) => {
    if (options.action !== 'plan' && options.action !== 'apply') program.error('--action must be plan or apply');
    if (options.access !== 'read' && options.access !== 'write') program.error('--access must be read or write');
    const engine = loadPolicyEngine(options.policies);
    const decision = engine.authorize({
      principal: { id: options.principal, roles: String(options.roles).split(',').filter(Boolean) },
      action: options.action,
      resource: policyResource({ resource: options.resource }, options.access),
      context: {
        catalogAction: options.catalogAction,
        category: options.category,
        mode: options.mode,
        environment: options.environment,
        autonomy: options.autonomy,
        reason: options.reason,
        killSwitch: options.killSwitch,
        approved: options.approved,
        inputFlagged: options.inputFlagged,
        now: new Date(),
      },
    });
    console.log(JSON.stringify({ decision: decision.allowed ? 'allow' : 'deny', policyIds: decision.policyIds, errors: decision.errors }, null, 2));
    process.exitCode = decision.allowed ? 0 : 3;
  });

program.parse();
