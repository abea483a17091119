import { flipPointer } from '../../core/dr/restore.ts';
import { drStepHandler } from './step.ts';

export const handler = drStepHandler('FlipPointer', (deps, input) => flipPointer(deps, input.jobId));
