import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EmbeddedStack } from '../../local/stack.ts';
import { CLI_REDIRECT_URI } from '../../local/oidc/dev-oidc-provider.ts';
import { browse } from '../../local/oidc/sign-in.ts';
import { openApiValidator } from '../support/openapi-validator.ts';
import { startTestStack, waitForRunWhere } from '../support/test-stack.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** The `maestro` of package.json's bin: what `npx maestro` runs. */
const BIN = join(ROOT, (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { maestro: string } }).bin.maestro);

// Each test starts the binary several times, a process each (seconds apiece on a loaded machine).
vi.setConfig({ testTimeout: 240_000 });

let stack: EmbeddedStack;
let dir: string;
/** The CLI's config directory (XDG_CONFIG_HOME): where `maestro login` caches tokens. */
let config: string;
/** A run that SUCCEEDED (set by the runs tests, used by the later ones). */
let succeeded: string;
const check = openApiValidator();

beforeAll(async () => {
  stack = await startTestStack('cli');
  dir = mkdtempSync(join(tmpdir(), 'maestro-cli-'));
  config = mkdtempSync(join(tmpdir(), 'maestro-cli-config-'));
});
afterAll(async () => {
  await stack?.stop();
});

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real binary in a process of its own, against the test stack unless `env` says otherwise. */
function maestro(args: string[], env: Record<string, string | undefined> = {}): Promise<Ran> {
  return new Promise((done) => {
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      MAESTRO_API_URL: stack.endpoints.api,
      MAESTRO_TOKEN: undefined,
      NO_COLOR: undefined,
      XDG_CONFIG_HOME: config,
      MAESTRO_CREDENTIALS_FILE: undefined,
      ...env,
    };
    for (const [key, value] of Object.entries(childEnv)) if (value === undefined) delete childEnv[key];
    execFile(process.execPath, [BIN, ...args], { cwd: dir, env: childEnv }, (error, stdout, stderr) => {
      done({ code: error ? ((error as { code?: number }).code ?? 99) : 0, stdout, stderr });
    });
  });
}
const json = (ran: Ran) => JSON.parse(ran.stdout);
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const REASON = 'cli end-to-end test';
const runYaml = (key: string, environment = 'dev') => `goal: CLI ${key}
mode: APPLY
environment: ${environment}
reasonForAccess: ${REASON}
tasks:
  - action: s3.put-object
    params: { bucket: ${stack.demoBucket}, key: cli/${key}.txt, body: "hello ${key}\\n" }
`;

