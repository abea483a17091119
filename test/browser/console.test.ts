import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole } from '../../console/build.ts';
import type { EmbeddedStack } from '../../local/stack.ts';
import { api, startTestStack } from '../support/test-stack.ts';

/**
 * The console in a real browser (Debian's chromium, driven by playwright-core) against a whole
 * embedded stack: people sign in through the embedded OpenID provider's login page, and every
 * check looks at what the page shows. Screenshots go to test-artifacts/console/.
 */
const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'console');
const KEY = 'console/greeting.txt';
/** Long enough for a loaded 2-core machine; each wait is on a condition, never a fixed sleep. */
const WAIT = { timeout: 60_000 };

let stack: EmbeddedStack;
let context: BrowserContext;
let page: Page;
let profile: string;
const pageErrors: string[] = [];
let s3: S3Client;

beforeAll(async () => {
  await buildConsole();
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startTestStack('console');
  s3 = new S3Client({ forcePathStyle: true });
  profile = mkdtempSync(join(tmpdir(), 'maestro-console-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(WAIT.timeout);
  page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
  // The console's own errors (a CSP violation, a failed script); the provider's login page and the favicon are not the console.
  page.on('console', (message) => {
    const where = message.location().url;
    if (message.type() === 'error' && where.startsWith(stack.endpoints.api) && !where.endsWith('/favicon.ico'))
      pageErrors.push(`console: ${message.text()} at ${where}`);
  });
}, 180_000);

afterAll(async () => {
  await context?.close();
  await stack?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

/** Signs in through the provider's own login page, as a person would. */
async function signInAs(user: string): Promise<void> {
  await page.goto(`${stack.endpoints.api}/console`);
  const signOut = page.getByRole('button', { name: 'Sign out' });
  const signIn = page.getByRole('button', { name: 'Sign in' });
  await signOut.or(signIn).waitFor();
  if (await signOut.isVisible()) await signOut.click();
  await signIn.click();
  await page.waitForURL((url) => url.origin === new URL(stack.endpoints.oidc!).origin);
  await page.locator('input[name="login"]').fill(user);
  await page.locator('input[name="password"]').fill('development');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.waitForURL((url) => url.origin === new URL(stack.endpoints.api).origin && !url.pathname.endsWith('/callback'));
  await page.getByText(`Signed in as ${user}`).waitFor();
}

/** Fills the console's new-run form and lands on the run's page; returns the run id. */
async function startRun(run: { goal: string; environment: string; mode?: 'APPLY' | 'PLAN'; reason?: string; tasks: unknown[] }): Promise<string> {
  await page.getByRole('link', { name: 'New run', exact: true }).first().click();
  await page.getByLabel('Goal').fill(run.goal);
  await page.getByLabel('Environment').fill(run.environment);
  await page.getByLabel('Mode').selectOption(run.mode ?? 'APPLY');
  if (run.reason) await page.getByLabel('Reason for access').fill(run.reason);
  await page.getByLabel(/^Tasks/).fill(JSON.stringify(run.tasks, null, 2));
  await page.getByRole('button', { name: 'Start run' }).click();
  await page.waitForURL(/#\/runs\/[^/]+$/).catch(async (error: unknown) => {
    await shot('failed-start-run');
    throw new Error(`the run did not start: ${await page.locator('main').textContent()}`, { cause: error });
  });
  return decodeURIComponent(new URL(page.url()).hash.replace('#/runs/', ''));
}

/** The signed-in person's own token, from the page (to call the API exactly as the console would). */
const callAsPage = (path: string, body: unknown) =>
  page.evaluate(
    async ([path, body]) => {
      const session = JSON.parse(sessionStorage.getItem('maestro.tokens') ?? '{}');
      const response = await fetch(path, {
        method: 'POST',
        headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as any };
    },
    [path, body] as const,
  );

async function approveAs(user: string, runId: string, comment: string): Promise<void> {
  await signInAs(user);
  await page.getByRole('link', { name: 'Approvals' }).click();
  await page.locator(`a[href="#/runs/${runId}"]`).click();
  await page.getByLabel('Comment').fill(comment);
  // By keyboard: focus the button and press Enter.
  await page.getByRole('button', { name: 'Approve' }).focus();
  await page.keyboard.press('Enter');
  await page.getByText('Approved.').waitFor();
}

describe('the console in a browser', () => {
  let runId: string;
  let firstVersion: string;

  it('serves the page with a strict Content-Security-Policy (no inline script, connect-src self + the issuer)', async () => {
    const response = await fetch(`${stack.endpoints.api}/console`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain(`connect-src 'self' ${new URL(stack.endpoints.oidc!).origin}`);
    expect(await response.text()).not.toMatch(/<script>|<script [^>]*>[^<]/);
  });

  it("signs an operator in, starts a prod run, and shows its diff and 'needs 1 approval from approvers'", { timeout: 300_000 }, async () => {
    await s3.send(new PutObjectCommand({ Bucket: stack.demoBucket, Key: KEY, Body: 'hello, version one\n' }));
    firstVersion = (await s3.send(new ListObjectVersionsCommand({ Bucket: stack.demoBucket, Prefix: KEY }))).Versions![0].VersionId!;
    await signInAs('dev-operator');
    await shot('01-runs-signed-in-operator');
    runId = await startRun({
      goal: 'Publish the console greeting',
      environment: 'prod',
      reason: 'console acceptance test: publish the greeting',
      tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key: KEY, body: 'hello, version two\n' } }],
    });
    // The plan simulation says so first (the verdicts), then the parked run's approval.
    await page.locator('.facts .badge', { hasText: 'AWAITING_APPROVAL' }).waitFor();
    await page.locator('.approval-summary', { hasText: 'needs 1 approval from approvers' }).waitFor();
    await page.locator('.diff-lines .add', { hasText: '+hello, version two' }).waitFor();
    await page.locator('.diff-lines .remove', { hasText: '-hello, version one' }).waitFor();
    // The gate verdicts of the plan simulation.
    await page.locator('.verdicts', { hasText: 'needs 1 approval from approvers' }).waitFor();
    await shot('02-prod-run-awaiting-approval');
  });

  it('does not let the operator approve their own run: no button, and the API refuses', async () => {
    await expect(page.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Reject' }).count()).resolves.toBe(0);
    const refused = await callAsPage(`/runs/${runId}/approve`, { comment: 'my own' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('Forbidden');
    expect(refused.body.error.correlationId).toEqual(expect.any(String));
    // The browser logs that deliberate 403; it is not an error of the console's.
    pageErrors.splice(0, pageErrors.length, ...pageErrors.filter((error) => !error.includes(`/runs/${runId}/approve`)));
    expect((await api(stack, 'GET', `/runs/${runId}`)).body.run.approval.decisions).toEqual([]);
  });

  it('signs an approver in, who approves with a comment, and the run reaches SUCCEEDED live', { timeout: 300_000 }, async () => {
    await approveAs('dev-approver', runId, 'looks right: the console test greeting');
    await shot('03-approved');
    // The page polls: the status changes without a reload.
    await page.locator('.facts .badge', { hasText: 'SUCCEEDED' }).waitFor();
    await page.locator('.decisions', { hasText: 'looks right: the console test greeting' }).waitFor();
    await page.locator('.timeline', { hasText: 'RunSucceeded' }).waitFor();
    await page.getByRole('button', { name: 'Verify the audit trail' }).click();
    await page.getByText(/^The audit trail verifies: \d+ event\(s\)\.$/).waitFor();
    await shot('04-succeeded');
    const body = await (await s3.send(new GetObjectCommand({ Bucket: stack.demoBucket, Key: KEY }))).Body!.transformToString();
    expect(body).toBe('hello, version two\n');
  });

  it('rolls the run back; the rollback parks in prod, is approved, and the object is restored', { timeout: 400_000 }, async () => {
    await signInAs('dev-operator');
    await page.goto(`${stack.endpoints.api}/console#/runs/${runId}`);
    await page.getByLabel('Reason for the rollback').fill('console acceptance test: undo the greeting');
    await page.getByRole('button', { name: 'Roll back this run' }).click();
    await page.waitForURL((url) => url.hash.startsWith('#/runs/') && !url.hash.endsWith(runId));
    const rollbackId = decodeURIComponent(new URL(page.url()).hash.replace('#/runs/', ''));
    await page.locator('.approval-summary', { hasText: 'needs 1 approval from approvers' }).waitFor();
    // The rollback's diff shows what will be restored.
    await page.locator('.diff-lines .add', { hasText: '+hello, version one' }).waitFor();
    await page.locator('.facts', { hasText: `Rolls back${runId}` }).waitFor();
    await shot('05-rollback-awaiting-approval');

    await approveAs('dev-approver', rollbackId, 'undo approved');
    await page.locator('.facts .badge', { hasText: 'SUCCEEDED' }).waitFor();
    await shot('06-rollback-succeeded');

    const restored = await s3.send(new GetObjectCommand({ Bucket: stack.demoBucket, Key: KEY }));
    expect(await restored.Body!.transformToString()).toBe('hello, version one\n');
    // The undo wrote the first version's bytes back as the newest version.
    const versions = (await s3.send(new ListObjectVersionsCommand({ Bucket: stack.demoBucket, Prefix: KEY }))).Versions ?? [];
    expect(versions.length).toBe(3);
    const latest = versions.find((version) => version.IsLatest)!;
    expect(latest.VersionId).not.toBe(firstVersion);
    const first = await s3.send(new GetObjectCommand({ Bucket: stack.demoBucket, Key: KEY, VersionId: firstVersion }));
    expect(await first.Body!.transformToString()).toBe('hello, version one\n');
    expect((await api(stack, 'GET', `/runs/${runId}`)).body.run.rolledBackBy).toBe(rollbackId);
  });

  it('renders a goal containing <script> as text: visible, and nothing runs', { timeout: 240_000 }, async () => {
    await signInAs('dev-operator');
    const goal = '<script>window.__maestroPwned = 1</script><img src=x onerror="window.__maestroPwned = 2"> tidy the greeting';
    const planId = await startRun({
      goal,
      environment: 'dev',
      mode: 'PLAN',
      reason: 'console acceptance test: a goal with markup',
      tasks: [{ action: 's3.put-object', params: { bucket: stack.demoBucket, key: 'console/plan-only.txt', body: '<b>bold?</b>\n' } }],
    });
    await expect(page.locator('h1.goal').textContent()).resolves.toBe(goal);
    await page.locator('.diff-lines .add', { hasText: '+<b>bold?</b>' }).waitFor();
    await page.getByRole('link', { name: 'Runs', exact: true }).click();
    await page.locator(`tr[data-run-id="${planId}"]`, { hasText: goal }).waitFor();
    await shot('07-script-goal-as-text');
    await expect(page.evaluate(() => (globalThis as { __maestroPwned?: number }).__maestroPwned)).resolves.toBeUndefined();
    await expect(page.locator('main script, main img').count()).resolves.toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
