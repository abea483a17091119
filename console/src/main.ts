import type { SignInSettings } from './lib/pkce.ts';
import { apiClient } from './ui/api-client.ts';
import { beginSignIn, currentSession, finishSignIn, forgetSession, signOut } from './ui/auth.ts';
import type { Session } from './ui/auth.ts';
import { h, show } from './ui/dom.ts';
import { errorBox, field } from './ui/page-kit.ts';
import type { PageContext } from './ui/page-kit.ts';
import { approvalsPage } from './ui/pages/approvals-page.ts';
import { controlPage } from './ui/pages/control-page.ts';
import { drPage } from './ui/pages/dr-page.ts';
import { newRunPage } from './ui/pages/new-run-page.ts';
import { auditPanel, runPage } from './ui/pages/run-page.ts';
import { runsPage } from './ui/pages/runs-page.ts';

const root = document.getElementById('main')!;
const nav = document.getElementById('nav')!;
const who = document.getElementById('who')!;
let stopPolling: (() => void)[] = [];

async function boot(): Promise<void> {
  const config = (await (await fetch('/console/config.json', { credentials: 'omit' })).json()) as { signIn: SignInSettings | null };
  const settings = config.signIn;
  if (!settings) {
    show(root, h('h1', null, 'Sign-in is not configured'), h('p', null, 'The API has no identity.oidc issuer: set one (docs/identity.md).'));
    return;
  }
  if (location.pathname.endsWith('/console/callback')) {
    try {
      const returnTo = await finishSignIn(settings);
      history.replaceState(null, '', `/console${returnTo}`);
    } catch (error) {
      history.replaceState(null, '', '/console');
      signInPage(settings, error);
      return;
    }
  }
  const session = currentSession();
  if (!session) {
    signInPage(settings);
    return;
  }
  signedIn(settings, session);
}

function signInPage(settings: SignInSettings, problem?: unknown): void {
  nav.replaceChildren();
  who.replaceChildren();
  const button = h('button', { type: 'button', class: 'primary' }, 'Sign in');
  button.addEventListener('click', () => {
    button.disabled = true;
    beginSignIn(settings).catch((error: unknown) => {
      button.disabled = false;
      root.append(errorBox(error));
    });
  });
  show(
    root,
    h('h1', null, 'Maestro console'),
    h('p', null, 'Sign in with ', h('code', null, settings.issuer), '.'),
    problem ? errorBox(problem) : null,
    h('p', null, button),
  );
  button.focus();
}

function signedIn(settings: SignInSettings, session: Session): void {
  // A 401 means the token is no longer good (expired, or the issuer rotated away from it): sign in again.
  const api = apiClient(
    () => currentSession()?.accessToken,
    () => {
      stop();
      forgetSession();
      signInPage(settings, new Error('the API no longer accepts your sign-in (401): sign in again'));
    },
  );
  const signOutButton = h('button', { type: 'button' }, 'Sign out');
  signOutButton.addEventListener('click', () => {
    stop();
    signOut();
    signInPage(settings);
  });
  show(who, h('span', { class: 'me' }, `Signed in as ${session.me.sub}${session.me.email ? ` (${session.me.email})` : ''}`), ' ', signOutButton);
  const links: [string, string][] = [
    ['#/runs', 'Runs'],
    ['#/new', 'New run'],
    ['#/approvals', 'Approvals'],
    ['#/control', 'Kill switch & freezes'],
    ['#/dr', 'DR'],
    ['#/audit', 'Audit'],
  ];
  show(
    nav,
    h(
      'ul',
      null,
      links.map(([href, text]) => h('li', null, h('a', { href }, text))),
    ),
  );

  const context = (): PageContext => ({
    api,
    session,
    root,
    live(tick, ms = 2000) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let stopped = false;
      const loop = async () => {
        await tick();
        if (!stopped) timer = setTimeout(loop, ms);
      };
      stopPolling.push(() => {
        stopped = true;
        clearTimeout(timer);
      });
      void loop();
    },
    go(hash) {
      location.hash = hash;
    },
  });
  const route = () => {
    stop();
    const hash = location.hash || '#/runs';
    for (const link of nav.querySelectorAll('a')) link.toggleAttribute('aria-current', link.getAttribute('href') === hash);
    const ctx = context();
    const run = /^#\/runs\/([^/]+)$/.exec(hash);
    const dr = /^#\/dr\/([^/]+)$/.exec(hash);
    if (run) runPage(ctx, decodeURIComponent(run[1]));
    else if (hash === '#/new') newRunPage(ctx);
    else if (hash === '#/approvals') approvalsPage(ctx);
    else if (hash === '#/control') controlPage(ctx);
    else if (hash === '#/dr' || dr) drPage(ctx, dr ? decodeURIComponent(dr[1]) : undefined);
    else if (hash === '#/audit') auditPage(ctx);
    else runsPage(ctx);
    root.querySelector('h1')?.setAttribute('tabindex', '-1');
  };
  window.addEventListener('hashchange', route);
  route();
}

function auditPage(ctx: PageContext): void {
  const runId = h('input', { type: 'text', required: true, placeholder: 'run id' });
  const slot = h('div');
  const form = h(
    'form',
    {
      'aria-label': 'audit verify',
      onsubmit: (event: Event) => {
        event.preventDefault();
        show(slot, auditPanel(ctx, runId.value.trim()));
        slot.querySelector('button')?.click();
      },
    },
    field('Run id', 'audit-run', runId),
    h('p', null, h('button', { type: 'submit' }, 'Open')),
  );
  show(ctx.root, h('h1', null, 'Audit verify'), form, slot);
}

function stop(): void {
  for (const halt of stopPolling) halt();
  stopPolling = [];
}

boot().catch((error: unknown) => show(root, errorBox(error)));
