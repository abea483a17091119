import { stageRestore } from '../../core/dr/restore.ts';
import { drStepHandler } from './step.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';

export const createHandler = drStepHandler('Stage', (deps, input) => stageRestore(deps, input.jobId));

export const handler = lambdaHandler(createHandler);
