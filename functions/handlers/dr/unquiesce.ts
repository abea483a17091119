import { unquiesceTarget } from '../../core/dr/backup.ts';
import { drStepHandler } from './step.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { ALL_PARTS } from '../shared/deps.ts';

export const createHandler = drStepHandler('Unquiesce', async (deps, input) => {
  await unquiesceTarget(deps, input.jobId);
  return { lifted: true };
});

export const handler = lambdaHandler(createHandler, 'functions/handlers/dr/unquiesce.ts', ALL_PARTS);
