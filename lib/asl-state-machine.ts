import { readFileSync } from 'node:fs';
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeGrant, acknowledgeNag } from './nag.ts';
import { projectPath, projectPathExists } from './project-paths.ts';

/** Properties of an {@link AslStateMachine}. */
export interface AslStateMachineProps {
  /** The ASL file, relative to the repository root (e.g. `statemachines/run.asl.json`). */
  readonly definitionFile: string;

  /**
   * The functions the definition invokes, keyed by the name of their `${Name}` placeholder: each
   * placeholder becomes the function's ARN. Every placeholder in the file needs an entry here and
   * every entry a placeholder in the file.
   */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;

  /**
   * How long the execution logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the execution log group when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const PLACEHOLDER_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The `${Name}` placeholders of an ASL definition, in order of first appearance. */
export function aslPlaceholders(definition: string): string[] {
  return [...new Set([...definition.matchAll(PLACEHOLDER)].map((match) => match[1]))];
}

/**
 * A Standard state machine whose definition is an ASL file, kept inline in the template, with its
 * `${Name}` placeholders mapped to function ARNs through `DefinitionSubstitutions`. It checks at synth
 * time that placeholders and functions match one to one, lets the state machine invoke each function,
 * logs every event (with execution data) to its own log group, and traces with X-Ray.
 */
export class AslStateMachine extends Construct {
  /** The state machine. */
  readonly stateMachine: sfn.StateMachine;
  /** The execution log group. */
  readonly logGroup: logs.LogGroup;
  /** The definition exactly as read from the file. */
  readonly definition: string;

  constructor(scope: Construct, id: string, props: AslStateMachineProps) {
    super(scope, id);

    if (!projectPathExists(props.definitionFile)) {
      throw new Error(`AslStateMachine ${this.node.path}: definitionFile ${JSON.stringify(props.definitionFile)} does not exist`);
    }
    this.definition = readFileSync(projectPath(props.definitionFile), 'utf8');
    try {
      JSON.parse(this.definition);
    } catch (error) {
      throw new Error(`AslStateMachine ${this.node.path}: ${JSON.stringify(props.definitionFile)} is not valid JSON`, { cause: error });
    }

    const placeholders = aslPlaceholders(this.definition);
    for (const name of placeholders) {
      if (!PLACEHOLDER_NAME.test(name)) {
        throw new Error(`AslStateMachine ${this.node.path}: ${props.definitionFile} has a malformed placeholder ${JSON.stringify(`\${${name}}`)}`);
      }
      if (!Object.hasOwn(props.functions, name)) {
        throw new Error(`AslStateMachine ${this.node.path}: ${props.definitionFile} uses \${${name}} but no function is given for it`);
      }
    }
    for (const name of Object.keys(props.functions)) {
      if (!placeholders.includes(name)) {
        throw new Error(`AslStateMachine ${this.node.path}: a function is given for ${JSON.stringify(name)} but ${props.definitionFile} has no \${${name}}`);
      }
    }

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(this.definition),
      definitionSubstitutions: Object.fromEntries(Object.entries(props.functions).map(([name, fn]) => [name, fn.functionArn])),
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });

    for (const fn of Object.values(props.functions)) {
      acknowledgeGrant(
        this.stateMachine,
        fn.grantInvoke(this.stateMachine),
        'grantInvoke of a step function to its state machine: "<function ARN>:*" covers the versions and aliases of that one function (the CDK grants both forms so a qualified ARN in the definition can be invoked).',
      );
    }
    acknowledgeNag(this.stateMachine.role, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Logging level ALL to CloudWatch Logs needs the logs:*LogDelivery, DescribeLogGroups/ResourcePolicies and PutResourcePolicy actions, and tracing needs xray:PutTraceSegments/PutTelemetryRecords/GetSampling*: none of these supports resource-level permissions.',
    });
  }
}
