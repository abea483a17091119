import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { Parameter, SSMClient } from '@aws-sdk/client-ssm';
import type { ParameterStore, ParameterType, ParameterValue, PutParameterRequest } from '../core/actions/target-ports.ts';
import { ActionFailed, StalePlan } from '../core/errors.ts';
import { failTargetCall as fail, sdkErrorName as nameOf } from './target-sdk-errors.ts';

const NOT_FOUND = new Set(['ParameterNotFound', 'ParameterVersionNotFound']);

/** The ParameterStore port on SSM: SDK failures become domain errors here and nowhere else. */
export class SsmParameterStore implements ParameterStore {
  readonly #ssm: SSMClient;

  constructor(client: SSMClient) {
    this.#ssm = client;
  }

  get(name: string): Promise<ParameterValue | undefined> {
    return this.#read(name, name);
  }

  getVersion(name: string, version: number): Promise<ParameterValue | undefined> {
    return this.#read(`${name}:${version}`, name);
  }

  async put(request: PutParameterRequest): Promise<{ version: number }> {
    try {
      const written = await this.#ssm.send(
        new PutParameterCommand({
          Name: request.name,
          Value: request.value,
          Type: request.type,
          Overwrite: request.overwrite,
        }),
      );
      return { version: written.Version ?? 0 };
    } catch (error) {
      switch (nameOf(error)) {
        case 'ParameterAlreadyExists':
          throw new StalePlan(`SSM parameter ${request.name} exists by now; it was planned as a new parameter`, { cause: error });
        case 'ParameterPatternMismatchException':
          throw new ActionFailed(`SSM parameter ${request.name}: the value does not match its AllowedPattern`, { field: 'value', cause: error });
        case 'ParameterMaxVersionLimitExceeded':
          throw new ActionFailed(`SSM parameter ${request.name}: ${(error as Error).message}`, { cause: error });
        case 'ValidationException':
        case 'HierarchyLevelLimitExceededException':
          throw new ActionFailed(`SSM refused parameter ${request.name}: ${(error as Error).message}`, { field: 'name', cause: error });
        default:
          return fail(error, `writing SSM parameter ${request.name}`);
      }
    }
  }

  async delete(name: string): Promise<boolean> {
    try {
      await this.#ssm.send(new DeleteParameterCommand({ Name: name }));
      return true;
    } catch (error) {
      if (nameOf(error) === 'ParameterNotFound') return false;
      return fail(error, `deleting SSM parameter ${name}`);
    }
  }

  async #read(selector: string, name: string): Promise<ParameterValue | undefined> {
    try {
      // Decrypted: a rollback must be able to write a SecureString back as it was.
      const { Parameter } = await this.#ssm.send(new GetParameterCommand({ Name: selector, WithDecryption: true }));
      return Parameter ? toValue(name, Parameter) : undefined;
    } catch (error) {
      if (NOT_FOUND.has(nameOf(error) ?? '')) return undefined;
      return fail(error, `reading SSM parameter ${selector}`);
    }
  }
}

function toValue(name: string, parameter: Parameter): ParameterValue {
  return {
    name: parameter.Name ?? name,
    value: parameter.Value ?? '',
    type: (parameter.Type ?? 'String') as ParameterType,
    version: parameter.Version ?? 0,
    lastModified: parameter.LastModifiedDate ?? new Date(0),
  };
}
