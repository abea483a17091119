// LabelParameterVersion: a label names one version of a parameter at a time,
// so attaching it moves it off any other version. Bad labels are reported,
// not refused, as SSM does.

import { z } from 'zod';
import { parseInput } from '../emulator-support/request-validation.ts';
import { currentVersion } from './parameter-document.ts';
import { isValidLabel } from './parameter-names.ts';
import { parameterNotFound, ssmError } from './ssm-errors.ts';
import type { SsmOperation } from './ssm-context.ts';

const MAX_LABELS_PER_VERSION = 10;

const labelParameterVersionRequest = z.object({
  Name: z.string().min(1).max(2048),
  ParameterVersion: z.number().int().min(1).optional(),
  Labels: z.array(z.string().min(1).max(100)).min(1).max(MAX_LABELS_PER_VERSION),
});

const labelParameterVersion: SsmOperation = async (context, input) => {
  const request = parseInput(labelParameterVersionRequest, input);
  const valid = [...new Set(request.Labels.filter(isValidLabel))];
  const invalid = request.Labels.filter((label) => !isValidLabel(label));
  const version = await context.store.update(request.Name, (current) => {
    if (!current) throw parameterNotFound(request.Name);
    const targetVersion = request.ParameterVersion ?? currentVersion(current).version;
    const target = current.versions.find((candidate) => candidate.version === targetVersion);
    if (!target) {
      throw ssmError(
        'ParameterVersionNotFound',
        `Systems Manager could not find version ${targetVersion} of ${request.Name}. Verify the version and try again.`,
      );
    }
    const labels = [...new Set([...target.labels, ...valid])];
    if (labels.length > MAX_LABELS_PER_VERSION) {
      throw ssmError(
        'ParameterVersionLabelLimitExceeded',
        `A parameter version can have maximum ${MAX_LABELS_PER_VERSION} labels. Move one or more labels to another version and try again.`,
      );
    }
    const versions = current.versions.map((candidate) =>
      candidate.version === targetVersion ? { ...candidate, labels } : { ...candidate, labels: candidate.labels.filter((label) => !valid.includes(label)) },
    );
    return { write: { ...current, versions }, result: targetVersion };
  });
  return { InvalidLabels: invalid, ParameterVersion: version };
};

export const PARAMETER_LABELS: ReadonlyMap<string, SsmOperation> = new Map([['LabelParameterVersion', labelParameterVersion]]);
