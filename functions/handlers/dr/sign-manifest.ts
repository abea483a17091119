import { signManifest } from '../../core/dr/backup.ts';
import { drStepHandler } from './step.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { ALL_PARTS } from '../shared/deps.ts';

export const createHandler = drStepHandler('SignManifest', (deps, input) => signManifest(deps, input.jobId));

export const handler = lambdaHandler(createHandler, 'functions/handlers/dr/sign-manifest.ts', ALL_PARTS);
