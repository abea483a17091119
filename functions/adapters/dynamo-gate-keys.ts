/**
 * The keys of what the apply gate checks besides the run: the control record (dynamo-control-store.ts)
 * and the DR quiesce flags, one per target with `sk` = the target's name (dynamo-dr-repository.ts).
 */
export const CONTROL_KEY = { pk: 'CONTROL', sk: 'CONTROL' } as const;
export const quiesceKey = (target: string) => ({ pk: 'DR#QUIESCE', sk: target });