describe('maestro: usage and connection errors exit 2', () => {
  it('--help exits 0; no command, an unknown command, a bad option value or a bad id exit 2', async () => {
    const help = await maestro(['--help']);
    expect(help.code).toBe(0);
    for (const command of [
      'runs',
      'approve',
      'reject',
      'cancel',
      'resume',
      'rollback',
      'actions',
      'kill-switch',
      'freeze',
      'dr',
      'audit',
      'policy',
      'egress',
      'login',
      'logout',
    ]) {
      expect(help.stdout).toContain(command);
    }
    expect((await maestro([])).code).toBe(2);
    expect((await maestro(['nope'])).code).toBe(2);
    expect((await maestro(['runs', 'ls', '-o', 'yaml'])).code).toBe(2);
    const badId = await maestro(['runs', 'get', 'not an id!']);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('must be an id');
    expect((await maestro(['runs', 'create'])).code).toBe(2); // -f is required
  });

  it('an unreadable or malformed run file exits 2, and so does a request the API finds malformed (400)', async () => {
    expect((await maestro(['runs', 'create', '-f', join(dir, 'missing.yaml')])).code).toBe(2);
    expect((await maestro(['runs', 'create', '-f', file('list.yaml', '- a\n- b\n')])).code).toBe(2);
    const invalid = await maestro(['runs', 'create', '-f', file('invalid.json', '{"goal": "x", "mode": "SOMETIMES", "tasks": []}'), '-o', 'json']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/400 ValidationFailed/);
    expect(json(invalid).error.code).toBe('ValidationFailed');
    expect(check('createRun', 400, json(invalid))).toStrictEqual([]);
  });

  it('no API to talk to exits 2: nothing listening, no endpoints.json, an unknown token (401)', async () => {
    const refused = await maestro(['runs', 'ls', '--api', 'http://127.0.0.1:9']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('cannot reach the API at http://127.0.0.1:9');
    const none = await maestro(['runs', 'ls', '--data-dir', join(dir, 'no-stack')], { MAESTRO_API_URL: undefined });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('endpoints.json');
    expect((await maestro(['runs', 'ls', '--token', 'nobody'])).code).toBe(2);
  });

  it("finds the API in the embedded stack's endpoints.json when no address is given", async () => {
    const found = await maestro(['actions', 'ls', '--data-dir', stack.dataDir], { MAESTRO_API_URL: undefined });
    expect(found.code).toBe(0);
    expect(found.stdout).toContain('s3.put-object');
  });
});

describe('maestro runs', () => {
  it('runs create -f (YAML) --watch follows the run state by state on stderr and exits 0 when it SUCCEEDED', async () => {
    const ran = await maestro(['runs', 'create', '-f', file('ok.yaml', runYaml('ok')), '--watch']);
    expect(ran.code, ran.stderr).toBe(0);
    // A poll sees the statuses it lands on (a quick run may pass PLANNING between two polls); the events
    // are every one, in order, and the statuses seen follow the run's own order to SUCCEEDED.
    const seen = [...ran.stderr.matchAll(/▸ ([A-Z_]+)/g)].map((match) => match[1]);
    const lifecycle = ['PENDING', 'PLANNING', 'PLANNED', 'APPLYING', 'VERIFYING', 'SUCCEEDED'];
    expect(seen.at(-1)).toBe('SUCCEEDED');
    const places = seen.map((status) => lifecycle.indexOf(status));
    expect(places).not.toContain(-1);
    expect(places).toStrictEqual([...places].sort((a, b) => a - b));
    const events = [...ran.stderr.matchAll(/^ +(\d+) ([A-Z][A-Za-z]+) /gm)];
    expect(events.map((match) => Number(match[1]))).toStrictEqual(events.map((_, index) => index + 1));
    expect(events.map((match) => match[2])).toEqual(expect.arrayContaining(['RunRequested', 'RunAdmitted', 'RunPlanned', 'RunApplying', 'RunSucceeded']));
    expect(ran.stderr).toMatch(/TaskApplied\s+task 0: s3.put-object: applied/);
    expect(ran.stdout).toMatch(/status\s+SUCCEEDED/);
    expect(ran.stdout).toContain(`+hello ok`);
    expect(ran.stdout).not.toContain('\x1b['); // no colour without a terminal
  });

  it('runs create -f (JSON) -o json prints the answer, which conforms to the OpenAPI document; ls, get and watch too', async () => {
    const request = { goal: 'CLI json', mode: 'APPLY', reasonForAccess: REASON, tasks: [{ action: 'noop', params: {} }] };
    const created = await maestro(['runs', 'create', '-f', file('noop.json', JSON.stringify(request)), '-o', 'json']);
    expect(created.code, created.stderr).toBe(0);
    const { runId } = json(created);
    expect(check('createRun', 201, json(created))).toStrictEqual([]);
    const watched = await maestro(['runs', 'watch', runId, '-o', 'json']);
    expect(watched.code, watched.stderr).toBe(0);
    expect(json(watched).run.status).toBe('SUCCEEDED');
    succeeded = runId;
    const got = await maestro(['runs', 'get', runId, '-o', 'json']);
    expect(got.code).toBe(0);
    expect(check('getRun', 200, json(got))).toStrictEqual([]);
    const listed = await maestro(['runs', 'ls', '-o', 'json', '--limit', '50']);
    expect(listed.code).toBe(0);
    expect(check('listRuns', 200, json(listed))).toStrictEqual([]);
    expect(json(listed).runs.map((run: { id: string }) => run.id)).toContain(runId);
    const table = await maestro(['runs', 'ls']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+MODE\s+ENV\s+CREATED\s+GOAL$/);
    expect((await maestro(['runs', 'get', 'no-such-run'])).code).toBe(1);
  });

  it('runs watch on a run that fails exits 1, with the failure on stdout', async () => {
    const request = { goal: 'CLI failing', mode: 'APPLY', reasonForAccess: REASON, tasks: [{ action: 'noop', params: { failIn: 'apply' } }] };
    const created = await maestro(['runs', 'create', '-f', file('fail.json', JSON.stringify(request)), '-o', 'json']);
    const { runId } = json(created);
    const watched = await maestro(['runs', 'watch', runId]);
    expect(watched.code, watched.stderr).toBe(1);
    expect(watched.stdout).toMatch(/status\s+(FAILED|ROLLED_BACK)/);
    expect(watched.stdout).toMatch(/error\s+ActionFailed/);
    expect(watched.stderr).toMatch(/▸ (FAILED|ROLLED_BACK)/);
  });

  it('runs plan -f plans without applying: prints the diff and exits 0 when PLANNED', async () => {
    const ran = await maestro(['runs', 'plan', '-f', file('plan.yaml', runYaml('planned'))]);
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/status\s+PLANNED/);
    expect(ran.stdout).toMatch(/mode\s+PLAN/);
    expect(ran.stdout).toContain('+hello planned');
    expect(ran.stdout).toContain(`task 0 diff (s3://${stack.demoBucket}/cli/planned.txt)`);
  });
});

