import { discardCopy } from '../../core/dr/restore.ts';
import { drStepHandler } from './step.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';

export const createHandler = drStepHandler('DiscardCopy', (deps, input) => discardCopy(deps, input.jobId));

export const handler = lambdaHandler(createHandler);
