import { snapshotTarget } from '../../core/dr/backup.ts';
import { drStepHandler } from './step.ts';

export const handler = drStepHandler('Snapshot', (deps, input) => snapshotTarget(deps, input.jobId));
