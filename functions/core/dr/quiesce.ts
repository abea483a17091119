import { TargetQuiesced } from '../errors.ts';
import type { QuiesceFlag } from './ports.ts';

/** A resource a writer is about to change. */
export type WriteResource = { kind: 'table'; table: string } | { kind: 'object'; bucket: string; key: string };

/** The unexpired flag that holds this resource, if any. */
export function quiesceFlagFor(flags: readonly QuiesceFlag[], resource: WriteResource, now: Date): QuiesceFlag | undefined {
  return flags.find((flag) => {
    if (Date.parse(flag.until) <= now.getTime()) return false;
    if (resource.kind === 'table') return flag.tables.includes(resource.table);
    return flag.prefixes.some((p) => p.bucket === resource.bucket && resource.key.startsWith(p.prefix));
  });
}

/** Refuses with TargetQuiesced while a DR backup holds the resource. */
export function assertNotQuiesced(flags: readonly QuiesceFlag[], resource: WriteResource, now: Date): void {
  const flag = quiesceFlagFor(flags, resource, now);
  if (!flag) return;
  const what = resource.kind === 'table' ? `table ${resource.table}` : `s3://${resource.bucket}/${resource.key}`;
  throw new TargetQuiesced(`${what} is quiesced by DR job ${flag.jobId} on target ${flag.target} until ${flag.until} at the latest; retry after the backup`, {
    details: { target: flag.target, jobId: flag.jobId, until: flag.until },
  });
}