describe('maestro approve, reject, cancel, resume, rollback', () => {
  async function parked(key: string): Promise<string> {
    const created = await maestro(['runs', 'create', '-f', file(`${key}.yaml`, runYaml(key, 'prod')), '-o', 'json']);
    expect(created.code, created.stderr).toBe(0);
    const { runId } = json(created);
    await waitForRunWhere(stack, runId, (run) => run.status === 'AWAITING_APPROVAL', 'awaiting approval');
    return runId;
  }

  it('approve: refused to an operator (exit 1), done by an approver (exit 0); the run then succeeds', async () => {
    const runId = await parked('approved');
    const refused = await maestro(['approve', runId]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('403 Forbidden');
    const approved = await maestro(['approve', runId, '-m', 'looks right', '--token', 'dev-approver', '-o', 'json']);
    expect(approved.code, approved.stderr).toBe(0);
    expect(check('approveRun', 200, json(approved))).toStrictEqual([]);
    expect(json(approved).approval.state).toBe('APPROVED');
    expect((await maestro(['runs', 'watch', runId])).code).toBe(0);
    expect((await maestro(['approve', runId], { MAESTRO_TOKEN: 'dev-approver' })).code).toBe(1); // already decided
  });

  it('reject: the watched run then exits 1 (REJECTED)', async () => {
    const runId = await parked('rejected');
    const rejected = await maestro(['reject', runId, '--token', 'dev-approver']);
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(rejected.stdout).toContain('approval REJECTED');
    const watched = await maestro(['runs', 'watch', runId]);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toMatch(/status\s+REJECTED/);
  });

  it('cancel: a parked run is cancelled (exit 0); a finished one is refused (exit 1)', async () => {
    const runId = await parked('cancelled');
    const cancelled = await maestro(['cancel', runId, '--reason', 'not today', '-o', 'json']);
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(check('cancelRun', 202, json(cancelled))).toStrictEqual([]);
    const watched = await maestro(['runs', 'watch', runId]);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toMatch(/status\s+CANCELLED/);
    const again = await maestro(['cancel', runId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/409 \w+/);
  });

  it('resume: a finished run has no workflow to resume (exit 1); rollback creates the run that undoes a write (exit 0)', async () => {
    const finished = { id: succeeded };
    const resumed = await maestro(['resume', finished.id]);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toMatch(/POST \/runs\/.+\/resume → 409/);
    // The noop run changed nothing: there is nothing to undo, and the API says which field.
    const nothing = await maestro(['rollback', finished.id, '--reason', 'undo the CLI test noop']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/400 ValidationFailed: .*changed nothing/);
    const wrote = await maestro(['runs', 'create', '-f', file('undo.yaml', runYaml('undo')), '-o', 'json']);
    expect(wrote.code, wrote.stderr).toBe(0);
    const writeRun = json(wrote).runId as string;
    expect((await maestro(['runs', 'watch', writeRun])).code).toBe(0);
    const rollback = await maestro(['rollback', writeRun, '--reason', 'undo the CLI test write', '-o', 'json']);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(check('rollbackRun', 201, json(rollback))).toStrictEqual([]);
    expect(json(rollback).rollbackOf).toBe(writeRun);
    expect((await maestro(['runs', 'watch', json(rollback).runId])).code).toBe(0);
    expect((await maestro(['rollback', finished.id])).code).toBe(2); // --reason is required
  });
});

describe('maestro actions, kill-switch, freeze', () => {
  it('actions ls and show, in both formats; an unknown action exits 1', async () => {
    const listed = await maestro(['actions', 'ls', '-o', 'json']);
    expect(listed.code).toBe(0);
    expect(check('listActions', 200, json(listed))).toStrictEqual([]);
    const table = await maestro(['actions', 'ls']);
    expect(table.stdout).toMatch(/^NAME\s+VERSION\s+CATEGORY/);
    const shown = await maestro(['actions', 'show', 's3.put-object']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/category\s+WRITE/);
    expect(shown.stdout).toContain('"bucket"');
    const unknown = await maestro(['actions', 'show', 'constructor']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('404 ActionNotFound');
  });

  it('kill-switch on and off (admin); an operator may not flip it (exit 1); the control record shows it', async () => {
    expect((await maestro(['kill-switch', 'on', '--reason', 'CLI test: stop everything'])).code).toBe(1);
    const on = await maestro(['kill-switch', 'on', '--reason', 'CLI test: stop everything', '--token', 'dev-admin']);
    expect(on.code, on.stderr).toBe(0);
    expect(on.stdout).toContain('kill switch ENGAGED by dev-admin');
    const off = await maestro(['kill-switch', 'off', '--reason', 'CLI test: carry on', '--token', 'dev-admin', '-o', 'json']);
    expect(off.code, off.stderr).toBe(0);
    expect(check('setKillSwitch', 200, json(off))).toStrictEqual([]);
    expect(json(off).killSwitch).toMatchObject({ engaged: false, changedBy: 'dev-admin', reason: 'CLI test: carry on' });
    expect((await maestro(['kill-switch', 'on', '--token', 'dev-admin'])).code).toBe(2); // --reason is required
    expect((await maestro(['kill-switch', 'on', '--reason', 'short', '--token', 'dev-admin'])).code).toBe(2); // 400: at least 10 characters
  });

  it('runs create --watch on a write asked for while the kill switch is engaged ends FAILED (KillSwitchEngaged), exit 1, instead of waiting for an approval', async () => {
    expect((await maestro(['kill-switch', 'on', '--reason', 'CLI test: incident in progress', '--token', 'dev-admin'])).code).toBe(0);
    try {
      const ran = await maestro(['runs', 'create', '-f', file('killed.yaml', runYaml('killed')), '--watch']);
      expect(ran.code, ran.stderr).toBe(1);
      expect(ran.stdout).toMatch(/status\s+FAILED/);
      expect(ran.stdout).toMatch(/error\s+KillSwitchEngaged: the kill switch is engaged \(CLI test: incident in progress\)/);
      expect(ran.stderr).not.toContain('AWAITING_APPROVAL');
    } finally {
      expect((await maestro(['kill-switch', 'off', '--reason', 'CLI test: incident over', '--token', 'dev-admin'])).code).toBe(0);
    }
  });

  it('freeze override grants an override (admin)', async () => {
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const granted = await maestro(['freeze', 'override', '-e', 'prod', '--until', until, '-j', 'CLI test: the release must go out tonight', '-o', 'json'], {
      MAESTRO_TOKEN: 'dev-admin',
    });
    expect(granted.code, granted.stderr).toBe(0);
    expect(check('addFreezeOverride', 200, json(granted))).toStrictEqual([]);
    expect((await maestro(['freeze', 'override', '-e', 'prod', '--until', until, '-j', 'too short'], { MAESTRO_TOKEN: 'dev-admin' })).code).toBe(2);
  });
});

describe('maestro dr, audit, policy, egress', () => {
  it('dr backup --wait, dr status, dr restore --test --wait; an unknown target or job exits 1; dr verify of no file exits 2', async () => {
    const backup = await maestro(['dr', 'backup', '-t', 'demo', '-r', 'CLI test backup', '--wait', '-o', 'json']);
    expect(backup.code, backup.stderr).toBe(0);
    expect(json(backup).state).toBe('COMPLETE');
    expect(check('drStatus', 200, json(backup))).toStrictEqual([]);
    const status = await maestro(['dr', 'status', json(backup).id]);
    expect(status.stdout).toMatch(/state\s+COMPLETE/);
    const restore = await maestro(['dr', 'restore', '-t', 'demo', '-s', json(backup).id, '-r', 'CLI test restore', '--test', '--wait']);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(/kind\s+RESTORE/);
    expect((await maestro(['dr', 'backup', '-t', 'nowhere', '-r', 'CLI test'])).code).toBe(1);
    expect((await maestro(['dr', 'status', 'no-such-job'])).code).toBe(1);
    expect((await maestro(['dr', 'verify', join(dir, 'missing.json'), '--public-key', join(dir, 'missing.pem')])).code).toBe(2);
  });

  it('audit verify exits 0 on an intact chain; audit export prints JSON Lines (admin) and is refused to an operator', async () => {
    const verified = await maestro(['audit', 'verify', succeeded]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toContain('audit chain intact and anchored');
    const exported = await maestro(['audit', 'export'], { MAESTRO_TOKEN: 'dev-admin' });
    expect(exported.code).toBe(0);
    const lines = exported.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(exported.stderr).toMatch(/\d+ record\(s\)/);
    expect((await maestro(['audit', 'export'])).code).toBe(1);
  });

  it('policy test evaluates locally: allow exits 0, deny exits 1', async () => {
    const allowed = await maestro(
      ['policy', 'test', '--principal', 'alice', '--resource', 's3://maestro-demo/a.txt', '--reason', 'release 1.4 notes', '-o', 'json'],
      {
        MAESTRO_API_URL: undefined,
      },
    );
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(json(allowed).decision).toBe('allow');
    const denied = await maestro([
      'policy',
      'test',
      '--principal',
      'alice',
      '--resource',
      's3://maestro-demo/a.txt',
      '--reason',
      'release 1.4 notes',
      '--kill-switch',
    ]);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toMatch(/^deny/);
  });

  it("egress check: the API's decision, exit 1 when refused", async () => {
    const refused = await maestro(['egress', 'check', 'https://example.com/', '-o', 'json'], { MAESTRO_TOKEN: 'dev-admin' });
    expect(refused.code).toBe(1);
    expect(json(refused).allowed).toBe(false);
    expect(check('checkEgress', 200, json(refused))).toStrictEqual([]);
    expect((await maestro(['egress', 'check', 'https://example.com/'])).code).toBe(1); // an operator: 403
  });
});

describe('maestro login and logout (OpenID Connect, authorization code + PKCE, loopback redirect)', () => {
  const credentials = () => join(config, 'maestro', 'credentials.json');
  const session = () => JSON.parse(readFileSync(credentials(), 'utf8')).sessions[stack.endpoints.api];
  const editSession = (patch: Record<string, unknown>) => {
    const file = JSON.parse(readFileSync(credentials(), 'utf8'));
    Object.assign(file.sessions[stack.endpoints.api], patch);
    writeFileSync(credentials(), JSON.stringify(file));
  };

  /** `maestro login` as the real binary; the browser's part is done with plain HTTP against the provider, as a person would click through it. */
  function login(user: string): Promise<Ran & { callbackStatus: number; strayStatus: number }> {
    return new Promise((done, fail) => {
      const childEnv: NodeJS.ProcessEnv = { ...process.env, MAESTRO_API_URL: stack.endpoints.api, XDG_CONFIG_HOME: config };
      delete childEnv.MAESTRO_TOKEN;
      delete childEnv.MAESTRO_CREDENTIALS_FILE;
      const child = spawn(process.execPath, [BIN, 'login', '--data-dir', stack.dataDir, '--no-browser'], { cwd: dir, env: childEnv });
      let stdout = '';
      let stderr = '';
      let browsed: Promise<{ callbackStatus: number; strayStatus: number }> | undefined;
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        const url = /(http:\/\/127\.0\.0\.1:\d+\/auth\?\S+)/.exec(stderr)?.[1];
        if (url && !browsed) {
          browsed = (async () => {
            const callback = new URL(await browse({ authorizeUrl: url, redirectUri: CLI_REDIRECT_URI, user }));
            // A request with another state (another page, a stale tab) is refused, and the login keeps waiting.
            const stray = new URL(callback);
            stray.searchParams.set('state', 'not-this-sign-in');
            const strayStatus = (await fetch(stray)).status;
            return { strayStatus, callbackStatus: (await fetch(callback)).status };
          })();
          browsed.catch(fail);
        }
      });
      child.on('exit', async (code) => {
        if (!browsed) return fail(new Error(`login printed no URL: ${stderr}`));
        done({ code: code ?? 99, stdout, stderr, ...(await browsed) });
      });
    });
  }

  it('login prints the URL, takes the code on its loopback redirect, caches the tokens 0600; later commands use them', async () => {
    const signedIn = await login('dev-admin');
    expect(signedIn.code, signedIn.stderr).toBe(0);
    expect(signedIn.strayStatus).toBe(400);
    expect(signedIn.callbackStatus).toBe(200);
    expect(signedIn.stderr).toContain(`Sign in to ${stack.endpoints.api} at ${stack.endpoints.oidc}`);
    expect(signedIn.stdout).toContain('signed in as dev-admin (admin@maestro.example)');
    expect(statSync(credentials()).mode & 0o777).toBe(0o600);
    expect(statSync(join(config, 'maestro')).mode & 0o777).toBe(0o700);
    expect(session()).toMatchObject({ issuer: stack.endpoints.oidc, clientId: 'maestro-cli', subject: 'dev-admin' });
    expect(session().refreshToken).toEqual(expect.any(String));

    expect((await maestro(['runs', 'ls', '-o', 'json'])).code).toBe(0);
    // The export is for admins: the default development token (dev-operator) is refused it, the signed-in admin is not.
    const exported = await maestro(['audit', 'export']);
    expect(exported.code, exported.stderr).toBe(0);
    expect((await maestro(['audit', 'export'], { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'maestro-cli-nobody-')) })).code).toBe(1);
    // An explicit token still wins over the session.
    expect((await maestro(['audit', 'export', '--token', 'dev-operator'])).code).toBe(1);
  });

  it('refreshes an expired access token with the refresh token (and one the API refuses), saving the new tokens 0600', async () => {
    const before = session();
    // Expired: refreshed before it is sent (the stored token is garbage, so only a refreshed one can succeed).
    editSession({ accessToken: 'expired-token', expiresAt: Date.now() - 1000 });
    const ran = await maestro(['audit', 'export']);
    expect(ran.code, ran.stderr).toBe(0);
    const refreshed = session();
    expect(refreshed.accessToken).not.toBe('expired-token');
    expect(refreshed.expiresAt).toBeGreaterThan(Date.now());
    expect(refreshed.refreshToken).not.toBe(before.refreshToken); // the provider rotates a public client's refresh token
    expect(statSync(credentials()).mode & 0o777).toBe(0o600);
    // Not expired by the clock but refused by the API (401): refreshed once and retried.
    editSession({ accessToken: `${refreshed.accessToken.slice(0, -4)}AAAA` });
    const retried = await maestro(['runs', 'ls']);
    expect(retried.code, retried.stderr).toBe(0);
    expect(session().accessToken).not.toBe(refreshed.accessToken);
  });

  it('refuses a credentials file others may read; logout revokes the refresh token and forgets the session', async () => {
    chmodSync(credentials(), 0o644);
    const refused = await maestro(['runs', 'ls']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('chmod 600');
    chmodSync(credentials(), 0o600);

    const { refreshToken } = session();
    const out = await maestro(['logout', '-o', 'json']);
    expect(out.code, out.stderr).toBe(0);
    expect(json(out)).toMatchObject({ removed: true, revoked: true });
    expect(existsSync(credentials())).toBe(false);
    const reuse = await fetch(`${stack.endpoints.oidc}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'maestro-cli' }),
    });
    expect(reuse.status).toBe(400);
    expect(((await reuse.json()) as { error: string }).error).toBe('invalid_grant');
    expect((await maestro(['audit', 'export'])).code).toBe(1); // back to the development token
    expect((await maestro(['logout'])).stdout).toContain('not logged in');
  });
});
