import { flipPointer } from '../../core/dr/restore.ts';
import { drStepHandler } from './step.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { ALL_PARTS } from '../shared/deps.ts';

export const createHandler = drStepHandler('FlipPointer', (deps, input) => flipPointer(deps, input.jobId));

export const handler = lambdaHandler(createHandler, 'functions/handlers/dr/flip-pointer.ts', ALL_PARTS);
