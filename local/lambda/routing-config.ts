// The rules Lambda enforces on where an alias points: a published version (or
// $LATEST without weights) plus at most one more published version taking a
// weight of the traffic, for canary and linear shifting.

import { z } from 'zod';
import { lambdaError } from './lambda-errors.ts';
import type { FunctionDocument } from './function-document.ts';
import { functionArn } from './function-names.ts';
import type { LambdaScope } from './function-names.ts';
import { LATEST, findVersion } from './function-views.ts';

const MAX_ADDITIONAL_VERSIONS = 1;

export const routingConfigMember = z
  .object({
    AdditionalVersionWeights: z
      .record(z.string().regex(/^\d{1,1024}$/, 'Member must satisfy regular expression pattern: [0-9]+'), z.number().min(0).max(1))
      .optional(),
  })
  .optional();

export const functionVersionMember = z.string().regex(/^(\$LATEST|\d{1,1024})$/, 'Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)');

export function checkAliasTarget(scope: LambdaScope, document: FunctionDocument, primary: string, weights: Readonly<Record<string, number>>): void {
  if (!findVersion(document, primary)) throw lambdaError('ResourceNotFoundException', `Function not found: ${functionArn(scope, document.name, primary)}`);
  const additional = Object.keys(weights);
  if (additional.length === 0) return;
  if (additional.length > MAX_ADDITIONAL_VERSIONS) {
    throw lambdaError(
      'InvalidParameterValueException',
      `An alias can point to at most ${MAX_ADDITIONAL_VERSIONS + 1} versions: RoutingConfig names ${additional.length} additional versions.`,
    );
  }
  if (primary === LATEST) {
    throw lambdaError('InvalidParameterValueException', '$LATEST is not supported for an alias pointing to more than 1 version');
  }
  for (const version of additional) {
    if (version === primary) {
      throw lambdaError(
        'InvalidParameterValueException',
        `Invalid function version ${version}. Function version ${version} is already included in routing configuration.`,
      );
    }
    if (!findVersion(document, version)) throw lambdaError('ResourceNotFoundException', `Function not found: ${functionArn(scope, document.name, version)}`);
  }
}
