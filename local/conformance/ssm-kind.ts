import { DeleteParameterCommand, GetParameterCommand, GetParameterHistoryCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { ParameterType } from '@aws-sdk/client-ssm';
import { SsmParameterStore } from '../../functions/adapters/ssm-parameter-store.ts';
import type { ActionContext } from '../../functions/core/actions/contract.ts';
import type { ParsedResource } from '../../functions/core/actions/resources.ts';
import { recordCommands } from './recording.ts';
import type { CommandSink, OpenedKind, RunningServices } from './types.ts';

/** `ssm:///app/flag` names the parameter `/app/flag`. */
export const parameterOf = (resource: ParsedResource) => resource.id;

const notFound = (error: Error) => {
  if (error.name !== 'ParameterNotFound') throw error;
  return undefined;
};

/**
 * SSM parameters, on the SSM stand-in: the context's `parameters` port (core/actions/target-ports.ts)
 * over a recorded client; prepared by deleting the parameter with its history, snapshotted as its
 * current value and type (state) and its version list (history), perturbed by a new version.
 */
export function openSsm(services: RunningServices, record: CommandSink): OpenedKind {
  const options = { endpoint: services.endpoints.ssm!, region: services.region, credentials: { ...services.credentials } };
  const recorded = recordCommands(new SSMClient(options), 'ssm', record);
  const ssm = new SSMClient(options);
  const parameters = new SsmParameterStore(recorded);
  return {
    // The port's field on ActionContext comes with the deploy actions; until then it is an extra field no action reads.
    context: () => ({ parameters }) as Partial<ActionContext>,
    async prepare(resource) {
      await ssm.send(new DeleteParameterCommand({ Name: parameterOf(resource) })).catch(notFound);
    },
    async snapshot(resource) {
      const name = parameterOf(resource);
      const current = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true })).catch(notFound);
      const history = await ssm.send(new GetParameterHistoryCommand({ Name: name, WithDecryption: true })).catch(notFound);
      return {
        state: current?.Parameter ? { value: current.Parameter.Value, type: current.Parameter.Type } : null,
        history: (history?.Parameters ?? []).map((version) => ({ version: version.Version, value: version.Value, type: version.Type })),
      };
    },
    async perturb(resource, nonce) {
      const name = parameterOf(resource);
      const current = await ssm.send(new GetParameterCommand({ Name: name })).catch(notFound);
      const type: ParameterType = current?.Parameter?.Type === 'StringList' ? 'StringList' : 'String';
      await ssm.send(new PutParameterCommand({ Name: name, Value: `changed out of band by the conformance kit (${nonce})`, Type: type, Overwrite: true }));
      return true;
    },
    destroy() {
      recorded.destroy();
      ssm.destroy();
    },
  };
}
