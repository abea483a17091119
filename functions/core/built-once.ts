/**
 * A value built at its first use and kept for the process: what a module would otherwise build when
 * it is imported (a Lambda's cold start pays for every module-level table, used or not).
 * Annotate each call `@__PURE__`, so that a bundle that never uses the value drops `build` too.
 */
export function builtOnce<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}
