import { snapshotTarget } from '../../core/dr/backup.ts';
import { drStepHandler } from './step.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { ALL_PARTS } from '../shared/deps.ts';

export const createHandler = drStepHandler('Snapshot', (deps, input) => snapshotTarget(deps, input.jobId));

export const handler = lambdaHandler(createHandler, 'functions/handlers/dr/snapshot.ts', ALL_PARTS);
