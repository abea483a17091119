import { readFileSync } from 'node:fs';

// `${Name}` as CDK definitionSubstitutions (Fn::Sub) writes it; `${!Name}` is the escaped literal `${Name}`.
const PLACEHOLDER = /\$\{(!?)([A-Za-z0-9_.:]+)\}/g;

/**
 * Reads an ASL file and replaces `${Name}` placeholders (CDK definitionSubstitutions syntax), so the
 * local endpoint runs the same file that CDK deploys. Throws naming every placeholder left without a value.
 */
export function loadDefinition(file: string, substitutions: Record<string, string>): string {
  const text = readFileSync(file, 'utf8');
  const missing = new Set<string>();
  const substituted = text.replace(PLACEHOLDER, (whole: string, escaped: string, name: string) => {
    if (escaped) return `\${${name}}`;
    if (!Object.hasOwn(substitutions, name)) {
      missing.add(name);
      return whole;
    }
    return substitutions[name];
  });
  if (missing.size > 0) {
    throw new Error(`${file}: no substitution for ${[...missing].map((name) => `\${${name}}`).join(', ')}`);
  }
  try {
    JSON.parse(substituted);
  } catch (error) {
    throw new Error(`${file}: not valid JSON after substitution: ${(error as Error).message}`);
  }
  return substituted;
}
