import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { defaultCatalog } from '../../../functions/actions/catalog.ts';
import { loadConfig } from '../../../functions/handlers/shared/config.ts';
import { loadCatalog } from '../../../functions/packs/loader.ts';
import { startConformanceKit } from '../../../local/conformance/kit.ts';
import type { ConformanceKit } from '../../../local/conformance/kit.ts';
import { runChecks, subjectsOf } from '../../../local/conformance/run-checks.ts';
import type { CheckResult } from '../../../local/conformance/types.ts';
import { CHECK_NAMES } from '../../../local/conformance/types.ts';
import { BROKEN_ACTIONS } from '../../fixtures/broken-actions/index.ts';
import { FIXTURES, misbehavingRemoteAction, s3NoteRemoteAction } from '../../fixtures/remote-actions/remote-actions.ts';
import { replaceGiven, replaceNotGiven } from '../../fixtures/conformance-actions.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
let kit: ConformanceKit;

beforeAll(async () => {
  kit = await startConformanceKit({ dynamodbUrl: inject('dynamodbUrl') });
});
afterAll(() => kit?.stop());

const line = (result: CheckResult) => `${result.status} ${result.action} #${result.example} ${result.check}: ${result.reason}`;

/** The catalog maestro.config.yaml gives (what `npm run actions:check` checks): the built-ins and the pinned packs. */
const configured = () => {
  const catalog = loadCatalog(loadConfig({}, { defaultFile: resolve(ROOT, 'maestro.config.yaml'), defaults: { state: { table: 'maestro-conformance' } } }));
  return catalog.list().map((action) => ({ action, pack: catalog.packOf(action.name).name }));
};

describe('the conformance kit on the configured catalog', () => {
  it('passes every check of every example of the built-ins (the kinds it cannot stand up are skipped, never passed)', async () => {
    const builtins = configured().filter(({ pack }) => pack === 'builtin');
    expect(builtins.map(({ action }) => action.name).sort()).toEqual(
      defaultCatalog()
        .list()
        .map((action) => action.name)
        .sort(),
    );
    const results = await runChecks(subjectsOf(builtins), kit);
    expect(results.filter((result) => result.status === 'fail').map(line)).toEqual([]);
    // The actions on S3, DynamoDB, SSM and Lambda (with CloudWatch alarms) pass all six checks on every example, none skipped.
    const targets = [
      's3.put-object',
      's3.delete-object',
      's3.copy-object',
      'dynamodb.put-item',
      'dynamodb.update-item',
      'dynamodb.delete-item',
      'ssm.put-parameter',
      'lambda.shift-alias',
    ];
    for (const name of targets) {
      const own = results.filter((result) => result.action === name);
      expect(own.length).toBe(defaultCatalog().get(name).examples.length * CHECK_NAMES.length);
      expect(own.filter((result) => result.status !== 'pass').map(line)).toEqual([]);
    }
    // A read has nothing to go stale; every other check of http.fetch runs against the fixture getter.
    const fetches = results.filter((result) => result.action === 'http.fetch' && result.status !== 'pass');
    expect(fetches.map((result) => `${result.status} ${result.check}`)).toEqual(['skip stale-plan', 'skip stale-plan']);
    // Skipped whole, each with why: Maestro's own state (dr.approve-restore), an earlier run's task (run.undo-task).
    const skippedWhole = [...new Set(results.filter((result) => result.status === 'skip' && result.check === 'rollback').map((result) => result.action))];
    expect(skippedWhole.sort()).toEqual(['dr.approve-restore', 'run.undo-task']);
  }, 600_000);

  it('passes every check of every example of the pinned example pack, none skipped', async () => {
    const example = configured().filter(({ pack }) => pack === 'example');
    expect(example.length).toBeGreaterThan(0);
    const results = await runChecks(subjectsOf(example), kit);
    expect(results).toHaveLength(example.reduce((sum, { action }) => sum + action.examples.length, 0) * CHECK_NAMES.length);
    expect(results.filter((result) => result.status !== 'pass').map(line)).toEqual([]);
  });
});

describe('the conformance kit on broken actions', () => {
  for (const broken of BROKEN_ACTIONS) {
    it(`fails ${broken.action.name} on ${broken.fails} only, naming the breach`, async () => {
      const results = await runChecks(subjectsOf([{ action: broken.action, pack: 'broken-actions' }]), kit);
      const failed = results.filter((result) => result.status !== 'pass');
      expect(failed.map((result) => result.check)).toEqual([broken.fails]);
      expect(failed[0].status).toBe('fail');
      expect(failed[0].reason).toContain(broken.naming);
    });
  }
});

