import { GetAliasCommand, ListVersionsByFunctionCommand, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import type { AliasConfiguration, LambdaClient } from '@aws-sdk/client-lambda';
import type { AliasRouting, AliasStore, SetAliasRoutingRequest } from '../core/actions/target-ports.ts';
import { ActionFailed, ConcurrentModification, StalePlan } from '../core/errors.ts';
import { failTargetCall as fail, sdkErrorName as nameOf } from './target-sdk-errors.ts';

const LATEST = '$LATEST';

/** The AliasStore port on Lambda: SDK failures become domain errors here and nowhere else. */
export class LambdaAliasStore implements AliasStore {
  readonly #lambda: LambdaClient;

  constructor(client: LambdaClient) {
    this.#lambda = client;
  }

  async getAlias(functionName: string, aliasName: string): Promise<AliasRouting | undefined> {
    try {
      const alias = await this.#lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: aliasName }));
      return toRouting(functionName, alias);
    } catch (error) {
      if (nameOf(error) === 'ResourceNotFoundException') return undefined;
      return fail(error, `reading alias ${functionName}:${aliasName}`);
    }
  }

  async listVersions(functionName: string): Promise<string[]> {
    const versions: string[] = [];
    let marker: string | undefined;
    try {
      do {
        const page = await this.#lambda.send(new ListVersionsByFunctionCommand({ FunctionName: functionName, Marker: marker }));
        for (const version of page.Versions ?? []) if (version.Version && version.Version !== LATEST) versions.push(version.Version);
        marker = page.NextMarker;
      } while (marker);
    } catch (error) {
      if (nameOf(error) === 'ResourceNotFoundException') {
        throw new ActionFailed(`Lambda function ${functionName} does not exist`, { field: 'functionName', cause: error });
      }
      return fail(error, `listing the versions of ${functionName}`);
    }
    return versions.sort((a, b) => Number(a) - Number(b));
  }

  async setRouting(request: SetAliasRoutingRequest): Promise<AliasRouting> {
    const where = `${request.functionName}:${request.aliasName}`;
    try {
      const alias = await this.#lambda.send(
        new UpdateAliasCommand({
          FunctionName: request.functionName,
          Name: request.aliasName,
          FunctionVersion: request.primaryVersion,
          // An empty RoutingConfig clears a split; omitting it would keep the old one.
          RoutingConfig: { AdditionalVersionWeights: request.additional ? { [request.additional.version]: request.additional.weight } : {} },
          RevisionId: request.expectedRevisionId,
        }),
      );
      return toRouting(request.functionName, alias);
    } catch (error) {
      switch (nameOf(error)) {
        case 'PreconditionFailedException':
          throw new StalePlan(`alias ${where} changed since it was read (revision ${request.expectedRevisionId})`, { cause: error });
        case 'ResourceConflictException':
          throw new ConcurrentModification(`alias ${where} is being updated by someone else`, { cause: error });
        case 'ResourceNotFoundException':
          throw new ActionFailed(`alias ${where} or one of its versions does not exist: ${(error as Error).message}`, { field: 'aliasName', cause: error });
        case 'InvalidParameterValueException':
        case 'ValidationException':
          throw new ActionFailed(`Lambda refused the routing for ${where}: ${(error as Error).message}`, { cause: error });
        default:
          return fail(error, `updating alias ${where}`);
      }
    }
  }
}

function toRouting(functionName: string, alias: AliasConfiguration): AliasRouting {
  const [additional] = Object.entries(alias.RoutingConfig?.AdditionalVersionWeights ?? {});
  return {
    functionName,
    aliasName: alias.Name ?? '',
    primaryVersion: alias.FunctionVersion ?? '',
    ...(additional ? { additional: { version: additional[0], weight: additional[1] } } : {}),
    revisionId: alias.RevisionId ?? '',
  };
}
