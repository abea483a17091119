import type { APIGatewayProxyResult } from 'aws-lambda';
import { html$ } from '../../core/approvals/messages.ts';
import type { LinkView } from '../../core/approvals/link-decisions.ts';
import { httpRuleOf } from '../../core/http-errors.ts';

/** Small server-rendered pages for approval links: no script needed to decide; every untrusted string escaped. */
export function approvalPage(view: LinkView): APIGatewayProxyResult {
  if (view.kind === 'refused') {
    const { status, code } = httpRuleOf(view.error);
    return page(status, 'Approval link refused', `<p class="refused"><strong>${html$(code)}</strong>: ${html$(view.error.message)}</p>`);
  }
  if (view.kind === 'decided') {
    const state = view.run.approval?.state ?? 'PENDING';
    const tally = view.run.approval
      ? `${view.run.approval.decisions.filter((d) => d.decision === 'approve').length} of ${view.run.approval.quorum} approvals`
      : '';
    return page(
      200,
      'Decision recorded',
      `<p>Thank you, ${html$(view.payload.approver)}: you chose to <strong>${view.decision}</strong> run ${html$(view.run.id)}.</p><p>The approval is now <strong>${html$(state)}</strong> (${html$(tally)}).</p>`,
    );
  }
  const { run, tasks, payload } = view;
  const plan = tasks
    .map(
      (task) =>
        `<li><code>${html$(task.action)}</code>: ${html$(task.plan?.summary ?? '')}${task.plan?.diff ? `<pre>${html$(task.plan.diff)}</pre>` : ''}</li>`,
    )
    .join('');
  const body = `
<p><strong>${html$(run.requestedBy)}</strong> asks to <strong>${html$(run.goal)}</strong> in <strong>${html$(run.environment)}</strong>.</p>
<p>Reason: ${html$(run.reasonForAccess ?? '—')}</p>
<p>Status: ${html$(run.status)} · approval ${html$(run.approval?.state ?? '—')} · needs ${run.approval?.quorum ?? 1} · deadline ${html$(run.approval?.deadline ?? '')}</p>
<ol start="0">${plan}</ol>
<form method="post" action="">
  <label for="comment">Comment (optional)</label><br>
  <textarea id="comment" name="comment" rows="3" cols="60" maxlength="1000"></textarea><br>
  <button type="submit" name="decision" value="approve">Approve as ${html$(payload.approver)}</button>
  <button type="submit" name="decision" value="reject">Reject</button>
</form>
<p class="note">Opening this page decided nothing. This link is yours alone and works once.</p>`;
  return page(200, `Approve run ${run.id}?`, body);
}

function page(statusCode: number, title: string, body: string): APIGatewayProxyResult {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
      'x-frame-options': 'DENY',
    },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${html$(title)}</title><meta name="robots" content="noindex">
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:.5rem;overflow:auto}.refused{color:#a00}</style>
</head><body><h1>${html$(title)}</h1>${body}</body></html>`,
  };
}
