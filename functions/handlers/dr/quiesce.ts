import { quiesceTarget } from '../../core/dr/backup.ts';
import { drStepHandler } from './step.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { ALL_PARTS } from '../shared/deps.ts';

export const createHandler = drStepHandler('Quiesce', (deps, input) => quiesceTarget(deps, input.jobId));

export const handler = lambdaHandler(createHandler, 'functions/handlers/dr/quiesce.ts', ALL_PARTS);
