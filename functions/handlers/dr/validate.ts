import { validateRestore } from '../../core/dr/restore.ts';
import { drStepHandler } from './step.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { ALL_PARTS } from '../shared/deps.ts';

export const createHandler = drStepHandler('Validate', (deps, input) => validateRestore(deps, input.jobId));

export const handler = lambdaHandler(createHandler, 'functions/handlers/dr/validate.ts', ALL_PARTS);
