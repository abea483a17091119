import { unquiesceTarget } from '../../core/dr/backup.ts';
import { drStepHandler } from './step.ts';

export const handler = drStepHandler('Unquiesce', async (deps, input) => {
  await unquiesceTarget(deps, input.jobId);
  return { lifted: true };
});
