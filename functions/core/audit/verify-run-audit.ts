import { RunNotFound } from '../errors.ts';
import { GENESIS_HASH, verifyChain } from '../runs/journal.ts';
import type { RunEvent } from '../runs/model.ts';
import type { RunRepository } from '../runs/ports.ts';
import type { AuditSealing } from './ports.ts';
import { allRunEvents } from './read-run-events.ts';
import { headMessage } from './signed-head.ts';
import type { SignedAuditHead } from './signed-head.ts';

/** One signed head and the seq range it anchors (from the previous head's length + 1 to its own). */
export interface AuditAnchor {
  kind: 'checkpoint' | 'final';
  fromSeq: number;
  toSeq: number;
  /** The run's status as signed at `toSeq`. */
  status: string;
  keyId: string;
  signedAt: string;
  signatureValid: boolean;
  /** The signature holds and the stored chain has the signed hash at `toSeq`. */
  matches: boolean;
}

export interface AuditVerification {
  ok: boolean;
  /** The first sequence number whose link does not hold (absent when `ok`). */
  firstBrokenSeq?: number;
  eventCount: number;
  headHash: string;
  /**
   * Whether the head signed when the run finished still matches the stored chain: `null` when there is
   * no final head (the run has not finished, or no artifact vault is configured; see `note`).
   */
  signedHeadMatches: boolean | null;
  signedHead?: { eventCount: number; headHash: string; status: string; keyId: string; signedAt: string; signatureValid: boolean };
  /** Every signed head in seq order, with the range of events each covers. */
  anchors: AuditAnchor[];
  /** Events no signed head covers (verify fails on them): past the last anchor. */
  unanchored?: { fromSeq: number; toSeq: number };
  /** Whether the run record's status is the one signed by the head covering the whole chain (`null`: no such head). */
  statusMatches: boolean | null;
  note?: string;
}

/**
 * Recomputes a run's chain from the stored events and checks it: every link (`prevHash`, `hash` over
 * canonical JSON, consecutive `seq`), the run record's head (`eventSeq`, `lastEventHash`), and every
 * KMS-signed head in the artifact vault — checkpoints signed at each status change while the run was
 * in flight, and the final head — which catches even a consistent rewrite of the whole table. Every
 * event must be covered by a signed head, and the run record's status must be the signed one.
 */
