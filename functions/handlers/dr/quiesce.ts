import { quiesceTarget } from '../../core/dr/backup.ts';
import { drStepHandler } from './step.ts';

export const handler = drStepHandler('Quiesce', (deps, input) => quiesceTarget(deps, input.jobId));
