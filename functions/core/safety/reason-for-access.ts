import { ValidationFailed } from '../errors.ts';

const PLACEHOLDERS = /^(n\/?a|none|test(ing)?|todo|tbd|x+|\.+|-+|asdf\w*|foo|bar|reason|because|no reason|placeholder|lorem ipsum.*|\?+)$/i;

/** A reason-for-access is required for privileged runs: long enough, and not placeholder text. */
export function checkReasonForAccess(reason: string | undefined, minLength: number): string {
  const trimmed = reason?.trim() ?? '';
  if (trimmed === '') throw new ValidationFailed('this run changes things: say why in reasonForAccess', { field: 'reasonForAccess' });
  if (trimmed.length < minLength) {
    throw new ValidationFailed(`reasonForAccess must be at least ${minLength} characters`, { field: 'reasonForAccess' });
  }
  if (PLACEHOLDERS.test(trimmed) || new Set(trimmed.toLowerCase().replace(/\s/g, '')).size < 3) {
    throw new ValidationFailed('reasonForAccess looks like placeholder text; say what the change is for', { field: 'reasonForAccess' });
  }
  return trimmed;
}
