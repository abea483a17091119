// Parameter names, selectors ("name:3", "name:prod") and ARNs as SSM spells them.

import { ssmError } from './ssm-errors.ts';

const NAME_PATTERN = /^[a-zA-Z0-9_.\-/]+$/;
const MAX_NAME_LENGTH = 2048;
const MAX_HIERARCHY_LEVELS = 15;
const LABEL_PATTERN = /^[a-zA-Z0-9_.-]{1,100}$/;

export interface SsmScope {
  region: string;
  accountId: string;
}

/** Throws the error SSM gives for a name it would refuse. */
export function checkParameterName(name: string): void {
  if (name.length > MAX_NAME_LENGTH || !NAME_PATTERN.test(name)) {
    throw ssmError('ValidationException', `Parameter name '${name}' is invalid: use 1-${MAX_NAME_LENGTH} of a-zA-Z0-9_.-/`);
  }
  if (name.includes('/') && !name.startsWith('/')) {
    throw ssmError('ValidationException', 'Parameter name must be a fully qualified name: a hierarchy starts with a forward slash (/).');
  }
  if (/^\/?(aws|ssm)/i.test(name)) {
    throw ssmError('ValidationException', 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).');
  }
  if (name.split('/').length - 1 > MAX_HIERARCHY_LEVELS) {
    throw ssmError('HierarchyLevelLimitExceededException', `A parameter hierarchy can have a maximum of ${MAX_HIERARCHY_LEVELS} levels.`);
  }
}

export type ParameterSelector = { kind: 'latest' } | { kind: 'version'; version: number } | { kind: 'label'; label: string };

/** "name", "name:7" or "name:label"; names never hold ':' so the first one splits. */
export function parseNameWithSelector(text: string): { name: string; selector: ParameterSelector; selectorText?: string } {
  const colon = text.indexOf(':');
  if (colon < 0) return { name: text, selector: { kind: 'latest' } };
  const name = text.slice(0, colon);
  const selectorText = text.slice(colon + 1);
  if (/^\d{1,9}$/.test(selectorText)) return { name, selector: { kind: 'version', version: Number(selectorText) }, selectorText };
  if (LABEL_PATTERN.test(selectorText)) return { name, selector: { kind: 'label', label: selectorText }, selectorText };
  throw ssmError('ValidationException', `Invalid parameter selector '${selectorText}': use a version number or a label`);
}

/** SSM's label rules: letters, digits, '.', '-', '_'; not starting with a digit, "aws" or "ssm". */
export function isValidLabel(label: string): boolean {
  return LABEL_PATTERN.test(label) && !/^\d/.test(label) && !/^(aws|ssm)/i.test(label);
}

export function parameterArn(scope: SsmScope, name: string): string {
  return `arn:aws:ssm:${scope.region}:${scope.accountId}:parameter/${name.replace(/^\//, '')}`;
}
