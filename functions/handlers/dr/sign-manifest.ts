import { signManifest } from '../../core/dr/backup.ts';
import { drStepHandler } from './step.ts';

export const handler = drStepHandler('SignManifest', (deps, input) => signManifest(deps, input.jobId));
