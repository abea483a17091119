import * as z from 'zod';
import { digestOf } from '../canonical-json.ts';
import { ValidationFailed } from '../errors.ts';
import { own } from '../own.ts';
import { parseOrThrow } from '../validation.ts';
import { TemplateDefinition } from './template-model.ts';
import type { ParamSchema } from './template-model.ts';

/** `{{name}}`, spaces allowed inside the braces. */
const PLACEHOLDER = /\{\{\s*([a-zA-Z][a-zA-Z0-9_]*)\s*\}\}/g;
const WHOLE_PLACEHOLDER = /^\{\{\s*([a-zA-Z][a-zA-Z0-9_]*)\s*\}\}$/;

type Scalar = string | number | boolean;

/** A zod schema for one declared parameter: the value is typed by it before it goes anywhere. */
export function paramValidator(schema: ParamSchema): z.ZodType<Scalar> {
  let validator: z.ZodType<Scalar>;
  if (schema.type === 'string') {
    let text = z.string();
    if (schema.minLength !== undefined) text = text.min(schema.minLength);
    text = text.max(schema.maxLength ?? 1000);
    if (schema.pattern !== undefined) text = text.regex(new RegExp(schema.pattern, 'u'), `must match ${schema.pattern}`);
    validator = text;
  } else if (schema.type === 'boolean') {
    validator = z.boolean();
  } else {
    let number = schema.type === 'integer' ? z.number().int() : z.number();
    if (schema.minimum !== undefined) number = number.min(schema.minimum);
    if (schema.maximum !== undefined) number = number.max(schema.maximum);
    validator = number;
  }
  if (schema.enum) {
    const allowed = schema.enum;
    validator = validator.refine((value) => allowed.includes(value), `must be one of ${allowed.map((value) => JSON.stringify(value)).join(', ')}`);
  }
  return validator;
}

/** Every string value under `node`, with its path: keys are never looked at for placeholders, only refused when they hold one. */
function* strings(node: unknown, path: string): Generator<{ path: string; text: string }> {
  if (typeof node === 'string') yield { path, text: node };
  else if (Array.isArray(node)) for (const [index, item] of node.entries()) yield* strings(item, `${path}[${index}]`);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key.includes('{{'))
        throw new ValidationFailed(`${path}: a key cannot hold a placeholder (${key}); parameters substitute into values only`, { field: path });
      yield* strings(value, `${path}.${key}`);
    }
  }
}

/** The placeholders a text uses; any other `{{` is refused, so nothing half-looks like one. */
function placeholdersOf(text: string, path: string): string[] {
  const names = [...text.matchAll(PLACEHOLDER)].map((match) => match[1]);
  if (text.replace(PLACEHOLDER, '').includes('{{')) {
    throw new ValidationFailed(`${path}: "{{" must open a placeholder {{name}} (a declared parameter)`, { field: path });
  }
  return names;
}

/** The fields whose values may hold placeholders (goal, reasonForAccess, tasks[].params): never action, mode or environment. */
function substitutable(definition: TemplateDefinition): { path: string; text: string }[] {
  const found: { path: string; text: string }[] = [];
  found.push(...strings(definition.goal, 'goal'));
  if (definition.reasonForAccess !== undefined) found.push(...strings(definition.reasonForAccess, 'reasonForAccess'));
  for (const [index, task] of definition.tasks.entries()) found.push(...strings(task.params, `tasks[${index}].params`));
  return found;
}

/**
 * A template as it may be stored: the schema's shape, every placeholder a declared parameter, none in
 * a key or in action/mode/environment, and every default valid under its own parameter's schema.
 */
export function validateTemplate(input: unknown): { definition: TemplateDefinition; digest: string } {
  const definition = parseOrThrow(TemplateDefinition, input);
  for (const [field, value] of [
    ['environment', definition.environment],
    ...definition.tasks.map((task, index) => [`tasks[${index}].action`, task.action]),
  ] as const) {
    if (value?.includes('{{'))
      throw new ValidationFailed(`${field}: cannot hold a placeholder; only values of goal, reasonForAccess and task params can`, { field });
  }
  for (const { path, text } of substitutable(definition)) {
    for (const name of placeholdersOf(text, path)) {
      if (!own(definition.params, name)) throw new ValidationFailed(`${path}: {{${name}}} is not a declared parameter`, { field: path });
    }
  }
  for (const [name, schema] of Object.entries(definition.params)) {
    if (schema.default !== undefined) parseOrThrow(paramValidator(schema), schema.default, `params.${name}.default`);
  }
  return { definition, digest: digestOf(definition) };
}

/** The parameters a caller gives, typed: unknown names refused, missing ones take their default or are refused. */
export function resolveParams(definition: TemplateDefinition, given: unknown): Record<string, Scalar> {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, schema] of Object.entries(definition.params)) {
    const validator = paramValidator(schema);
    shape[name] = schema.default !== undefined ? validator.default(schema.default) : validator;
  }
  return parseOrThrow(z.strictObject(shape), given ?? {}, 'params') as Record<string, Scalar>;
}

function substitute(node: unknown, params: Readonly<Record<string, Scalar>>): unknown {
  if (typeof node === 'string') {
    const whole = WHOLE_PLACEHOLDER.exec(node);
    // A value that is one placeholder takes the parameter's typed value (an integer stays an integer).
    if (whole) return params[whole[1]];
    // Substituted text is not scanned again: a value holding "{{x}}" stays that text.
    return node.replace(PLACEHOLDER, (_match, name: string) => String(params[name]));
  }
  if (Array.isArray(node)) return node.map((item) => substitute(item, params));
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, substitute(value, params)]));
  return node;
}

/**
 * The run request a template makes with these parameters: a body for POST /runs (createRun
 * validates it exactly as any other). Parameters substitute into values only, one pass.
 */
export function instantiateTemplate(definition: TemplateDefinition, given: unknown): { body: Record<string, unknown>; params: Record<string, Scalar> } {
  const params = resolveParams(definition, given);
  const body: Record<string, unknown> = {
    goal: substitute(definition.goal, params),
    mode: definition.mode,
    tasks: definition.tasks.map((task) => ({ action: task.action, params: substitute(task.params, params) })),
    ...(definition.environment !== undefined ? { environment: definition.environment } : {}),
    ...(definition.autonomy !== undefined ? { autonomy: definition.autonomy } : {}),
    ...(definition.reasonForAccess !== undefined ? { reasonForAccess: substitute(definition.reasonForAccess, params) } : {}),
  };
  return { body, params };
}
