import { recordEvidence } from '../../core/dr/restore.ts';
import { drStepHandler } from './step.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';

export const createHandler = drStepHandler('RecordEvidence', (deps, input) => recordEvidence(deps, input.jobId));

export const handler = lambdaHandler(createHandler);
