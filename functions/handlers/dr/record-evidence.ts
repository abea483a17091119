import { recordEvidence } from '../../core/dr/restore.ts';
import { drStepHandler } from './step.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { ALL_PARTS } from '../shared/deps.ts';

export const createHandler = drStepHandler('RecordEvidence', (deps, input) => recordEvidence(deps, input.jobId));

export const handler = lambdaHandler(createHandler, 'functions/handlers/dr/record-evidence.ts', ALL_PARTS);
