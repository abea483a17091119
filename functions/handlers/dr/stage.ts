import { stageRestore } from '../../core/dr/restore.ts';
import { drStepHandler } from './step.ts';

export const handler = drStepHandler('Stage', (deps, input) => stageRestore(deps, input.jobId));
