import { stateError } from './sfn-errors.ts';

/**
 * Reads an ASL Reference Path (`$`, `$.a.b`, `$['a']`, `$.list[0]`): the only path form the `*Path`
 * timing fields accept, so a tiny reader is enough and no JSONPath engine is needed.
 */
export function readReferencePath(path: string, input: unknown): unknown {
  if (!path.startsWith('$')) throw stateError('States.Runtime', `Invalid reference path '${path}'`);
  const step = /\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]/y;
  let value: unknown = input;
  let offset = 1;
  while (offset < path.length) {
    step.lastIndex = offset;
    const match = step.exec(path);
    if (!match) throw stateError('States.Runtime', `Invalid reference path '${path}'`);
    offset = step.lastIndex;
    const key = match[1] ?? match[3] ?? Number(match[2]);
    value = value !== null && typeof value === 'object' ? (value as Record<string | number, unknown>)[key] : undefined;
    if (value === undefined) throw stateError('States.Runtime', `Path '${path}' does not point to a value`);
  }
  return value;
}

/** A positive whole number of seconds read from a `*SecondsPath` field, as Step Functions requires. */
export function readSecondsPath(path: string, input: unknown): number {
  const value = readReferencePath(path, input);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw stateError('States.Runtime', `Path '${path}' must point to a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}
