import * as z from 'zod';
import { rollBackRun } from '../../core/runs/roll-back-run.ts';
import { stepHandler } from '../shared/step-handler.ts';
import { RunStepInput } from './step-inputs.ts';
import { lambdaHandler } from '../shared/lambda-deps.ts';
import { RUN_STEP_PARTS } from './step-parts.ts';
import { actionContext, executor } from '../shared/ports.ts';

const RollBackInput = RunStepInput.extend({ error: z.unknown() });

export const createHandler = stepHandler('RollBack', RollBackInput, (deps, input) => rollBackRun(deps, input));

export const handler = lambdaHandler(createHandler, 'functions/handlers/run/roll-back.ts', { ...RUN_STEP_PARTS, executor, actionContext });
