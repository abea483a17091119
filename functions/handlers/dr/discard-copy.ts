import { discardCopy } from '../../core/dr/restore.ts';
import { drStepHandler } from './step.ts';

export const handler = drStepHandler('DiscardCopy', (deps, input) => discardCopy(deps, input.jobId));