export async function verifyRunAudit(
  deps: { runs: Pick<RunRepository, 'get' | 'listEvents'>; sealing?: AuditSealing },
  runId: string,
): Promise<AuditVerification> {
  const run = await deps.runs.get(runId);
  if (!run) throw new RunNotFound(`run ${runId} does not exist`, { field: 'id' });
  const events = await allRunEvents(deps.runs, runId);
  const result = verifyEvents(events, { eventSeq: run.eventSeq, lastEventHash: run.lastEventHash });

  if (!deps.sealing) {
    return { ...result, signedHeadMatches: null, anchors: [], statusMatches: null, note: 'no artifact vault configured: no signed head is checked' };
  }
  const stored = await deps.sealing.heads.list(runId);
  const heads = distinct([
    ...stored.checkpoints.map((head) => ({ head, kind: 'checkpoint' as const })),
    ...(stored.final ? [{ head: stored.final, kind: 'final' as const }] : []),
  ]);
  const anchors: AuditAnchor[] = [];
  const checked = new Map<SignedAuditHead, { signatureValid: boolean; matches: boolean }>();
  for (const { head, kind } of heads) {
    const check = await checkSignedHead(deps.sealing, head, events);
    checked.set(head, check);
    const fromSeq = (anchors.at(-1)?.toSeq ?? 0) + 1;
    anchors.push({
      kind,
      fromSeq: Math.min(fromSeq, head.eventCount),
      toSeq: head.eventCount,
      status: head.status,
      keyId: head.keyId,
      signedAt: head.signedAt,
      ...check,
    });
  }

  const covered = anchors.at(-1)?.toSeq ?? 0;
  const unanchored = events.length > covered ? { fromSeq: covered + 1, toSeq: events.length } : undefined;
  const last = heads.at(-1)?.head;
  const statusMatches = last && last.eventCount === events.length ? last.status === run.status : null;
  const broken = anchors.find((anchor) => !anchor.matches);
  const firstBrokenSeq = result.firstBrokenSeq ?? (broken ? Math.min(broken.toSeq, events.length + 1) : undefined);
  const ok = result.ok && !broken && !unanchored && statusMatches !== false;
  const final = stored.final ? (checked.get(stored.final) ?? (await checkSignedHead(deps.sealing, stored.final, events))) : undefined;

  const notes = [
    unanchored
      ? `events ${unanchored.fromSeq}–${unanchored.toSeq} are not covered by any signed head${run.finishedAt || !anchors.length ? '' : ' (yet: the next checkpoint of the run signs them)'}`
      : undefined,
    statusMatches === false ? `the run record says ${run.status} but the head signed at seq ${last!.eventCount} says ${last!.status}` : undefined,
    broken
      ? `the ${broken.kind} head signed at seq ${broken.toSeq} ${broken.signatureValid ? 'does not match the stored chain' : 'has an invalid signature'}`
      : undefined,
    !stored.final
      ? run.finishedAt
        ? 'the run finished but has no final signed head (yet)'
        : 'the run has not finished: its final head is signed when it does'
      : undefined,
  ].filter((line) => line !== undefined);

  return {
    ok,
    ...(firstBrokenSeq === undefined ? {} : { firstBrokenSeq }),
    eventCount: result.eventCount,
    headHash: result.headHash,
    signedHeadMatches: final ? final.matches : null,
    ...(stored.final && final
      ? {
          signedHead: {
            eventCount: stored.final.eventCount,
            headHash: stored.final.headHash,
            status: stored.final.status,
            keyId: stored.final.keyId,
            signedAt: stored.final.signedAt,
            signatureValid: final.signatureValid,
          },
        }
      : {}),
    anchors,
    ...(unanchored ? { unanchored } : {}),
    statusMatches,
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}

/** The heads in seq order, one per signed (length, hash, status): the final head is also stored as a checkpoint. */
function distinct(heads: { head: SignedAuditHead; kind: 'checkpoint' | 'final' }[]) {
  const byKey = new Map<string, { head: SignedAuditHead; kind: 'checkpoint' | 'final' }>();
  for (const entry of heads) {
    const key = `${entry.head.eventCount}|${entry.head.headHash}|${entry.head.status}|${entry.head.signature}`;
    const known = byKey.get(key);
    if (!known || entry.kind === 'final') byKey.set(key, entry);
  }
  return [...byKey.values()].sort((a, b) => a.head.eventCount - b.head.eventCount || (a.kind === 'final' ? 1 : 0) - (b.kind === 'final' ? 1 : 0));
}

/** The chain's own links, then the run record's head against the last event. */
export function verifyEvents(
  events: readonly RunEvent[],
  head: { eventSeq: number; lastEventHash: string },
): { ok: boolean; firstBrokenSeq?: number; eventCount: number; headHash: string } {
  const eventCount = events.length;
  const headHash = events.at(-1)?.hash ?? GENESIS_HASH;
  const chain = verifyChain(events);
  if (!chain.ok) return { ok: false, firstBrokenSeq: chain.firstBrokenSeq, eventCount, headHash };
  // An event removed from the end, or a last event rewritten with its own hash recomputed.
  if (eventCount !== head.eventSeq) return { ok: false, firstBrokenSeq: Math.min(eventCount, head.eventSeq) + 1, eventCount, headHash };
  if (headHash !== head.lastEventHash) return { ok: false, firstBrokenSeq: eventCount, eventCount, headHash };
  return { ok: true, eventCount, headHash };
}

async function checkSignedHead(sealing: AuditSealing, signed: SignedAuditHead, events: readonly RunEvent[]) {
  const signatureValid = await sealing.signer.verify(headMessage(signed), signed.signature);
  const atSignedSeq = events[signed.eventCount - 1]?.hash ?? (signed.eventCount === 0 ? GENESIS_HASH : undefined);
  return { signatureValid, matches: signatureValid && atSignedSeq === signed.headHash };
}
