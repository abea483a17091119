import { readFileSync } from 'node:fs';
import aslValidator from 'asl-validator';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { AslStateMachine, aslPlaceholders } from '../../lib/asl-state-machine.ts';
import { RUN_STEPS } from '../../lib/run-workflow.ts';
import { allows, arnOf, logicalId, synthMaestro, testStack } from './template-support.ts';

const ASL_TEXT = readFileSync(new URL('../../statemachines/run.asl.json', import.meta.url), 'utf8');

/** The brief: which handler file stands behind which ASL placeholder. */
const EXPECTED_ENTRIES: Record<string, string> = {
  AdmitFunctionArn: 'functions/handlers/run/admit.ts',
  PlanFunctionArn: 'functions/handlers/run/plan.ts',
  RequestApprovalFunctionArn: 'functions/handlers/run/request-approval.ts',
  ApplyTaskFunctionArn: 'functions/handlers/run/apply-task.ts',
  // The same handler, as the function of its own that internet-reaching actions apply in.
  ApplyInternetTaskFunctionArn: 'functions/handlers/run/apply-task.ts',
  VerifyFunctionArn: 'functions/handlers/run/verify.ts',
  RollBackFunctionArn: 'functions/handlers/run/roll-back.ts',
  FinalizeFunctionArn: 'functions/handlers/run/finalize.ts',
};
/** The executors that may write the managed targets (apply, rollback); ExecuteRead only reads them, ExecuteInternet touches none. */
const WRITING_EXECUTORS = ['ExecuteWriteFunction'];
const READING_EXECUTORS = ['ExecuteReadFunction', 'ExecuteWriteFunction'];

/** Replaces every `${Name}` of an ASL text with `resolve(Name)` (JSON-escaped) and parses the result. */
function substitute(text: string, resolve: (name: string) => string): unknown {
  return JSON.parse(text.replace(/\$\{([^}]*)\}/g, (_, name: string) => JSON.stringify(resolve(name)).slice(1, -1)));
}

