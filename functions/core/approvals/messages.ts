import type { Run, Task } from '../runs/model.ts';
import type { Notification, SlackMessage } from './ports.ts';

const MAX_DIFF_IN_MESSAGE = 2_500;

function planLines(tasks: readonly Task[]): string[] {
  return tasks.map((task) => `${task.index}. ${task.action}: ${task.plan?.summary ?? '(no plan)'}`);
}

function diffExcerpt(tasks: readonly Task[]): string {
  const diff = tasks
    .map((task) => task.plan?.diff ?? '')
    .filter(Boolean)
    .join('\n');
  return diff.length > MAX_DIFF_IN_MESSAGE ? `${diff.slice(0, MAX_DIFF_IN_MESSAGE)}\n…` : diff;
}

/** Block Kit: header, what and who, the plan, the diff, the deadline. No decision links: those go to each approver alone. */
export function slackApprovalRequest(run: Run, tasks: readonly Task[], deadline: string, quorum: number, approvers: readonly string[]): SlackMessage {
  const diff = diffExcerpt(tasks);
  return {
    text: `Approval needed: ${run.goal} (${run.environment}, run ${run.id})`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: `Approval needed in ${run.environment}`.slice(0, 150) } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Goal*\n${slackEscape(run.goal)}` },
          { type: 'mrkdwn', text: `*Requested by*\n${slackEscape(run.requestedBy)}` },
          { type: 'mrkdwn', text: `*Reason*\n${slackEscape(run.reasonForAccess ?? '—')}` },
          { type: 'mrkdwn', text: `*Needs*\n${quorum} of ${slackEscape(approvers.join(', '))}` },
        ],
      },
      { type: 'section', text: { type: 'mrkdwn', text: `*Plan*\n${slackEscape(planLines(tasks).join('\n'))}` } },
      ...(diff ? [{ type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${slackEscape(diff)}\`\`\`` } }] : []),
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: `Run ${run.id} · plan ${run.planDigest?.slice(0, 12)} · expires ${deadline} · approvers have their links by email` },
        ],
      },
    ],
  };
}

export function slackOutcome(run: Run, outcome: string, detail: string): SlackMessage {
  return {
    text: `Run ${run.id}: ${outcome}`,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `*${slackEscape(outcome)}*: ${slackEscape(run.goal)} (${run.environment}, run ${run.id})\n${slackEscape(detail)}` },
      },
    ],
  };
}

export function approvalEmail(input: {
  run: Run;
  tasks: readonly Task[];
  approver: string;
  to: string;
  url: string;
  deadline: string;
  reminder: boolean;
}): Notification {
  const { run, tasks, approver, url, deadline } = input;
  const subject = `${input.reminder ? 'Reminder: ' : ''}approval needed in ${run.environment}: ${run.goal}`.slice(0, 200);
  const lines = planLines(tasks);
  const text = [
    `${run.requestedBy} asks to ${run.goal} in ${run.environment}.`,
    `Reason: ${run.reasonForAccess ?? '—'}`,
    '',
    ...lines,
    '',
    `Review and decide (this link is yours alone, works once, and expires ${deadline}):`,
    url,
  ].join('\n');
  const html = `<p>${html$(run.requestedBy)} asks to <strong>${html$(run.goal)}</strong> in ${html$(run.environment)}.</p>
<p>Reason: ${html$(run.reasonForAccess ?? '—')}</p>
<ol start="0">${lines.map((line) => `<li>${html$(line)}</li>`).join('')}</ol>
<p><a href="${html$(url)}">Review and decide</a> — this link is yours alone, works once, and expires ${html$(deadline)}.</p>`;
  return {
    channel: 'email',
    kind: input.reminder ? 'approval-reminder' : 'approval-request',
    runId: run.id,
    to: input.to,
    subject,
    text,
    html,
    links: [{ approver, url }],
  };
}

/** Slack mrkdwn control characters. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** HTML text and attribute escaping for every untrusted string in a page or an email. */
export function html$(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
