import { recordEvidence } from '../../core/dr/restore.ts';
import { drStepHandler } from './step.ts';

export const handler = drStepHandler('RecordEvidence', (deps, input) => recordEvidence(deps, input.jobId));
