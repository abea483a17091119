import { applyRestore } from '../../core/dr/restore.ts';
import { drStepHandler } from './step.ts';

export const handler = drStepHandler('Apply', (deps, input) => applyRestore(deps, input.jobId));
