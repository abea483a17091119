/**
 * A plain object's own entry for a key that may come from a caller, or undefined: `record[key]` would
 * also find `constructor`, `toString` or `__proto__` on Object.prototype.
 */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
