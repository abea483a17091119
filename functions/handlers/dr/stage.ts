import { stageRestore } from '../../core/dr/restore.ts';
import { drStepHandler } from './step.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { ALL_PARTS } from '../shared/deps.ts';

export const createHandler = drStepHandler('Stage', (deps, input) => stageRestore(deps, input.jobId));

export const handler = lambdaHandler(createHandler, 'functions/handlers/dr/stage.ts', ALL_PARTS);
