import { validateRestore } from '../../core/dr/restore.ts';
import { drStepHandler } from './step.ts';

export const handler = drStepHandler('Validate', (deps, input) => validateRestore(deps, input.jobId));
