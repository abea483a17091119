/** One reason text looks like instructions aimed at the planner rather than data. */
export interface ScreeningFinding {
  rule: string;
  /** Where in the text, and a short excerpt (hidden characters shown as \u{…}). */
  index: number;
  excerpt: string;
}

export interface ScreeningResult {
  flagged: boolean;
  findings: ScreeningFinding[];
}

/**
 * The screening rules. Every quantifier is bounded (`?` or `{m,n}`, never `*`, `+` or `{m,}`), none is
 * nested in another and there are no backreferences or lookarounds, so the backtracking engine does at
 * most a constant amount of work per start position: screening is linear in the text's length. (An
 * unbounded `\s*` right after `\n` made the chat-role-marker rule quadratic on runs of newlines.)
 * test/core/egress/screen-text.test.ts checks this structure.
 */
export const SCREENING_RULES: readonly { rule: string; pattern: RegExp }[] = [
  {
    rule: 'override-instructions',
    pattern:
      /\b(ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(previous|prior|above|earlier|all|your|the|any)\b[^.\n]{0,20}\b(instructions?|prompts?|rules|directions|guardrails|policies)\b/i,
  },
  {
    rule: 'role-reassignment',
    pattern: /\b(you are now|from now on,? you|act as (a |an )?(admin|root|system|developer)|pretend (to be|you are)|new instructions\s{0,32}:)/i,
  },
  { rule: 'system-prompt', pattern: /\b(system prompt|developer message|jailbreak|DAN mode)\b/i },
  {
    rule: 'chat-role-marker',
    pattern:
      /(^|\n)[^\S\n]{0,64}(system|assistant|developer)[^\S\n]{0,32}:\s|<\|im_start\|>|<\|im_end\|>|\[\/?INST\]|<<\/?SYS>>|<\|(system|assistant|user)\|>/i,
  },
  {
    rule: 'tool-call-syntax',
    pattern:
      /<\/?(tool_call|tool_use|function_calls?|invoke|antml:[a-z_]{1,64})\b|"tool_calls"\s{0,32}:|"function_call"\s{0,32}:|```\s{0,32}(tool|tool_code|function)\b/i,
  },
  {
    rule: 'exfiltration',
    pattern:
      /\b(send|post|upload|exfiltrate|leak|reveal|print)\b[^.\n]{0,30}\b(credentials?|secrets?|api[ _-]?keys?|passwords?|tokens?|environment variables)\b/i,
  },
  { rule: 'hidden-unicode', pattern: /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u{E0000}-\u{E007F}]/u },
];

/**
 * The longest text screened (characters; the default fetch ceiling is 1 MiB). Past it, only the first
 * MAX_SCREENED_CHARS are screened and an `oversize` finding flags the text, so nothing hides in the tail.
 */
export const MAX_SCREENED_CHARS = 1024 * 1024;

const MAX_FINDINGS = 20;

/**
 * Flags instruction-like content in text that will feed a plan (a run's goal, fetched pages):
 * attempts to override instructions, reassign roles, chat-template and tool-call syntax, requests to
 * leak secrets, hidden Unicode (zero-width, bidi controls, tag characters), and text too long to
 * screen whole. It only flags: the
 * caller records the findings as an event and policy decides what happens.
 */
export function screenText(text: string): ScreeningResult {
  const findings: ScreeningFinding[] = [];
  if (text.length > MAX_SCREENED_CHARS) {
    findings.push({ rule: 'oversize', index: MAX_SCREENED_CHARS, excerpt: `${text.length} characters; only the first ${MAX_SCREENED_CHARS} were screened` });
    text = text.slice(0, MAX_SCREENED_CHARS);
  }
  for (const { rule, pattern } of SCREENING_RULES) {
    const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
    for (const match of text.matchAll(global)) {
      findings.push({
        rule,
        index: match.index ?? 0,
        excerpt: visible(text.slice(Math.max(0, (match.index ?? 0) - 20), (match.index ?? 0) + match[0].length + 20)),
      });
      if (findings.length >= MAX_FINDINGS) return { flagged: true, findings };
    }
  }
  findings.sort((a, b) => a.index - b.index);
  return { flagged: findings.length > 0, findings };
}

/** Hidden and control characters made visible, for events and reviewers. */
function visible(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u{E0000}-\u{E007F}]/gu,
    (char) => `\\u{${char.codePointAt(0)!.toString(16)}}`,
  );
}