describe('the conformance kit on remote actions (a local command speaking maestro.action/v1)', () => {
  it('passes every check of every example of the S3 note command, none skipped', async () => {
    const note = s3NoteRemoteAction();
    const results = await runChecks(subjectsOf([{ action: note, pack: 'remote-fixtures' }]), kit);
    expect(results).toHaveLength(note.examples.length * CHECK_NAMES.length);
    expect(results.filter((result) => result.status !== 'pass').map(line)).toEqual([]);
    // The command's own S3 calls are recorded (through the kit's recording S3 endpoint), not just assumed.
    expect(results.find((result) => result.check === 'plan-read-only')?.reason).toBe('plan sent only reads (HeadObject) (from empty and from existing)');
    // Each phase is a fresh Node process loading the AWS SDK: slow on a loaded machine, not a timed assertion.
  }, 300_000);

  it('fails plan-read-only on a command whose plan writes in its own process, naming the write', async () => {
    const planWrites = s3NoteRemoteAction({
      name: 'fixture.remote-plan-writes',
      endpoint: { command: [process.execPath, resolve(FIXTURES, 'plan-writes.mjs')], services: ['s3'] },
    });
    const [result] = await runChecks(subjectsOf([{ action: planWrites, pack: 'remote-fixtures' }]).slice(0, 1), kit, ['plan-read-only']);
    expect(result.status).toBe('fail');
    expect(result.reason).toBe('plan sent PutObject s3://maestro-demo/remote/note.txt, which is not a read');
  }, 120_000);

  it('fails every check of a command that answers garbage, naming ActionProtocolError', async () => {
    const results = await runChecks(subjectsOf([{ action: misbehavingRemoteAction('garbage'), pack: 'remote-fixtures' }]), kit);
    expect(results.length).toBeGreaterThan(0);
    for (const result of results) {
      expect(result.status).toBe('fail');
      expect(result.reason).toMatch(/^plan threw ActionProtocolError: .*the reply is not JSON/);
    }
  }, 120_000);
});

describe("an example's given resources", () => {
  it('are written before plan, so an action that needs an existing resource passes every check', async () => {
    const results = await runChecks(subjectsOf([{ action: replaceGiven, pack: 'fixtures' }]), kit);
    expect(results.filter((result) => result.status !== 'pass').map(line)).toEqual([]);
  });

  it('are all the kit writes before plan: without them that action cannot plan', async () => {
    const [result] = await runChecks(subjectsOf([{ action: replaceNotGiven, pack: 'fixtures' }]), kit, ['plan-read-only']);
    expect(result.status).toBe('fail');
    expect(result.reason).toBe('plan threw ActionFailed: s3://maestro-demo/notes/existing.txt does not exist');
  });
});

describe('npm run actions:check', () => {
  const run = promisify(execFile);
  const cli = (...args: string[]) =>
    run(process.execPath, [resolve(ROOT, 'local/cli/actions-check.ts'), ...args], { cwd: ROOT }).then(
      (done) => ({ code: 0, stdout: done.stdout }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    );

  it('prints one result per example and check as JSON and exits 0 when all pass', async () => {
    const { code, stdout } = await cli('--action', 'noop', '--json');
    expect(code).toBe(0);
    const output = JSON.parse(stdout) as { results: CheckResult[]; totals: { fail: number } };
    expect(output.results).toHaveLength(defaultCatalog().get('noop').examples.length * CHECK_NAMES.length);
    expect(output.totals.fail).toBe(0);
  });

  it('checks the packs maestro.config.yaml pins: --pack example selects the example pack', async () => {
    const { code, stdout } = await cli('--pack', 'example', '--check', 'plan-read-only', '--json');
    expect(code).toBe(0);
    const output = JSON.parse(stdout) as { results: CheckResult[] };
    expect(output.results.length).toBeGreaterThan(0);
    expect(new Set(output.results.map((result) => `${result.pack} ${result.status}`))).toEqual(new Set(['example pass']));
  });

  it('exits 1 and names the command when a check fails', async () => {
    const { code, stdout } = await cli('--module', 'test/fixtures/broken-actions/index.ts', '--action', 'broken.plan-writes', '--check', 'plan-read-only');
    expect(code).toBe(1);
    expect(stdout).toMatch(/^FAIL {2}broken\.plan-writes #0 {2}plan-read-only +plan sent PutObject s3:\/\/maestro-demo\/notes\/hello\.txt/m);
  });
});
