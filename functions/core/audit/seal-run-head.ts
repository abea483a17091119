import { TransientError, describeError } from '../errors.ts';
import { GENESIS_HASH } from '../runs/journal.ts';
import { isFinished } from '../runs/model.ts';
import type { Run, RunEvent } from '../runs/model.ts';
import type { RunRepository } from '../runs/ports.ts';
import type { AuditSealing } from './ports.ts';
import { allRunEvents } from './read-run-events.ts';
import { HEAD_SIGNING_ALGORITHM, headMessage } from './signed-head.ts';
import type { AuditHead, SignedAuditHead } from './signed-head.ts';
import { verifyEvents } from './verify-run-audit.ts';

export type SealOutcome = 'signed' | 'already-signed' | 'not-finished' | 'not-configured' | 'refused' | 'failed';

type SealDeps = { runs: Pick<RunRepository, 'get' | 'commit' | 'listEvents'>; sealing?: AuditSealing; clock(): Date };

/**
 * Signs the head of a finished run's chain with the KMS key and writes it to the artifact vault, so
 * that a rewrite of the whole table no longer matches. Idempotent: a head already signed at the
 * run's current length is left alone (a replayed Finalize signs nothing twice).
 *
 * Signing never changes how the run ended. A failure is recorded as an `AuditHeadSigningFailed`
 * event; a transient one is then rethrown as TransientError so the workflow retries Finalize
 * (which finds the run finished and comes straight back here); any other is left for an operator.
 */
export async function sealRunHead(deps: SealDeps, runId: string, options: { head?: Run } = {}): Promise<SealOutcome> {
  if (!deps.sealing) return 'not-configured';
  // The head the caller just committed or read (Finalize) saves reading it again; a later event is the next head's.
  const run = options.head?.id === runId ? options.head : await deps.runs.get(runId);
  if (!run || !isFinished(run)) return 'not-finished';
  return seal(deps, deps.sealing, run, { rethrowTransient: true });
}

/**
 * A signed checkpoint of a run in flight (or the final head of a finished one): called after each
 * status change of the run and each approval decision, so that an unfinished trail is anchored too.
 * Never throws: a failure is recorded like {@link sealRunHead}'s and the next checkpoint covers it.
 */
export async function checkpointRunHead(deps: SealDeps, runId: string, options: { unlessStatus?: string; head?: Run } = {}): Promise<SealOutcome> {
  if (!deps.sealing) return 'not-configured';
  try {
    // The head the step's commit returned saves reading it again (as sealRunHead's); a later event is the next checkpoint's.
    const run = options.head?.id === runId ? options.head : await deps.runs.get(runId);
    if (!run) return 'failed';
    // The caller saw this status before its change: no status change, no checkpoint.
    if (options.unlessStatus !== undefined && run.status === options.unlessStatus) return 'already-signed';
    return await seal(deps, deps.sealing, run, { rethrowTransient: false });
  } catch (error) {
    console.warn(`audit checkpoint of run ${runId} failed: ${describeError(error).message}`);
    return 'failed';
  }
}

async function seal(deps: SealDeps, sealing: AuditSealing, run: Run, options: { rethrowTransient: boolean }): Promise<SealOutcome> {
  const final = isFinished(run);
  const head: AuditHead = { runId: run.id, eventCount: run.eventSeq, headHash: run.lastEventHash, status: run.status };
  const same = (signed?: SignedAuditHead) => signed?.eventCount === head.eventCount && signed.headHash === head.headHash && signed.status === head.status;
  try {
    // The stored heads and the chain are read side by side (neither read depends on the other).
    const [latest, events] = await Promise.all([sealing.heads.latest(run.id, { final }), allRunEvents(deps.runs, run.id)]);
    if (final ? same(latest.final) : same(latest.checkpoint)) return 'already-signed';
    // Never sign over a chain whose links do not hold, or that no longer matches what was signed
    // before: that would anchor a forgery (a rewritten approval while the run was parked).
    const problem = await chainProblem(sealing, run, events, [latest.checkpoint, latest.final]);
    if (problem) {
      console.warn(`audit head of run ${run.id} not signed: ${problem}`);
      return 'refused';
    }
    const { signature, keyId } = await sealing.signer.sign(headMessage(head));
    await sealing.heads.put({ ...head, algorithm: HEAD_SIGNING_ALGORITHM, keyId, signature, signedAt: deps.clock().toISOString() }, { final });
    return 'signed';
  } catch (error) {
    const described = describeError(error);
    const transient = error instanceof TransientError && options.rethrowTransient;
    await deps.runs.commit(run.id, {
      events: [
        {
          type: 'AuditHeadSigningFailed',
          level: 'WARN',
          message: `signing the audit head failed${transient ? ' (will retry)' : ''}: ${described.message}`,
          payload: { error: described, eventCount: head.eventCount, headHash: head.headHash },
        },
      ],
    });
    if (transient) throw error;
    return 'failed';
  }
}

/** Why the stored chain up to the run's head cannot be signed, or undefined when it can. */
async function chainProblem(
  sealing: AuditSealing,
  run: Run,
  stored: readonly RunEvent[],
  earlier: readonly (SignedAuditHead | undefined)[],
): Promise<string | undefined> {
  // Only up to the head just read: events committed since then are the next checkpoint's to check.
  const events = stored.slice(0, run.eventSeq);
  const chain = verifyEvents(events, run);
  if (!chain.ok) return `the chain does not hold at seq ${chain.firstBrokenSeq}`;
  for (const signed of earlier) {
    if (!signed) continue;
    const atSeq = signed.eventCount === 0 ? GENESIS_HASH : events[signed.eventCount - 1]?.hash;
    if (atSeq !== signed.headHash) return `the chain no longer matches the head signed at seq ${signed.eventCount}`;
    if (!(await sealing.signer.verify(headMessage(signed), signed.signature))) return `the head stored for seq ${signed.eventCount} has an invalid signature`;
  }
  return undefined;
}
