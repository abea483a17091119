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

const RULES: readonly { rule: string; pattern: RegExp }[] = [
  { rule: 'override-instructions', pattern: /\b(ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(previous|prior|above|earlier|all|your|the|any)\b[^.\n]{0,20}\b(instructions?|prompts?|rules|directions|guardrails|policies)\b/i },
  { rule: 'role-reassignment', pattern: /\b(you are now|from now on,? you|act as (an? )?(admin|root|system|developer)|pretend (to be|you are)|new instructions\s*:)/i },
  { rule: 'system-prompt', pattern: /\b(system prompt|developer message|jailbreak|DAN mode)\b/i },
  { rule: 'chat-role-marker', pattern: /(^|\n)\s*(system|assistant|developer)\s*:\s|<\|im_start\|>|<\|im_end\|>|\[\/?INST\]|<<\/?SYS>>|<\|(system|assistant|user)\|>/i },
  { rule: 'tool-call-syntax', pattern: /<\/?(tool_call|tool_use|function_calls?|invoke|antml:[a-z_]+)\b|"tool_calls"\s*:|"function_call"\s*:|```\s*(tool|tool_code|function)\b/i },
  { rule: 'exfiltration', pattern: /\b(send|post|upload|exfiltrate|leak|reveal|print)\b[^.\n]{0,30}\b(credentials?|secrets?|api[ _-]?keys?|passwords?|tokens?|environment variables)\b/i },
  { rule: 'hidden-unicode', pattern: /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u{E0000}-\u{E007F}]/u },
];

const MAX_FINDINGS = 20;

/**
 * Flags instruction-like content in text that will feed a plan (a run's goal, fetched pages):
 * attempts to override instructions, reassign roles, chat-template and tool-call syntax, requests to
 * leak secrets, and hidden Unicode (zero-width, bidi controls, tag characters). It only flags: the
 * caller records the findings as an event and policy decides what happens.
 */
export function screenText(text: string): ScreeningResult {
  const findings: ScreeningFinding[] = [];
  for (const { rule, pattern } of RULES) {
    const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
    for (const match of text.matchAll(global)) {
      findings.push({ rule, index: match.index ?? 0, excerpt: visible(text.slice(Math.max(0, (match.index ?? 0) - 20), (match.index ?? 0) + match[0].length + 20)) });
      if (findings.length >= MAX_FINDINGS) return { flagged: true, findings };
    }
  }
  findings.sort((a, b) => a.index - b.index);
  return { flagged: findings.length > 0, findings };
}

/** Hidden and control characters made visible, for events and reviewers. */
function visible(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\u{E0000}-\u{E007F}]/gu, (char) => `\\u{${char.codePointAt(0)!.toString(16)}}`);
}
