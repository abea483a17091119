import { h, show } from '../dom.ts';
import { errorBox, time } from '../page-kit.ts';
import type { PageContext } from '../page-kit.ts';

interface PendingApproval {
  runId: string;
  goal: string;
  environment: string;
  requestedBy: string;
  deadline: string;
  quorum: number;
  approvers: string[];
  approvals: string[];
}

/** Runs waiting for a decision that the signed-in person may take (an approver, not the requester, not decided yet). */
export function approvalsPage(ctx: PageContext): void {
  const list = h('div');
  const problem = h('div', { 'aria-live': 'polite' });
  show(ctx.root, h('h1', null, 'Approvals waiting for me'), problem, list);
  const me = [ctx.session.me.sub, ctx.session.me.email].filter((id): id is string => Boolean(id));
  ctx.live(async () => {
    try {
      const { approvals } = await ctx.api<{ approvals: PendingApproval[] }>('GET', '/approvals');
      const mine = approvals.filter(
        (item) => item.approvers.some((id) => me.includes(id)) && !me.includes(item.requestedBy) && !item.approvals.some((id) => me.includes(id)),
      );
      problem.replaceChildren();
      show(
        list,
        mine.length === 0
          ? h('p', { class: 'muted' }, 'Nothing waits for you.')
          : h(
              'ul',
              { class: 'approvals' },
              mine.map((item) =>
                h(
                  'li',
                  null,
                  h('a', { href: `#/runs/${encodeURIComponent(item.runId)}` }, item.goal),
                  ` in ${item.environment}, asked by ${item.requestedBy}; ${item.approvals.length} of ${item.quorum} approval(s); deadline `,
                  time(item.deadline),
                ),
              ),
            ),
      );
    } catch (error) {
      show(problem, errorBox(error));
    }
  }, 3000);
}
