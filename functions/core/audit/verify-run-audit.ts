import { RunNotFound } from '../errors.ts';
import { GENESIS_HASH, verifyChain } from '../runs/journal.ts';
import type { RunEvent } from '../runs/model.ts';
import type { RunRepository } from '../runs/ports.ts';
import type { AuditSealing } from './ports.ts';
import { allRunEvents } from './read-run-events.ts';
import { headMessage } from './signed-head.ts';
import type { SignedAuditHead } from './signed-head.ts';

export interface AuditVerification {
  ok: boolean;
  /** The first sequence number whose link does not hold (absent when `ok`). */
  firstBrokenSeq?: number;
  eventCount: number;
  headHash: string;
  /**
   * Whether the head signed when the run finished still matches the stored chain: `null` when there is
   * no signed head (the run has not finished, or no artifact vault is configured; see `note`).
   */
  signedHeadMatches: boolean | null;
  signedHead?: { eventCount: number; headHash: string; status: string; keyId: string; signedAt: string; signatureValid: boolean };
  note?: string;
}

/**
 * Recomputes a run's chain from the stored events and checks it three ways: every link (`prevHash`,
 * `hash` over canonical JSON, consecutive `seq`), the run record's head (`eventSeq`, `lastEventHash`),
 * and the KMS-signed head written to the artifact vault when the run finished — which catches even a
 * consistent rewrite of the whole table.
 */
export async function verifyRunAudit(
  deps: { runs: Pick<RunRepository, 'get' | 'listEvents'>; sealing?: AuditSealing },
  runId: string,
): Promise<AuditVerification> {
  const run = await deps.runs.get(runId);
  if (!run) throw new RunNotFound(`run ${runId} does not exist`, { field: 'id' });
  const events = await allRunEvents(deps.runs, runId);
  const result = verifyEvents(events, { eventSeq: run.eventSeq, lastEventHash: run.lastEventHash });

  if (!deps.sealing) return { ...result, signedHeadMatches: null, note: 'no artifact vault configured: the signed head is not checked' };
  const signed = await deps.sealing.heads.get(runId);
  if (!signed) {
    return { ...result, signedHeadMatches: null, note: run.finishedAt ? 'the run finished but has no signed head (yet)' : 'the run has not finished: its head is signed when it does' };
  }
  const check = await checkSignedHead(deps.sealing, signed, events);
  const firstBrokenSeq = result.firstBrokenSeq ?? (check.matches ? undefined : Math.min(signed.eventCount, events.length + 1));
  return {
    ok: result.ok && check.matches,
    ...(firstBrokenSeq === undefined ? {} : { firstBrokenSeq }),
    eventCount: result.eventCount,
    headHash: result.headHash,
    signedHeadMatches: check.matches,
    signedHead: {
      eventCount: signed.eventCount,
      headHash: signed.headHash,
      status: signed.status,
      keyId: signed.keyId,
      signedAt: signed.signedAt,
      signatureValid: check.signatureValid,
    },
  };
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