describe('RunWorkflow', () => {
  // GIVEN the Maestro stack (bundling skipped)
  const { stack, template } = synthMaestro();
  const workflow = stack.runWorkflow;
  const functions = Object.values(workflow.functions);
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const machine = Object.values(machines)[0];

  it('has one Standard state machine, logging ALL to its log group with execution data, traced', () => {
    // THEN
    expect(Object.keys(machines)).toHaveLength(1);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: arnOf(workflow.logGroup) } }],
      },
    });
  });

  it('keeps the definition inline and equal to statemachines/run.asl.json', () => {
    // THEN the definition string is the file's JSON, placeholders included
    expect(typeof machine.Properties.DefinitionString).toBe('string');
    expect(JSON.parse(machine.Properties.DefinitionString)).toStrictEqual(JSON.parse(ASL_TEXT));
  });

  it('maps every placeholder to the ARN of the function built from the right handler file', () => {
    // GIVEN the function behind each placeholder (two placeholders share the apply-task handler file)
    const byPlaceholder = new Map(
      Object.entries(RUN_STEPS).map(([name, step]) => [step.placeholder as string, workflow.functions[name as keyof typeof RUN_STEPS]]),
    );
    const substitutions: Record<string, unknown> = machine.Properties.DefinitionSubstitutions;

    // THEN placeholders and substitutions match one to one, each naming the right function's ARN
    expect(aslPlaceholders(ASL_TEXT).sort()).toStrictEqual(Object.keys(EXPECTED_ENTRIES).sort());
    expect(Object.keys(substitutions).sort()).toStrictEqual(Object.keys(EXPECTED_ENTRIES).sort());
    for (const [name, entry] of Object.entries(EXPECTED_ENTRIES)) {
      const fn = byPlaceholder.get(name);
      expect(fn?.entryPath, name).toBe(entry);
      expect(substitutions[name], name).toStrictEqual(arnOf(fn!));
    }

    // AND the definition with substitutions resolved is the file with each placeholder at the same position
    const resolved = substitute(machine.Properties.DefinitionString, (name) => JSON.stringify(substitutions[name]));
    const expected = substitute(ASL_TEXT, (name) => JSON.stringify(arnOf(byPlaceholder.get(name)!)));
    expect(resolved).toStrictEqual(expected);
  });

  it('statemachines/run.asl.json passes asl-validator', () => {
    // WHEN
    const result = aslValidator(JSON.parse(ASL_TEXT));

    // THEN
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('lets the state machine invoke every step function', () => {
    // GIVEN
    const machineRole = logicalId(workflow.stateMachine.role);

    // THEN
    for (const fn of functions) {
      expect(allows(template, machineRole, 'lambda:InvokeFunction', arnOf(fn)), fn.entryPath).toBe(true);
    }
  });

  it('runs every step on Node.js 24, arm64, traced, with the Maestro environment', () => {
    for (const fn of functions) {
      // THEN
      expect(template.toJSON().Resources[logicalId(fn)].Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        Environment: {
          Variables: {
            MAESTRO_STATE_TABLE: { Ref: logicalId(stack.stateTable.table) },
            MAESTRO_ARTIFACT_BUCKET: { Ref: logicalId(stack.artifactVault.bucket) },
            POWERTOOLS_SERVICE_NAME: 'maestro',
            MAESTRO_AUTH_MODE: 'iam',
          },
        },
      });
    }
  });

  it('gives every step its own log group with a one-month retention', () => {
    for (const fn of functions) {
      // GIVEN
      const logGroup: { Ref: string } = template.toJSON().Resources[logicalId(fn)].Properties.LoggingConfig.LogGroup;

      // THEN
      expect(template.toJSON().Resources[logGroup.Ref]).toMatchObject({
        Type: 'AWS::Logs::LogGroup',
        Properties: { RetentionInDays: 30 },
      });
    }
  });

  it('gives every step read/write on the state table and none the managed targets; only the executors act on them, without the state table', () => {
    // GIVEN
    const stateTableArn = arnOf(stack.stateTable.table);
    const demoObjects = { 'Fn::Join': ['', [arnOf(stack.managedTargets.bucket), '/*']] };

    for (const fn of functions) {
      const role = logicalId(fn.role!);
      // THEN
      expect(allows(template, role, 'dynamodb:PutItem', stateTableArn), fn.entryPath).toBe(true);
      expect(allows(template, role, 's3:GetObjectVersion', demoObjects), fn.entryPath).toBe(false);
      expect(allows(template, role, 's3:PutObject', demoObjects), fn.entryPath).toBe(false);
      expect(allows(template, role, 'dynamodb:UpdateItem', arnOf(stack.managedTargets.table)), fn.entryPath).toBe(false);
    }
    for (const fn of Object.values(workflow.executors)) {
      const role = logicalId(fn.role!);
      const writes = WRITING_EXECUTORS.includes(fn.node.id);
      const reads = READING_EXECUTORS.includes(fn.node.id);
      // THEN
      expect(fn.entryPath).toBe('functions/handlers/run/execute-task.ts');
      expect(allows(template, role, 'dynamodb:GetItem', stateTableArn), fn.node.id).toBe(false);
      expect(allows(template, role, 'dynamodb:PutItem', stateTableArn), fn.node.id).toBe(false);
      expect(allows(template, role, 's3:GetObjectVersion', demoObjects), fn.node.id).toBe(reads);
      expect(allows(template, role, 's3:PutObject', demoObjects), fn.node.id).toBe(writes);
      expect(allows(template, role, 'dynamodb:GetItem', arnOf(stack.managedTargets.table)), fn.node.id).toBe(reads);
      expect(allows(template, role, 'dynamodb:UpdateItem', arnOf(stack.managedTargets.table)), fn.node.id).toBe(writes);
    }
  });

  it('tells the steps that run actions which executor function serves each class', () => {
    for (const [name, step] of Object.entries(RUN_STEPS)) {
      const variables = template.toJSON().Resources[logicalId(workflow.functions[name as keyof typeof RUN_STEPS])].Properties.Environment.Variables;
      if (step.executors.length === 0) {
        expect(variables.MAESTRO_TASK_EXECUTORS, name).toBeUndefined();
        continue;
      }
      const names = JSON.stringify(variables.MAESTRO_TASK_EXECUTORS);
      for (const executor of Object.values(workflow.executors)) expect(names, name).toContain(logicalId(executor));
    }
  });

  it('lets request-approval, and only it, answer task tokens of the run state machine', () => {
    for (const fn of functions) {
      const role = logicalId(fn.role!);
      const answers = fn === workflow.functions.RequestApproval;

      // THEN
      for (const action of ['states:SendTaskSuccess', 'states:SendTaskFailure']) {
        expect(allows(template, role, action, { Ref: logicalId(workflow.stateMachine) }), `${fn.entryPath} ${action}`).toBe(answers);
      }
    }
  });
});

describe('AslStateMachine', () => {
  function stubFunctions(names: string[]) {
    const stack = testStack();
    const functions = Object.fromEntries(
      names.map((name) => [
        name,
        new lambda.Function(stack, name, {
          runtime: lambda.Runtime.NODEJS_24_X,
          handler: 'index.handler',
          code: lambda.Code.fromInline('export const handler = async () => ({});'),
        }),
      ]),
    );
    return { stack, functions };
  }

  it('refuses a definition placeholder that has no function, naming it', () => {
    // GIVEN functions for every placeholder but FinalizeFunctionArn
    const { stack, functions } = stubFunctions(Object.keys(EXPECTED_ENTRIES).filter((name) => name !== 'FinalizeFunctionArn'));

    // WHEN / THEN
    expect(() => new AslStateMachine(stack, 'Run', { definitionFile: 'statemachines/run.asl.json', functions })).toThrow(
      /uses \$\{FinalizeFunctionArn\} but no function is given/,
    );
  });

  it('refuses a function that no placeholder uses, naming it', () => {
    // GIVEN one function too many
    const { stack, functions } = stubFunctions([...Object.keys(EXPECTED_ENTRIES), 'NotifyFunctionArn']);

    // WHEN / THEN
    expect(() => new AslStateMachine(stack, 'Run', { definitionFile: 'statemachines/run.asl.json', functions })).toThrow(
      /a function is given for "NotifyFunctionArn" but statemachines\/run\.asl\.json has no \$\{NotifyFunctionArn\}/,
    );
  });
});
