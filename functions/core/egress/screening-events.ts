import type { EventDraft } from '../runs/model.ts';
import { screenText } from './screen-text.ts';

/**
 * The audit events for text that will feed a plan: none when it looks like data, one WARN
 * `InjectionSuspected` event with the findings when it looks like instructions. Screening only flags;
 * the event is the quarantine record, and policy decides what a flagged run may do.
 */
export function screeningEvents(text: string, source: string): EventDraft[] {
  const result = screenText(text);
  if (!result.flagged) return [];
  const rules = [...new Set(result.findings.map((finding) => finding.rule))];
  return [
    {
      type: 'InjectionSuspected',
      level: 'WARN',
      message: `the ${source} looks like instructions to the planner (${rules.join(', ')}); flagged for policy`,
      payload: { source, rules, findings: result.findings.slice(0, 5) },
    },
  ];
}
