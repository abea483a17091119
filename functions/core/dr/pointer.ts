import type { DrTarget } from './targets.ts';
import { own } from '../own.ts';

/** Where one copy of a target's data lives: physical table names and key prefixes per logical source. */
export interface DataCopy {
  /** `origin` for the copy the target declares; `r…` for a restored copy. */
  copyId: string;
  /** logical table name → physical table name */
  tables: Record<string, string>;
  /** per logical prefix, where its objects live in this copy */
  prefixes: { bucket: string; prefix: string; physicalPrefix: string }[];
  /** The restore job that wrote the copy. */
  jobId?: string;
}

/** The traffic pointer: which copy of a target is live. One record per target; readers resolve it. */
export interface TrafficPointer {
  target: string;
  live: DataCopy;
  /** The copy that was live before the last flip: what a rollback flips back to. */
  previous?: DataCopy;
  /** Increases with every flip; a flip is conditioned on the version it read. */
  version: number;
  flippedAt?: string;
  flippedBy?: string;
  jobId?: string;
}

/** Restored copies of a bucket prefix live under this prefix of the same bucket; snapshots skip it. */
export const RESTORED_COPIES_PREFIX = '.maestro-dr/';

export function originCopy(target: DrTarget): DataCopy {
  return {
    copyId: 'origin',
    tables: Object.fromEntries(target.tables.map((table) => [table, table])),
    prefixes: target.prefixes.map((p) => ({ bucket: p.bucket, prefix: p.prefix, physicalPrefix: p.prefix })),
  };
}

/** The live copy: the pointer's, or the target's own data while nothing was ever flipped. */
export function liveCopy(target: DrTarget, pointer: TrafficPointer | undefined): DataCopy {
  return pointer?.live ?? originCopy(target);
}

/** The physical table that readers of a logical table use now. */
export function resolveTable(target: DrTarget, pointer: TrafficPointer | undefined, logicalTable: string): string {
  return own(liveCopy(target, pointer).tables, logicalTable) ?? logicalTable;
}

/** The bucket and key that readers of a logical object use now. */
export function resolveObjectKey(target: DrTarget, pointer: TrafficPointer | undefined, bucket: string, key: string): { bucket: string; key: string } {
  const copy = liveCopy(target, pointer);
  const match = copy.prefixes.filter((p) => p.bucket === bucket && key.startsWith(p.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
  return match ? { bucket, key: match.physicalPrefix + key.slice(match.prefix.length) } : { bucket, key };
}

/** A new copy for a restore job: new table names and a prefix of its own, never the live ones. */
export function restoredCopy(target: DrTarget, jobId: string): DataCopy {
  const copyId = `r${jobId.replace(/-/g, '').slice(0, 12)}`;
  return {
    copyId,
    jobId,
    tables: Object.fromEntries(target.tables.map((table) => [table, `${table.slice(0, 240)}-${copyId}`])),
    prefixes: target.prefixes.map((p) => ({ bucket: p.bucket, prefix: p.prefix, physicalPrefix: `${RESTORED_COPIES_PREFIX}${copyId}/${p.prefix}` })),
  };
}

/** The pointer after flipping to `copy`. */
export function flipTo(
  target: DrTarget,
  current: TrafficPointer | undefined,
  copy: DataCopy,
  by: { jobId: string; principal: string; at: Date },
): TrafficPointer {
  return {
    target: target.name,
    live: copy,
    previous: liveCopy(target, current),
    version: (current?.version ?? 0) + 1,
    flippedAt: by.at.toISOString(),
    flippedBy: by.principal,
    jobId: by.jobId,
  };
}

/** Whether two copies hold any physical resource in common (a copy that must never be deleted). */
export function sharesResources(a: DataCopy, b: DataCopy): boolean {
  const tables = new Set(Object.values(a.tables));
  if (Object.values(b.tables).some((t) => tables.has(t))) return true;
  return a.prefixes.some((p) =>
    b.prefixes.some((q) => p.bucket === q.bucket && (contains(p.physicalPrefix, q.physicalPrefix) || contains(q.physicalPrefix, p.physicalPrefix))),
  );
}

/** Whether keys under `inner` belong to the copy at `outer`; a copy outside `.maestro-dr/` never holds restored copies. */
function contains(outer: string, inner: string): boolean {
  return inner.startsWith(outer) && !(inner.startsWith(RESTORED_COPIES_PREFIX) && !outer.startsWith(RESTORED_COPIES_PREFIX));
}
