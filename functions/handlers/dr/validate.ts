import { validateRestore } from '../../core/dr/restore.ts';
import { drStepHandler } from './step.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';

export const createHandler = drStepHandler('Validate', (deps, input) => validateRestore(deps, input.jobId));

export const handler = lambdaHandler(createHandler);
