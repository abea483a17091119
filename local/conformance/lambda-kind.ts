import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { CloudWatchAlarmReader } from '../../functions/adapters/cloudwatch-alarm-reader.ts';
import { LambdaAliasStore } from '../../functions/adapters/lambda-alias-store.ts';
import type { ParsedResource } from '../../functions/core/actions/resources.ts';
import { demoZip } from '../targets/demo-targets.ts';
import { recordCommands } from './recording.ts';
import type { CommandSink, OpenedKind, RunningServices } from './types.ts';

/** The versions every prepared function has: the alias starts on the first; the last is where the kit moves it out of band. */
const VERSIONS = ['1', '2', '3'] as const;

const missing = (error: Error) => {
  if (error.name !== 'ResourceNotFoundException') throw error;
  return undefined;
};

const optionsOf = (services: RunningServices, endpoint: string) => ({ endpoint, region: services.region, credentials: { ...services.credentials } });

/**
 * Lambda aliases, on the Lambda stand-in: the context's `aliases` port over a recorded client;
 * prepared as a function with versions 1, 2 and 3 and the alias on version 1 alone; snapshotted as
 * its routing (state) and its revision too (history: any update changes it); perturbed by moving the
 * alias to another version out of band.
 */
export function openLambda(services: RunningServices, record: CommandSink): OpenedKind {
  const options = optionsOf(services, services.endpoints.lambda!);
  const recorded = recordCommands(new LambdaClient(options), 'lambda', record);
  const lambda = new LambdaClient(options);
  const aliases = new LambdaAliasStore(recorded);
  const routingOf = async (resource: ParsedResource) => {
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: resource.function!, Name: resource.alias! })).catch(missing);
    if (!alias) return { routing: null, revisionId: null };
    return { routing: { version: alias.FunctionVersion, weights: alias.RoutingConfig?.AdditionalVersionWeights ?? {} }, revisionId: alias.RevisionId };
  };
  return {
    context: () => ({ aliases }),
    async prepare(resource) {
      const name = resource.function!;
      const exists = await lambda.send(new GetFunctionCommand({ FunctionName: name })).catch(missing);
      if (!exists) {
        await lambda.send(
          new CreateFunctionCommand({
            FunctionName: name,
            Runtime: 'nodejs22.x',
            Handler: 'index.handler',
            Role: `arn:aws:iam::000000000000:role/${name}`,
            Code: { ZipFile: demoZip(`${name} v1`) },
            Publish: true,
          }),
        );
      }
      const published = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }));
      const have = new Set((published.Versions ?? []).map((version) => version.Version));
      for (const version of VERSIONS) {
        if (have.has(version)) continue;
        await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: demoZip(`${name} v${version}`) }));
        await lambda.send(new PublishVersionCommand({ FunctionName: name }));
      }
      const alias = await lambda.send(new GetAliasCommand({ FunctionName: name, Name: resource.alias! })).catch(missing);
      if (!alias) await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: resource.alias!, FunctionVersion: VERSIONS[0] }));
      else
        await lambda.send(
          new UpdateAliasCommand({ FunctionName: name, Name: resource.alias!, FunctionVersion: VERSIONS[0], RoutingConfig: { AdditionalVersionWeights: {} } }),
        );
    },
    async snapshot(resource) {
      const { routing, revisionId } = await routingOf(resource);
      return { state: routing, history: { routing, revisionId } };
    },
    async perturb(resource) {
      await lambda.send(
        new UpdateAliasCommand({
          FunctionName: resource.function!,
          Name: resource.alias!,
          FunctionVersion: VERSIONS.at(-1),
          RoutingConfig: { AdditionalVersionWeights: {} },
        }),
      );
      return true;
    },
    destroy() {
      recorded.destroy();
      lambda.destroy();
    },
  };
}

/**
 * CloudWatch alarms, on the CloudWatch stand-in: the context's `alarms` port over a recorded client;
 * prepared as a metric alarm in OK. An action only reads the alarms it watches, so the kit never
 * changes one out of band (an alarm in ALARM is the deploy's own failure path, not a stale plan).
 */
export function openAlarms(services: RunningServices, record: CommandSink): OpenedKind {
  const options = optionsOf(services, services.endpoints.cloudwatch!);
  const recorded = recordCommands(new CloudWatchClient(options), 'cloudwatch', record);
  const cloudwatch = new CloudWatchClient(options);
  const alarms = new CloudWatchAlarmReader(recorded);
  return {
    context: () => ({ alarms }),
    async prepare(resource) {
      const name = resource.alarm!;
      await cloudwatch.send(
        new PutMetricAlarmCommand({
          AlarmName: name,
          MetricName: 'Errors',
          Namespace: 'AWS/Lambda',
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        }),
      );
      await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'OK', StateReason: 'prepared by the conformance kit' }));
    },
    async snapshot(resource) {
      const { MetricAlarms } = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [resource.alarm!] }));
      const state = MetricAlarms?.[0]?.StateValue ?? null;
      return { state, history: state };
    },
    perturb: async () => false,
    destroy() {
      recorded.destroy();
      cloudwatch.destroy();
    },
  };
}
