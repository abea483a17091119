import { TransientError, describeError } from '../errors.ts';
import { isFinished } from '../runs/model.ts';
import type { RunRepository } from '../runs/ports.ts';
import type { AuditSealing } from './ports.ts';
import { HEAD_SIGNING_ALGORITHM, headMessage } from './signed-head.ts';
import type { AuditHead } from './signed-head.ts';

export type SealOutcome = 'signed' | 'already-signed' | 'not-finished' | 'not-configured' | 'failed';

/**
 * Signs the head of a finished run's chain with the KMS key and writes it to the artifact vault, so
 * that a rewrite of the whole table no longer matches. Idempotent: a head already signed at the
 * run's current length is left alone (a replayed Finalize signs nothing twice).
 *
 * Signing never changes how the run ended. A failure is recorded as an `AuditHeadSigningFailed`
 * event; a transient one is then rethrown as TransientError so the workflow retries Finalize
 * (which finds the run finished and comes straight back here); any other is left for an operator.
 */
export async function sealRunHead(
  deps: { runs: Pick<RunRepository, 'get' | 'commit'>; sealing?: AuditSealing; clock(): Date },
  runId: string,
): Promise<SealOutcome> {
  if (!deps.sealing) return 'not-configured';
  const run = await deps.runs.get(runId);
  if (!run || !isFinished(run)) return 'not-finished';
  const head: AuditHead = { runId, eventCount: run.eventSeq, headHash: run.lastEventHash, status: run.status };
  try {
    const existing = await deps.sealing.heads.get(runId);
    if (existing && existing.eventCount === head.eventCount && existing.headHash === head.headHash) return 'already-signed';
    const { signature, keyId } = await deps.sealing.signer.sign(headMessage(head));
    await deps.sealing.heads.put({ ...head, algorithm: HEAD_SIGNING_ALGORITHM, keyId, signature, signedAt: deps.clock().toISOString() });
    return 'signed';
  } catch (error) {
    const described = describeError(error);
    await deps.runs.commit(runId, {
      events: [
        {
          type: 'AuditHeadSigningFailed',
          level: 'WARN',
          message: `signing the audit head failed${error instanceof TransientError ? ' (will retry)' : ''}: ${described.message}`,
          payload: { error: described, eventCount: head.eventCount, headHash: head.headHash },
        },
      ],
    });
    if (error instanceof TransientError) throw error;
    return 'failed';
  }
}
